"""Sealed evidence (bids, OSL 19 kap. 3 § andra stycket) and the case's assigned upphandlare.

A bid is recorded by the case's assigned upphandlare into the case's sealed chain: the case's
own row, version, chain, lists and e-mails do not change, so nothing shows that it exists. Until
the evidence that unseals it (the award decision) is recorded, only the assigned upphandlare sees
it, and every such read is itself an event in the sealed chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.access import check_may
from upphandla.flows.casefile import definition_ref, snapshot
from upphandla.flows.registry import Registry
from upphandla.states.access_policy import Assignment
from upphandla.states.case import Evidence, EvidenceRecord
from upphandla.states.clock import now
from upphandla.states.definition import Definition
from upphandla.states.engine import evidence_candidate
from upphandla.states.errors import Forbidden, Invalid
from upphandla.states.events import EvidenceRecorded, SealedRead
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.records import StoredCase, StoredEvidence
from upphandla.store.uow import UnitOfWork


def record_sealed(
    uow: UnitOfWork,
    *,
    definition: Definition,
    case: StoredCase,
    records: tuple[EvidenceRecord, ...],
    actor: Actor,
    kind: str,
    data: Any,
    request_id: str | None,
) -> StoredEvidence:
    """Record a sealed piece of evidence (the case row is locked by the caller)."""
    spec = definition.evidence_kind[kind]
    if actor.user_id is None or case.assigned_to != actor.user_id:
        raise Forbidden("sealed_not_assigned", kind=spec.title)
    at = now()
    candidate = evidence_candidate(
        definition,
        snapshot(case),
        kind_id=kind,
        actor=actor,
        data=data,
        evidence=Evidence(records),
        at=at,
    )
    event = EvidenceRecorded(
        actor=actor,
        definition=definition_ref(case),
        from_state=case.state,
        to_state=case.state,
        request_id=request_id,
        kind=kind,
        data=candidate.data,
    )
    appended = uow.sealed.append(case.id, event, at=at)
    return uow.evidence.add(
        case_id=case.id,
        kind=kind,
        data=candidate.data,
        phase=case.state,
        recorded_by=actor.user_id,
        recorded_by_name=actor.name,
        role=actor.role,
        recorded_at=at,
        audit_seq=appended.seq,
        sealed=True,
    )


def assigned_user(uow: UnitOfWork, assignment: Assignment, data: dict[str, Any]) -> int:
    """The id of the person an assignment record names: an active user with the right role."""
    email = str(data.get(assignment.field, "")).strip()
    user = uow.users.by_email(email)
    if user is None or not user.active or user.role != assignment.role:
        raise Invalid(
            "invalid_attributes",
            [
                Problem(
                    f"data.{assignment.field}",
                    f"ingen aktiv användare med rollen ”{assignment.role}” har adressen {email}",
                )
            ],
        )
    return user.id


@dataclass(frozen=True, kw_only=True)
class LogSealedRead:
    """Record that `actor` read sealed evidence of the case before it was unsealed."""

    actor: Actor
    case_id: int
    kinds: tuple[str, ...]
    count: int
    through: str
    request_id: str | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> None:
        check_may(uow, registry, self.actor, self.case_id, "read")
        case, _ = uow.cases.get_for_change(self.case_id)
        event = SealedRead(
            actor=self.actor,
            definition=definition_ref(case),
            from_state=case.state,
            to_state=case.state,
            request_id=self.request_id,
            kinds=self.kinds,
            count=self.count,
            through=self.through,
        )
        uow.sealed.append(case.id, event, at=now())
