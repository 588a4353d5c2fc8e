"""A case as the pure domain sees it: its state, attributes and recorded evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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

    def __post_init__(self) -> None:
        for r in self.records:
            self._latest[r.kind] = r

    @classmethod
    def of(cls, records: Iterable[EvidenceRecord]) -> Evidence:
        return cls(tuple(records))

    def latest(self, kind: str) -> EvidenceRecord | None:
        return self._latest.get(kind)

    def latest_of_each(self) -> list[EvidenceRecord]:
        return list(self._latest.values())

    def with_record(self, record: EvidenceRecord) -> Evidence:
        return Evidence(self.records + (record,))

    def facts(self) -> dict[str, Any]:
        """`kind.field` -> value of the latest record of each kind."""
        return {
            f"{kind}.{name}": value
            for kind, rec in self._latest.items()
            for name, value in rec.data.items()
        }


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    id: int | None
    definition_key: str
    definition_version: int
    state: str
    attributes: Mapping[str, Any]
    phase_entered_on: date
    # Facts from outside the case that the use-case layer looked up for its gates, e.g. similar
    # contracts of the last twelve months or sanctions-list matches; gates stay pure.
    context: Mapping[str, Any] = field(default_factory=dict)

    def facts(self, evidence: Evidence) -> dict[str, Any]:
        return {**evidence.facts(), **self.attributes}
