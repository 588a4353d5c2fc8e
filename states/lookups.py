"""Facts from outside a case that some gates need: what to look up, and what was found.

A check that needs an outside fact declares it: given its parameters and the case, it names a
`Lookup` (plain, hashable data). The use case looks up exactly those through the store before
calling the gates, and hands the results over in the case snapshot (`CaseSnapshot.lookups`), so
every gate stays a pure function of its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from upphandla.states.thresholds import ThresholdEntry, ThresholdSeries


@dataclass(frozen=True, slots=True)
class SimilarContracts:
    """Contracts of other cases on the same route and subcategory, signed (the `signed_kind`
    record's `signed_on`) from `since` to `until`, in any organisation: since 2020 the
    municipality is one contracting authority (§ 10.3)."""

    subcategory: str
    route: str
    signed_kind: str
    since: date
    until: date
    exclude_case_id: int | None


@dataclass(frozen=True, slots=True)
class SimilarContract:
    case_id: int
    title: str
    organisation: str
    value_sek: int
    signed_on: str  # YYYY-MM-DD, as recorded


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Screening:
    """The parties to screen against the current sanctions list, in order; with `min_score`
    also for possible matches, names at least that alike (states.sanctions.name_score)."""

    parties: tuple[Party, ...]
    min_score: int | None = None


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    party: str  # the name as given
    listed_name: str
    reference: str | None
    match: str = "exact"  # identifier, exact or possible (states.sanctions)
    score: int | None = None  # a possible match: how alike the names are, 0-100


@dataclass(frozen=True, slots=True)
class Screened:
    """What screening found: the list screened against (None: no list loaded) and its hits."""

    list_date: str | None  # YYYY-MM-DD
    list_checksum: str | None
    hits: tuple[ScreeningHit, ...]


Lookup = SimilarContracts | Screening | ThresholdSeries
Found = tuple[SimilarContract, ...] | Screened | tuple[ThresholdEntry, ...]
