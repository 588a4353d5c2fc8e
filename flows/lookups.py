"""Looking up what gates declare they need from outside a case (states.lookups), through the
repositories, before `states/` decides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from upphandla.flows.organisations import organisations
from upphandla.states.case import CaseSnapshot
from upphandla.states.lookups import Found, Lookup, Screening, SimilarContract, SimilarContracts
from upphandla.states.thresholds import ThresholdSeries
from upphandla.store.uow import UnitOfWork


def look_up(
    uow: UnitOfWork, lookups: Iterable[Lookup], *, organisation: str | None = None
) -> dict[Lookup, Found]:
    """What `lookups` find, for a case of `organisation`."""
    found: dict[Lookup, Found] = {}
    for lookup in lookups:
        if isinstance(lookup, SimilarContracts):
            found[lookup] = _as_seen_from(organisation, uow.cases.similar_contracts(lookup))
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
    if not missing:
        return case
    organisation = case.attributes.get("organisation")
    return case.with_lookups(look_up(uow, missing, organisation=organisation))


def _as_seen_from(
    organisation: str | None, contracts: tuple[SimilarContract, ...]
) -> tuple[SimilarContract, ...]:
    """Similar contracts as a case of `organisation` may name them: every organisation by its
    name; the title only of its own organisation's cases (another's case counts, § 10.3, but
    what it is about is not for every reader of this case)."""
    names = organisations()
    return tuple(
        replace(
            c,
            organisation=named.name if (named := names.get(c.organisation)) else c.organisation,
            title=c.title if c.organisation == organisation else "",
        )
        for c in contracts
    )
