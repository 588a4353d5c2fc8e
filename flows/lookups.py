"""Looking up what gates declare they need from outside a case (states.lookups), through the
repositories, before `states/` decides."""

from __future__ import annotations

from collections.abc import Iterable

from upphandla.states.case import CaseSnapshot
from upphandla.states.lookups import Found, Lookup, Screening, SimilarContracts
from upphandla.states.thresholds import ThresholdSeries
from upphandla.store.uow import UnitOfWork


def look_up(uow: UnitOfWork, lookups: Iterable[Lookup]) -> dict[Lookup, Found]:
    found: dict[Lookup, Found] = {}
    for lookup in lookups:
        if isinstance(lookup, SimilarContracts):
            found[lookup] = uow.cases.similar_contracts(lookup)
        elif isinstance(lookup, Screening):
            found[lookup] = uow.sanctions.screened(lookup)
        elif isinstance(lookup, ThresholdSeries):
            found[lookup] = uow.thresholds.series(lookup.series)
        else:  # pragma: no cover - a new kind of lookup without a repository
            raise TypeError(f"no repository looks up {type(lookup).__name__}")
    return found


def with_lookups(uow: UnitOfWork, case: CaseSnapshot, lookups: Iterable[Lookup]) -> CaseSnapshot:
    """The snapshot with what its gates need looked up (only what it does not hold yet)."""
    missing = [lookup for lookup in lookups if lookup not in case.lookups]
    return case.with_lookups(look_up(uow, missing)) if missing else case
