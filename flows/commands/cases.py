"""Use cases on a case: start, record evidence, advance, cancel.

Each writes its change, exactly one audit event and any outbox message through the caller's unit
of work; a refusal raises before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from upphandla.flows.casefile import deadlines_of, enter_phase, evidence_of, snapshot
from upphandla.flows.commands.notify import enqueue_case_message
from upphandla.flows.context import with_context
from upphandla.flows.delegation import mandate_of
from upphandla.flows.registry import Registry
from upphandla.states.attributes import CaseAttributes
from upphandla.states.case import EvidenceRecord
from upphandla.states.clock import local_date, now
from upphandla.states.deadlines import next_due_at, phase_deadlines
from upphandla.states.definition import Definition
from upphandla.states.delegation import mandate_record
from upphandla.states.engine import Decision, check_evidence, decide
from upphandla.states.errors import Forbidden, Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import problems_from
from upphandla.store import audit
from upphandla.store.casestore import fetch_case, fetch_evidence, insert_evidence, save_case
from upphandla.store.models import CaseRow
from upphandla.store.uow import UnitOfWork


@dataclass
class Recorded:
    """A piece of evidence as written."""

    id: int
    case_id: int
    kind: str
    data: dict[str, Any]
    phase: str
    recorded_by: int | None
    recorded_by_name: str
    role: str
    recorded_at: datetime
    audit_seq: int


def _without_id(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in items if k != "id"}


@dataclass(frozen=True)
class RecordedEvidence:
    row: Recorded
    title: str


def actor_payload(actor: Actor) -> dict[str, Any]:
    return {"actor": {"id": actor.user_id, "name": actor.name}, "role": actor.role}


def start_case(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    attributes: Any,
    definition_key: str,
    request_id: str | None = None,
) -> CaseRow:
    """Start a case on the newest version of a definition; the case keeps that version."""
    definition, _ = registry.latest(uow, definition_key)
    if actor.role not in definition.start_roles:
        raise Forbidden("forbidden_role", role=actor.role, what="starta ett ärende")
    return create_case(
        uow,
        definition=definition,
        actor=actor,
        attributes=attributes,
        state=definition.initial,
        action="case_started",
        request_id=request_id,
    )


def create_case(
    uow: UnitOfWork,
    *,
    definition: Definition,
    actor: Actor,
    attributes: Any,
    state: str,
    action: str,
    request_id: str | None,
) -> CaseRow:
    """Write a new case in `state` with the first event of its chain."""
    try:
        attrs = CaseAttributes.model_validate(attributes)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc, ["attributes"])) from None
    at = now()
    data = attrs.model_dump(mode="json")
    row = CaseRow(
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
        updated_at=at,
        phase_entered_at=at,
        next_due_at=next_due_at(phase_deadlines(definition, state, local_date(at))),
        next_sweep_at=at,
        audit_seq=0,
        audit_head=audit.GENESIS,
        row_version=1,
    )
    uow.s.add(row)
    uow.s.flush()  # assigns the id the audit event names
    payload = {
        **actor_payload(actor),
        "definition": {"key": definition.key, "version": definition.version},
        "from_state": None,
        "to_state": row.state,
        "attributes": data,
        "request_id": request_id,
    }
    audit.append(uow.s, row, at=at, action=action, actor_id=actor.user_id, payload=payload)
    uow.s.flush()  # the chain head, before any Core statement in this unit of work reads it
    return row


def record_evidence(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    case_id: int,
    kind: str,
    data: Any,
    request_id: str | None = None,
) -> RecordedEvidence:
    case = fetch_case(uow.s, case_id, for_update=True)
    read_version = case.row_version
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    at = now()
    evidence = evidence_of(fetch_evidence(uow.s, case.id))
    kind_spec = definition.evidence_kind.get(kind)
    clean = check_evidence(
        definition,
        with_context(uow.s, snapshot(case), evidence, local_date(at)),
        kind_id=kind,
        actor=actor,
        data=data,
        evidence=evidence,
        today=local_date(at),
        extra=mandate_record(mandate_of(actor))
        if kind_spec and kind_spec.records_mandate
        else None,
    )
    event = audit.append(
        uow.s,
        case,
        at=at,
        action="evidence_recorded",
        actor_id=actor.user_id,
        payload={
            **actor_payload(actor),
            "definition": {"key": case.definition_key, "version": case.definition_version},
            "from_state": case.state,
            "to_state": case.state,
            "evidence": {"kind": kind, "data": clean},
            "request_id": request_id,
        },
    )
    case.updated_at = at
    record = EvidenceRecord(kind, clean, at, actor.name, actor.role)
    case.next_due_at = next_due_at(deadlines_of(definition, case, evidence.with_record(record)))
    case.next_sweep_at = at  # new evidence may close a finding or move a deadline
    case.row_version = read_version + 1
    save_case(uow.s, case, read_version=read_version)
    stored = Recorded(
        id=0,
        case_id=case.id,
        kind=kind,
        data=clean,
        phase=case.state,
        recorded_by=actor.user_id,
        recorded_by_name=actor.name,
        role=actor.role,
        recorded_at=at,
        audit_seq=event.seq,
    )
    stored.id = insert_evidence(uow.s, asdict(stored, dict_factory=_without_id))
    return RecordedEvidence(stored, definition.evidence_kind[kind].title)


def advance(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    case_id: int,
    trigger: str,
    comment: str | None = None,
    request_id: str | None = None,
) -> Decision:
    """Fire a trigger if every gate holds; otherwise raise TransitionRefused with every reason."""
    case = fetch_case(uow.s, case_id, for_update=True)
    read_version = case.row_version
    definition, lifecycle = registry.get(uow, case.definition_key, case.definition_version)
    at = now()
    evidence = evidence_of(fetch_evidence(uow.s, case.id))
    decision = decide(
        definition,
        lifecycle,
        with_context(uow.s, snapshot(case), evidence, local_date(at)),
        evidence,
        trigger_id=trigger,
        actor=actor,
        today=local_date(at),
        comment=comment,
    )
    changes = enter_phase(definition, case, decision.to_state, at, evidence)
    event = audit.append(
        uow.s,
        case,
        at=at,
        action="cancelled" if trigger == "cancel" else "transition",
        actor_id=actor.user_id,
        payload={
            **actor_payload(actor),
            "definition": {"key": case.definition_key, "version": case.definition_version},
            "trigger": trigger,
            "comment": comment,
            "from_state": decision.from_state,
            "to_state": decision.to_state,
            "gates": [g.as_dict() for g in decision.gate_results],
            "changes": changes,
            "request_id": request_id,
        },
    )
    case.row_version = read_version + 1
    save_case(uow.s, case, read_version=read_version)
    notify = definition.trigger[trigger].notify
    if notify:
        enqueue_case_message(
            uow,
            case=case,
            recipients=notify,
            event_seq=event.seq,
            template="case_advanced",
            context={
                "trigger": trigger,
                "from_phase": definition.phase[decision.from_state].title,
                "to_phase": definition.phase[decision.to_state].title,
                "actor": actor.name,
                "comment": comment,
            },
            at=at,
        )
    return decision


def cancel(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    case_id: int,
    reason: str,
    request_id: str | None = None,
) -> Decision:
    """Cancel a case before signing; the reason is mandatory and lands in the audit trail."""
    return advance(
        uow,
        registry=registry,
        actor=actor,
        case_id=case_id,
        trigger="cancel",
        comment=reason,
        request_id=request_id,
    )
