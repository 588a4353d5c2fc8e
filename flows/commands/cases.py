"""Commands on a case: start, record evidence, advance, cancel.

Each writes its change, exactly one audit event and any outbox message through the unit of work
it is handed; a refusal raises before anything is written. Outside facts that the gates declare
they need are looked up first (flows.lookups); `states/` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from upphandla.flows.access import check_may, owning_organisation
from upphandla.flows.casefile import (
    deadlines_of,
    definition_ref,
    enter_phase,
    snapshot,
)
from upphandla.flows.commands.notify import enqueue_case_message
from upphandla.flows.commands.sealed import assigned_user, record_sealed
from upphandla.flows.delegation import mandate_of
from upphandla.flows.lookups import with_lookups
from upphandla.flows.registry import Registry
from upphandla.states.access_policy import sealed_kinds
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import Evidence
from upphandla.states.clock import local_date, now
from upphandla.states.deadlines import next_due_at, phase_deadlines
from upphandla.states.definition import Definition
from upphandla.states.delegation import mandate_record
from upphandla.states.engine import (
    Decision,
    candidate_lookups,
    decide,
    evidence_candidate,
    refuse_blocked,
    trigger_lookups,
)
from upphandla.states.errors import Forbidden, Invalid
from upphandla.states.events import CANCEL_TRIGGER, CaseStarted, EvidenceRecorded, Transitioned
from upphandla.states.roles import Actor
from upphandla.states.validation import problems_from
from upphandla.store.audit import GENESIS
from upphandla.store.records import StoredCase, StoredEvidence
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class CaseRef:
    case_id: int


@dataclass(frozen=True)
class RecordedEvidence:
    evidence: StoredEvidence
    title: str  # of its kind
    notes: tuple[str, ...] = ()  # what the kind's own gates said as they passed

    @property
    def case_id(self) -> int:
        return self.evidence.case_id


@dataclass(frozen=True, kw_only=True)
class StartCase:
    """Start a case on the newest version of a definition; the case keeps that version."""

    actor: Actor
    attributes: Any  # as sent; validated here
    definition_key: str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> CaseRef:
        definition, _ = registry.latest(uow, self.definition_key)
        if self.actor.role not in definition.start_roles:
            raise Forbidden("forbidden_role", role=self.actor.role, what="starta ett ärende")
        case = create_case(
            uow,
            definition=definition,
            actor=self.actor,
            attributes=self.attributes,
            state=definition.initial,
            imported=False,
            request_id=self.request_id,
        )
        return CaseRef(case.id)


@dataclass(frozen=True, kw_only=True)
class RecordEvidence:
    actor: Actor
    case_id: int
    kind: str
    data: Any  # as sent; validated against the kind's fields
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> RecordedEvidence:
        return record_evidence(uow, self, registry)


@dataclass(frozen=True, kw_only=True)
class Advance:
    """Fire a trigger if every gate holds; otherwise TransitionRefused with every reason."""

    actor: Actor
    case_id: int
    trigger: str
    comment: str | None = None
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> Decision:
        return advance(uow, self, registry)


@dataclass(frozen=True, kw_only=True)
class Cancel:
    """Cancel a case before signing; the reason is mandatory and lands in the audit trail."""

    actor: Actor
    case_id: int
    reason: str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> Decision:
        command = Advance(
            actor=self.actor,
            case_id=self.case_id,
            trigger=CANCEL_TRIGGER,
            comment=self.reason,
            request_id=self.request_id,
        )
        return advance(uow, command, registry)


def create_case(
    uow: UnitOfWork,
    *,
    definition: Definition,
    actor: Actor,
    attributes: Any,
    state: str,
    imported: bool,
    request_id: str | None,
) -> StoredCase:
    """Write a new case in `state` with the first event of its chain, for the organisation the
    access policy gives it."""
    attributes = owning_organisation(definition, actor, attributes)
    try:
        attrs = CaseAttributes.model_validate(attributes)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc, ["attributes"])) from None
    at = now()
    data = attrs.model_dump(mode="json")
    case = uow.cases.add(
        definition_key=definition.key,
        definition_version=definition.version,
        state=state,
        title=attrs.title,
        organisation=attrs.organisation,
        subcategory=attrs.subcategory,
        route=attrs.route,
        attributes=data,
        created_by=actor.user_id,
        created_at=at,
        phase_entered_at=at,
        next_due_at=next_due_at(phase_deadlines(definition, state, local_date(at))),
        next_sweep_at=at,
        updated_at=at,
        audit_seq=0,
        audit_head=GENESIS,
    )
    event = CaseStarted(
        actor=actor,
        definition=definition_ref(case),
        from_state=None,
        to_state=state,
        request_id=request_id,
        attributes=data,
        imported=imported,
    )
    uow.audit.append(case, event, at=at)
    uow.cases.save(case)
    return case


def record_evidence(uow: UnitOfWork, cmd: RecordEvidence, registry: Registry) -> RecordedEvidence:
    check_may(uow, registry, cmd.actor, cmd.case_id, "record")
    case, records = uow.cases.get_for_change(cmd.case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    policy = definition.access
    if cmd.kind in sealed_kinds(policy):
        stored = record_sealed(
            uow,
            definition=definition,
            case=case,
            records=records,
            actor=cmd.actor,
            kind=cmd.kind,
            data=cmd.data,
            request_id=cmd.request_id,
        )
        return RecordedEvidence(stored, definition.evidence_kind[cmd.kind].title)
    at = now()
    today = local_date(at)
    evidence = Evidence(records)
    kind_spec = definition.evidence_kind.get(cmd.kind)
    signs = kind_spec is not None and kind_spec.records_mandate
    snap = snapshot(case)
    candidate = evidence_candidate(
        definition,
        snap,
        kind_id=cmd.kind,
        actor=cmd.actor,
        data=cmd.data,
        evidence=evidence,
        at=at,
        extra=mandate_record(mandate_of(cmd.actor)) if signs else None,
    )
    snap = with_lookups(uow, snap, candidate_lookups(definition, snap, candidate, today=today))
    results = refuse_blocked(definition, snap, candidate, today=today)
    event = EvidenceRecorded(
        actor=cmd.actor,
        definition=definition_ref(case),
        from_state=case.state,
        to_state=case.state,
        request_id=cmd.request_id,
        kind=cmd.kind,
        data=candidate.data,
    )
    if policy is not None and policy.assignment and cmd.kind == policy.assignment.kind:
        case.assigned_to = assigned_user(uow, policy.assignment, candidate.data)
    appended = uow.audit.append(case, event, at=at)
    case.updated_at = at
    case.next_due_at = next_due_at(deadlines_of(definition, case, candidate.evidence))
    case.next_sweep_at = at  # new evidence may close a finding or move a deadline
    uow.cases.save(case, evidence=candidate.evidence.records)
    stored = uow.evidence.add(
        case_id=case.id,
        kind=cmd.kind,
        data=candidate.data,
        phase=case.state,
        recorded_by=cmd.actor.user_id,
        recorded_by_name=cmd.actor.name,
        role=cmd.actor.role,
        recorded_at=at,
        audit_seq=appended.seq,
    )
    notes = tuple(n for r in results for n in r.notes)
    return RecordedEvidence(stored, definition.evidence_kind[cmd.kind].title, notes)


def advance(uow: UnitOfWork, cmd: Advance, registry: Registry) -> Decision:
    check_may(uow, registry, cmd.actor, cmd.case_id, "advance")
    case, records = uow.cases.get_for_change(cmd.case_id)
    definition, lifecycle = registry.get(uow, case.definition_key, case.definition_version)
    at = now()
    today = local_date(at)
    evidence = Evidence(records)
    snap = snapshot(case)
    lookups = trigger_lookups(definition, snap, evidence, trigger_id=cmd.trigger, today=today)
    decision = decide(
        definition,
        lifecycle,
        with_lookups(uow, snap, lookups),
        evidence,
        trigger_id=cmd.trigger,
        actor=cmd.actor,
        today=today,
        comment=cmd.comment,
    )
    changes = enter_phase(definition, case, decision.to_state, at, evidence)
    event = Transitioned(
        actor=cmd.actor,
        definition=definition_ref(case),
        from_state=decision.from_state,
        to_state=decision.to_state,
        request_id=cmd.request_id,
        trigger=cmd.trigger,
        comment=cmd.comment,
        gates=decision.gate_results,
        changes=changes,
    )
    appended = uow.audit.append(case, event, at=at)
    uow.cases.save(case)
    notify = definition.trigger[cmd.trigger].notify
    if notify:
        enqueue_case_message(
            uow,
            case=case,
            recipients=notify,
            event_seq=appended.seq,
            template="case_advanced",
            context={
                "trigger": cmd.trigger,
                "from_phase": definition.phase[decision.from_state].title,
                "to_phase": definition.phase[decision.to_state].title,
                "actor": cmd.actor.name,
                "comment": cmd.comment,
            },
            at=at,
        )
    return decision
