"""A case as the pure domain sees it: its state, attributes and recorded evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from upphandla.states.lookups import Found, Lookup


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    kind: str
    data: Mapping[str, Any]
    recorded_at: datetime
    recorded_by: str
    role: str


@dataclass(frozen=True)
class Evidence:
    """All evidence of a case, oldest first; the latest record of a kind is the one that counts."""

    records: tuple[EvidenceRecord, ...] = ()
    _latest: dict[str, EvidenceRecord] = field(default_factory=dict, init=False, repr=False)
    _facts: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for r in self.records:
            self._latest[r.kind] = r

    @classmethod
    def of(cls, records: Iterable[EvidenceRecord]) -> Evidence:
        return cls(tuple(records))

    def latest(self, kind: str) -> EvidenceRecord | None:
        return self._latest.get(kind)

    def with_record(self, record: EvidenceRecord) -> Evidence:
        return Evidence(self.records + (record,))

    def facts(self) -> Mapping[str, Any]:
        """`kind.field` -> value of the latest record of each kind (worked out once)."""
        if not self._facts and self._latest:
            self._facts.update(
                (f"{kind}.{name}", value)
                for kind, rec in self._latest.items()
                for name, value in rec.data.items()
            )
        return self._facts


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    id: int | None
    definition_key: str
    definition_version: int
    state: str
    attributes: Mapping[str, Any]
    phase_entered_on: date
    # What was looked up outside the case for its gates (states.lookups): similar contracts of
    # the last twelve months, sanctions screenings. Plain data; gates stay pure.
    lookups: Mapping[Lookup, Found] = field(default_factory=dict)

    def facts(self, evidence: Evidence) -> dict[str, Any]:
        return {**evidence.facts(), **self.attributes}

    def with_lookups(self, found: Mapping[Lookup, Found]) -> CaseSnapshot:
        return replace(self, lookups={**self.lookups, **found})

    def found(self, lookup: Lookup) -> Any:
        """What was found for `lookup`; the use case looks up what the gates declare first."""
        try:
            return self.lookups[lookup]
        except KeyError:
            raise LookupError(f"not looked up before the gates were asked: {lookup}") from None
