"""Domain errors. Each carries a Swedish title and detail from the text catalogue and a kind the
edge maps to an HTTP status or an exit code."""

from __future__ import annotations

from typing import Any

from upphandla.states.gates import Reason
from upphandla.states.texts import text, unmet
from upphandla.states.validation import Problem


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

    def __init__(self) -> None:
        super().__init__("unauthenticated")


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


class EvidenceRefused(Conflict):
    """The evidence's own gates refused it (e.g. an amendment too large for its legal ground)."""

    def __init__(self, kind: str, reasons: list[Reason]):
        super().__init__("evidence_refused", kind=kind, unmet=unmet(len(reasons)))
        self.kind_id = kind
        self.reasons = reasons

    def extra(self) -> dict[str, Any]:
        return {"kind": self.kind_id, "reasons": [r.as_dict() for r in self.reasons]}


class TransitionRefused(Conflict):
    """Gates blocked the transition; carries every failing gate's reason and source."""

    def __init__(self, trigger: str, reasons: list[Reason]):
        super().__init__("transition_refused", trigger=trigger, unmet=unmet(len(reasons)))
        self.trigger = trigger
        self.reasons = reasons

    def extra(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "reasons": [r.as_dict() for r in self.reasons]}
