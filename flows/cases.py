"""Use cases on a case: start, record evidence, advance, cancel.

Each writes its change, exactly one audit event and any outbox message through the caller's unit
of work; a refusal raises before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from flows.casefile import enter_phase, evidence_of, load_case, load_evidence, snapshot
from flows.outbox import enqueue_case_message
from flows.registry import Registry
from states.attributes import CaseAttributes
from states.clock import local_date, now
from states.deadlines import next_due_at, phase_deadlines
from states.engine import Decision, check_evidence, decide
from states.errors import Forbidden, Invalid
from states.roles import Actor
from states.validation import problems_from
from store import audit
from store.models import CaseRow, EvidenceRow
from store.uow import UnitOfWork


@dataclass(frozen=True)
class RecordedEvidence:
    row: EvidenceRow
    title: str


def _actor_payload(actor: Actor) -> dict[str, Any]:
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
    try:
        attrs = CaseAttributes.model_validate(attributes)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc, ["attributes"])) from None
    definition, _ = registry.latest(uow, definition_key)
    if actor.role not in definition.start_roles:
        raise Forbidden("forbidden_role", role=actor.role, what="starta ett ärende")
    at = now()
    data = attrs.model_dump(mode="json")
    row = CaseRow(
        definition_key=definition.key,
        definition_version=definition.version,
        state=definition.initial,
        title=attrs.title,
        organisation=attrs.organisation,
        subcategory=attrs.subcategory,
        route=attrs.route,
        attributes=data,
        created_by=actor.user_id,
        created_at=at,
        updated_at=at,
        phase_entered_at=at,
        next_due_at=next_due_at(phase_deadlines(definition, definition.initial, local_date(at))),
        audit_seq=0,
        audit_head=audit.GENESIS,
        row_version=1,
    )
    uow.s.add(row)
    uow.s.flush()  # assigns the id the audit event names
    payload = {
        **_actor_payload(actor),
        "definition": {"key": definition.key, "version": definition.version},
        "from_state": None,
        "to_state": row.state,
        "attributes": data,
        "request_id": request_id,
    }
    audit.append(uow.s, row, at=at, action="case_started", actor_id=actor.user_id, payload=payload)
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
    row = load_case(uow.s, case_id, for_update=True)
    definition, _ = registry.get(uow, row.definition_key, row.definition_version)
    clean = check_evidence(definition, snapshot(row), kind_id=kind, actor=actor, data=data)
    at = now()
    row.updated_at = at
    row.row_version += 1
    event = audit.append(
        uow.s,
        row,
        at=at,
        action="evidence_recorded",
        actor_id=actor.user_id,
        payload={
            **_actor_payload(actor),
            "definition": {"key": row.definition_key, "version": row.definition_version},
            "from_state": row.state,
            "to_state": row.state,
            "evidence": {"kind": kind, "data": clean},
            "request_id": request_id,
        },
    )
    evidence = EvidenceRow(
        case_id=row.id,
        kind=kind,
        data=clean,
        phase=row.state,
        recorded_by=actor.user_id,
        recorded_by_name=actor.name,
        role=actor.role,
        recorded_at=at,
        audit_seq=event.seq,
    )
    uow.s.add(evidence)
    return RecordedEvidence(evidence, definition.evidence_kind[kind].title)


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
    row = load_case(uow.s, case_id, for_update=True)
    definition, lifecycle = registry.get(uow, row.definition_key, row.definition_version)
    at = now()
    decision = decide(
        definition,
        lifecycle,
        snapshot(row),
        evidence_of(load_evidence(uow.s, row.id)),
        trigger_id=trigger,
        actor=actor,
        today=local_date(at),
        comment=comment,
    )
    changes = enter_phase(definition, row, decision.to_state, at)
    event = audit.append(
        uow.s,
        row,
        at=at,
        action="cancelled" if trigger == "cancel" else "transition",
        actor_id=actor.user_id,
        payload={
            **_actor_payload(actor),
            "definition": {"key": row.definition_key, "version": row.definition_version},
            "trigger": trigger,
            "comment": comment,
            "from_state": decision.from_state,
            "to_state": decision.to_state,
            "gates": [g.as_dict() for g in decision.gate_results],
            "changes": changes,
            "request_id": request_id,
        },
    )
    enqueue_case_message(
        uow,
        case=row,
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
