"""Domain errors. Each carries a Swedish title and detail from the text catalogue and a kind the
edge maps to an HTTP status or an exit code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from upphandla.states.gates import Reason
from upphandla.states.texts import text, unmet
from upphandla.states.validation import Problem

if TYPE_CHECKING:
    from upphandla.states.remedies import EvidenceNeed


class DomainError(Exception):
    kind = "conflict"  # one of: conflict, forbidden, not_found, invalid

    def __init__(self, key: str, /, **values: Any):
        self.key = key
        self.title, self.detail = text(key, **values)
        super().__init__(self.detail)

    def extra(self) -> dict[str, Any]:
        return {}


class NotFound(DomainError):
    kind = "not_found"


class Forbidden(DomainError):
    kind = "forbidden"


class Unauthenticated(DomainError):
    """No valid access token came with the request."""

    kind = "unauthenticated"

    def __init__(self, key: str = "unauthenticated", /, **values: Any) -> None:
        super().__init__(key, **values)


class TooManyAttempts(DomainError):
    """Too many failed sign-ins from one address: refused, before any token is looked up,
    until `retry_after` seconds have passed."""

    kind = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__("too_many_attempts", seconds=retry_after)
        self.retry_after = retry_after


class Invalid(DomainError):
    kind = "invalid"

    def __init__(self, key: str, problems: list[Problem], /, **values: Any):
        super().__init__(key, **values)
        self.problems = problems

    def extra(self) -> dict[str, Any]:
        return {"errors": [p.as_dict() for p in self.problems]}


class Conflict(DomainError):
    kind = "conflict"


class Unavailable(DomainError):
    """The database could not do the work now (busy, or out of reach); try again shortly."""

    kind = "unavailable"


def _reasons(
    reasons: list[Reason], needs: Mapping[str, tuple[EvidenceNeed, ...]]
) -> list[dict[str, Any]]:
    """Each reason with the evidence that would lift its gate (states.remedies)."""
    return [
        {**r.as_dict(), "evidence": [n.as_dict() for n in needs.get(r.gate, ())]} for r in reasons
    ]


class EvidenceRefused(Conflict):
    """The evidence's own gates refused it (e.g. an amendment too large for its legal ground).
    `details` is more the caller knows, e.g. what a new requirement list would change."""

    def __init__(
        self,
        kind: str,
        reasons: list[Reason],
        needs: Mapping[str, tuple[EvidenceNeed, ...]] | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__("evidence_refused", kind=kind, unmet=unmet(len(reasons)))
        self.kind_id = kind
        self.reasons = reasons
        self.needs = dict(needs or {})
        self.details = dict(details or {})

    def with_details(self, **details: Any) -> EvidenceRefused:
        return EvidenceRefused(self.kind_id, self.reasons, self.needs, {**self.details, **details})

    def extra(self) -> dict[str, Any]:
        return {"kind": self.kind_id, "reasons": _reasons(self.reasons, self.needs), **self.details}


class TransitionRefused(Conflict):
    """Gates blocked the transition; carries every failing gate's reason and source, and for
    each what would lift it."""

    def __init__(
        self,
        trigger: str,
        reasons: list[Reason],
        needs: Mapping[str, tuple[EvidenceNeed, ...]] | None = None,
    ):
        super().__init__("transition_refused", trigger=trigger, unmet=unmet(len(reasons)))
        self.trigger = trigger
        self.reasons = reasons
        self.needs = dict(needs or {})

    def extra(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "reasons": _reasons(self.reasons, self.needs)}


class UnknownEvidenceKind(NotFound):
    """No such kind in the case's definition; lists what may be recorded in its phase."""

    def __init__(self, kind: str, definition: str, state: str, kinds: tuple[EvidenceNeed, ...]):
        names = ", ".join(k.kind for k in kinds) or "inga"
        super().__init__(
            "unknown_evidence_kind", kind=kind, definition=definition, state=state, kinds=names
        )
        self.kinds = kinds

    def extra(self) -> dict[str, Any]:
        return {"kinds": [k.as_dict() for k in self.kinds]}


class PreconditionFailed(DomainError):
    """The case has moved on from the version the caller named (If-Match); nothing written."""

    kind = "precondition_failed"

    def __init__(self) -> None:
        super().__init__("precondition_failed")
