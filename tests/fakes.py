"""Stand-ins for the store in tests of the pure domain and of the use cases.

- `ContextLookups(context)`: what the use-case layer would look up for the gates (similar
  contracts, sanctions screenings, threshold amounts), answered from a fixed description, so a
  test can give a case snapshot the outside facts it wants.
- `FakeUnitOfWork(FakeStore())`: the repositories the case commands use, in memory, committed
  or thrown away like a transaction; with `Handler(lambda write: FakeUnitOfWork(store))` the
  use cases run without a database.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from upphandla.states.access import CaseScope
from upphandla.states.case import EvidenceRecord
from upphandla.states.errors import Conflict, NotFound
from upphandla.states.events import AuditEvent, payload
from upphandla.states.lookups import (
    Found,
    Lookup,
    Screened,
    Screening,
    ScreeningHit,
    SimilarContract,
    SimilarContracts,
)
from upphandla.states.thresholds import ThresholdEntry, ThresholdSeries
from upphandla.store.audit import Appended
from upphandla.store.records import StoredCase, StoredDefinition, StoredEvidence, StoredUser

# The amounts seeds/thresholds.yaml ships (states.thresholds), for checks that ask for a series.
SHIPPED_THRESHOLDS: dict[str, tuple[ThresholdEntry, ...]] = {
    "direct_award": (
        ThresholdEntry("direct_award", date(2022, 2, 1), None, 700_000, "LOU 19 a kap. 1 §"),
    ),
    "eu_goods_services": (
        ThresholdEntry(
            "eu_goods_services",
            date(2024, 1, 1),
            date(2025, 12, 31),
            2_389_585,
            "Delegerad förordning (EU) 2023/2495",
        ),
    ),
}


class ContextLookups(Mapping[Lookup, Found]):
    """Answers every lookup from `context`:

    - "similar_contracts": [{case_id, title, organisation, value_sek, signed_on, value_title?}]
      (already the ones counted: signed in the period or in progress);
    - "thresholds": {series: [ThresholdEntry]}; a series not given is the shipped one;
    - "sanctions" or "supplier_sanctions": {list_date, list_checksum?, hits: [{party,
      listed_name, reference?, match? (exact), score?}]}; a screening finds the hits of the
      parties it asks about. Without either, no list is loaded."""

    def __init__(self, context: Mapping[str, Any] | None = None) -> None:
        self.context = dict(context or {})

    def __getitem__(self, lookup: Lookup) -> Found:
        if isinstance(lookup, SimilarContracts):
            return tuple(SimilarContract(**c) for c in self.context.get("similar_contracts", []))
        if isinstance(lookup, ThresholdSeries):
            given = self.context.get("thresholds", {})
            return tuple(given.get(lookup.series, SHIPPED_THRESHOLDS.get(lookup.series, ())))
        if isinstance(lookup, Screening):
            screening = self.context.get("sanctions") or self.context.get("supplier_sanctions")
            if not screening:
                return Screened(None, None, ())
            asked = {p.name for p in lookup.parties}
            hits = tuple(
                ScreeningHit(
                    h["party"],
                    h["listed_name"],
                    h.get("reference"),
                    h.get("match", "exact"),
                    h.get("score"),
                )
                for h in screening.get("hits", [])
                if h["party"] in asked
            )
            return Screened(screening.get("list_date"), screening.get("list_checksum"), hits)
        raise KeyError(lookup)

    def __iter__(self) -> Iterator[Lookup]:
        return iter(())

    def __len__(self) -> int:
        return 0


# -- an in-memory unit of work ---------------------------------------------------------------


# The attributes of a case for the pure tests: an advertised Verksamhetssystem of 4 000 000 kr.
BASE_ATTRIBUTES: dict[str, Any] = {
    "title": "Nytt verksamhetssystem för socialtjänsten",
    "organisation": "Socialförvaltningen",
    "subcategory": "Verksamhetssystem",
    "route": "annonserad",
    "estimated_value_sek": 4_000_000,
    "personal_data": False,
    "citizen_facing": False,
    "critical_service": False,
    "uses_ai": False,
    "cloud_service": False,
    "consultants": False,
    "hardware": False,
}


@dataclass
class FakeStore:
    """What the fake units of work share, like a database: committed rows only."""

    cases: dict[int, StoredCase] = field(default_factory=dict)
    logs: dict[int, tuple[EvidenceRecord, ...]] = field(default_factory=dict)  # evidence_log
    evidence: list[StoredEvidence] = field(default_factory=list)
    events: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # case, seq, body
    outbox: list[dict[str, Any]] = field(default_factory=list)
    users: list[StoredUser] = field(default_factory=list)
    definitions: dict[tuple[str, int], StoredDefinition] = field(default_factory=dict)
    similar: tuple[SimilarContract, ...] = ()  # what a lookup of similar contracts finds
    looked_up: list[Lookup] = field(default_factory=list)  # every lookup asked, in order
    commits: int = 0


class FakeCases:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow
        self.versions: dict[int, int] = {}

    def get(self, case_id: int, *, for_update: bool = False) -> StoredCase:
        case = self._uow.data.cases.get(case_id)
        if case is None:
            raise NotFound("case_not_found", case_id=case_id)
        return copy.deepcopy(case)

    def add(self, **values: Any) -> StoredCase:
        case_id = max(self._uow.data.cases, default=0) + 1
        case = StoredCase(id=case_id, row_version=0, **values)
        self._uow.data.cases[case_id] = copy.deepcopy(case)
        self.versions[case_id] = 0
        return case

    def get_for_change(self, case_id: int) -> tuple[StoredCase, tuple[EvidenceRecord, ...]]:
        return self.get(case_id), self._uow.data.logs.get(case_id, ())

    def is_visible(self, case_id: int, scope: CaseScope) -> bool:
        """The store's predicate (store.scope.visible_cases), for the cases in memory."""
        case = self._uow.data.cases.get(case_id)
        if case is None:
            return False
        acted = any(
            c == case_id and b["actor"]["id"] == scope.user_id for c, _, b in self._uow.data.events
        )
        return (
            scope.every_case
            or (scope.own_cases and case.created_by == scope.user_id)
            or (scope.organisation is not None and case.organisation == scope.organisation)
            or (
                scope.participant
                and (
                    case.state in scope.participant_phases
                    or case.assigned_to == scope.user_id
                    or acted
                )
            )
        )

    def get_visible(self, case_id: int, scope: CaseScope) -> StoredCase:
        if not self.is_visible(case_id, scope):
            raise NotFound("case_not_found", case_id=case_id)
        return self.get(case_id)

    def save(self, case: StoredCase, *, evidence: Iterable[EvidenceRecord] | None = None) -> None:
        read_version = self.versions.get(case.id, case.row_version)
        if self._uow.data.cases[case.id].row_version != read_version:
            raise Conflict("concurrent_change")
        case.row_version = read_version + 1
        self._uow.data.cases[case.id] = copy.deepcopy(case)
        if evidence is not None:
            self._uow.data.logs[case.id] = tuple(evidence)
        self.versions[case.id] = case.row_version

    def similar_contracts(self, lookup: SimilarContracts) -> tuple[SimilarContract, ...]:
        self._uow.store.looked_up.append(lookup)  # kept even when rolled back
        return self._uow.data.similar


class FakeEvidence:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def of_case(self, case_id: int, *, sealed: bool = False) -> list[StoredEvidence]:
        return [e for e in self._uow.data.evidence if e.case_id == case_id and e.sealed == sealed]

    def add(self, **values: Any) -> StoredEvidence:
        stored = StoredEvidence(id=len(self._uow.data.evidence) + 1, **values)
        self._uow.data.evidence.append(stored)
        return stored


class FakeAudit:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def append(self, case: Any, event: AuditEvent, *, at: datetime) -> Appended:
        seq = case.audit_seq + 1
        body = {**payload(event), "case_id": case.id, "seq": seq, "action": event.action}
        self._uow.data.events.append((case.id, seq, body))
        case.audit_seq, case.audit_head = seq, f"{seq:064d}"
        return Appended(seq, case.audit_head)


class FakeOutbox:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, **values: Any) -> None:
        self._uow.data.outbox.append(values)


class FakeUsers:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def emails(self, *, user_ids: list[int], roles: list[str]) -> list[str]:
        return sorted(
            {u.email for u in self._uow.data.users if u.id in user_ids or u.role in roles}
        )


class FakeDefinitions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def get(self, key: str, version: int) -> StoredDefinition | None:
        return self._uow.data.definitions.get((key, version))

    def latest_version(self, key: str) -> int | None:
        return max((v for k, v in self._uow.data.definitions if k == key), default=None)


class FakeSanctions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def screened(self, lookup: Screening) -> Screened:
        self._uow.store.looked_up.append(lookup)  # kept even when rolled back
        return Screened(None, None, ())


class FakeThresholds:
    """The shipped threshold amounts (SHIPPED_THRESHOLDS)."""

    def series(self, name: str) -> tuple[ThresholdEntry, ...]:
        return SHIPPED_THRESHOLDS.get(name, ())


class FakeUnitOfWork:
    """The repositories the case commands use, in memory. Work is done on a copy of the
    store's rows; `commit()` makes it the store's, leaving without a commit throws it away."""

    def __init__(self, store: FakeStore, *, write: bool = True) -> None:
        self.store = store
        self.data = store
        self.cases = FakeCases(self)
        self.evidence = FakeEvidence(self)
        self.audit = FakeAudit(self)
        self.outbox = FakeOutbox(self)
        self.users = FakeUsers(self)
        self.definitions = FakeDefinitions(self)
        self.sanctions = FakeSanctions(self)
        self.thresholds = FakeThresholds()

    def __enter__(self) -> FakeUnitOfWork:
        self.data = copy.deepcopy(self.store)
        return self

    def __exit__(self, *exc: object) -> None:
        self.data = self.store

    def commit(self) -> None:
        committed = self.data
        committed.commits += 1
        self.store.__dict__.update(copy.deepcopy(committed.__dict__))
