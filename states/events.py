"""Audit events: what one change of a case records, typed, and serialised in one place.

Every event names who acted (and in which role), the definition version the case follows, the
phase before and after, and the request it came from, plus what is particular to its kind. The
store adds the case, the sequence number, the time and the chain (store.audit); `payload` is the
only place an event becomes data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upphandla.states.gates import GateResult
from upphandla.states.roles import Actor

CASE_STARTED = "case_started"
CONTRACT_IMPORTED = "contract_imported"
EVIDENCE_RECORDED = "evidence_recorded"
TRANSITION = "transition"
CANCELLED = "cancelled"
REMINDERS_QUEUED = "reminders_queued"
FINDING_RAISED = "finding_raised"
FINDING_CLOSED = "finding_closed"
SEALED_READ = "sealed_read"
CANCEL_TRIGGER = "cancel"


@dataclass(frozen=True, slots=True)
class DefinitionRef:
    key: str
    version: int


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    actor: Actor
    definition: DefinitionRef
    from_state: str | None
    to_state: str
    request_id: str | None = None

    @property
    def action(self) -> str:
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """What this kind of event records beyond the common fields."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class CaseStarted(AuditEvent):
    attributes: Mapping[str, Any]
    imported: bool = False  # an existing contract registered straight into förvaltning

    @property
    def action(self) -> str:
        return CONTRACT_IMPORTED if self.imported else CASE_STARTED

    def details(self) -> dict[str, Any]:
        return {"attributes": dict(self.attributes)}


@dataclass(frozen=True, kw_only=True)
class EvidenceRecorded(AuditEvent):
    kind: str
    data: Mapping[str, Any]

    @property
    def action(self) -> str:
        return EVIDENCE_RECORDED

    def details(self) -> dict[str, Any]:
        return {"evidence": {"kind": self.kind, "data": dict(self.data)}}


@dataclass(frozen=True, kw_only=True)
class Transitioned(AuditEvent):
    trigger: str
    comment: str | None
    gates: Sequence[GateResult]
    changes: Mapping[str, Any]

    @property
    def action(self) -> str:
        return CANCELLED if self.trigger == CANCEL_TRIGGER else TRANSITION

    def details(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "comment": self.comment,
            "gates": [g.as_dict() for g in self.gates],
            "changes": dict(self.changes),
        }


@dataclass(frozen=True, kw_only=True)
class RemindersQueued(AuditEvent):
    reminders: Sequence[Mapping[str, Any]]

    @property
    def action(self) -> str:
        return REMINDERS_QUEUED

    def details(self) -> dict[str, Any]:
        return {"reminders": [dict(r) for r in self.reminders]}


@dataclass(frozen=True, kw_only=True)
class FindingChanged(AuditEvent):
    key: str
    title: str
    opened: bool
    message: str | None = None
    source: str | None = None

    @property
    def action(self) -> str:
        return FINDING_RAISED if self.opened else FINDING_CLOSED

    def details(self) -> dict[str, Any]:
        finding: dict[str, Any] = {"key": self.key, "title": self.title}
        if self.opened:
            finding |= {"message": self.message, "source": self.source}
        return {"finding": finding}


@dataclass(frozen=True, kw_only=True)
class SealedRead(AuditEvent):
    """Someone read a case's sealed evidence (bids) before it was unsealed (OSL 19 kap. 3 §):
    which records, and through what."""

    kinds: Sequence[str]
    count: int
    through: str  # e.g. "ärendet", "granskningsloggen"

    @property
    def action(self) -> str:
        return SEALED_READ

    def details(self) -> dict[str, Any]:
        return {"sealed_read": {"kinds": list(self.kinds), "count": self.count, "through": self.through}}


def payload(event: AuditEvent) -> dict[str, Any]:
    """The event as the data its chain hashes (the store adds case, seq, time and chain)."""
    return {
        "actor": {"id": event.actor.user_id, "name": event.actor.name},
        "role": event.actor.role,
        "definition": {"key": event.definition.key, "version": event.definition.version},
        "from_state": event.from_state,
        "to_state": event.to_state,
        "request_id": event.request_id,
        **event.details(),
    }
