"""Sanctions lists: every loaded list kept with its date and checksum; the list with the latest
date is the one parties are screened against (how names are compared: states.sanctions)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from upphandla.states.lookups import Screened, Screening, ScreeningHit
from upphandla.states.sanctions import (
    EXACT,
    IDENTIFIER,
    POSSIBLE,
    NameIndex,
    identifier_key,
    match_key,
)
from upphandla.store.models import SanctionsEntryRow, SanctionsListRow
from upphandla.store.records import SanctionsList

LISTS = cast(Table, SanctionsListRow.__table__)
ENTRIES = cast(Table, SanctionsEntryRow.__table__)
_LIST_COLUMNS = [LISTS.c[f.name] for f in fields(SanctionsList)]
_INSERT_BATCH = 10_000
_IN_BATCH = 500
# The match keys of the lists screened against lately, by checksum (a list's entries never
# change: the same checksum is the same file), so that fuzzy screening does not read a list of
# tens of thousands of names for every party.
_INDEXES: OrderedDict[str, NameIndex] = OrderedDict()
_INDEXES_KEPT = 4
_INDEXES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Hit:
    party: str  # the name as given to screen()
    listed_name: str
    reference: str | None
    list_date: date
    list_checksum: str
    match: str = EXACT  # identifier, exact or possible (states.sanctions)
    score: int | None = None  # a possible match: how alike the names are, 0-100


class SanctionsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def by_checksum(self, checksum: str) -> SanctionsList | None:
        row = self._conn.execute(
            select(*_LIST_COLUMNS).where(LISTS.c.checksum == checksum)
        ).one_or_none()
        return SanctionsList(*row) if row is not None else None

    def add(
        self,
        *,
        list_date: date,
        checksum: str,
        source: str,
        entries: Sequence[dict[str, Any]],
        at: datetime,
    ) -> SanctionsList:
        """Store a list and its entries (name, identifier, country, reference)."""
        result = self._conn.execute(
            insert(LISTS).values(
                list_date=list_date,
                checksum=checksum,
                source=source,
                entries=len(entries),
                loaded_at=at,
            )
        )
        assert result.inserted_primary_key is not None
        list_id = int(result.inserted_primary_key[0])
        for start in range(0, len(entries), _INSERT_BATCH):
            self._conn.execute(
                insert(ENTRIES),
                [
                    {
                        "list_id": list_id,
                        "name": e["name"],
                        "match_key": match_key(e["name"]),
                        "identifier": identifier_key(e.get("identifier")),
                        "country": e.get("country"),
                        "reference": e.get("reference"),
                    }
                    for e in entries[start : start + _INSERT_BATCH]
                ],
            )
        return SanctionsList(list_id, list_date, checksum, source, len(entries), at)

    def current(self) -> SanctionsList | None:
        """The list screened against: the latest list_date; of equal dates, the latest loaded."""
        row = self._conn.execute(
            select(*_LIST_COLUMNS)
            .order_by(LISTS.c.list_date.desc(), LISTS.c.loaded_at.desc(), LISTS.c.id.desc())
            .limit(1)
        ).one_or_none()
        return SanctionsList(*row) if row is not None else None

    def screen(
        self,
        names: list[str],
        identifiers: list[str | None] | None = None,
        min_score: int | None = None,
    ) -> list[Hit]:
        """The hits for the given parties against the current list: the same identifier where
        both the party (identifiers[i] belongs to names[i]) and the entry have one, the same
        match_key, or, with `min_score`, a match key at least that alike (a possible match; at
        most states.sanctions.POSSIBLE_PER_NAME per party). Hits come in the order of the
        parties, one per party and listed entry: identifier and exact matches first, then the
        possible ones, best first. No list loaded: []."""
        return self._screen(self.current(), names, identifiers, min_score)

    def _screen(
        self,
        listed: SanctionsList | None,
        names: list[str],
        identifiers: list[str | None] | None,
        min_score: int | None = None,
    ) -> list[Hit]:
        if identifiers is not None and len(identifiers) != len(names):
            raise ValueError("names and identifiers must have the same length")
        if listed is None or not names:
            return []
        given_ids: Sequence[str | None] = identifiers or [None] * len(names)
        name_keys = [match_key(n) for n in names]
        id_keys = [identifier_key(i) for i in given_ids]
        similar: dict[str, dict[str, int]] = {}
        if min_score is not None:
            index = self._index(listed)
            similar = {k: dict(index.similar(k, min_score)) for k in set(name_keys) if k}
        found: dict[int, Any] = {}
        for column, wanted in (
            (ENTRIES.c.match_key, [k for k in name_keys if k]),
            (ENTRIES.c.match_key, [k for like in similar.values() for k in like]),
            (ENTRIES.c.identifier, [k for k in id_keys if k]),
        ):
            for batch in _batches(wanted):
                rows = self._conn.execute(
                    select(ENTRIES).where(ENTRIES.c.list_id == listed.id, column.in_(batch))
                )
                found.update((r.id, r) for r in rows)
        by_entry = sorted(found.values(), key=lambda r: r.id)
        hits: list[Hit] = []
        for party, name_key, id_key in zip(names, name_keys, id_keys, strict=True):
            certain: list[Hit] = []
            possible: list[Hit] = []
            like = similar.get(name_key, {})
            for entry in by_entry:
                hit = Hit(party, entry.name, entry.reference, listed.list_date, listed.checksum)
                if id_key is not None and entry.identifier == id_key:
                    certain.append(replace(hit, match=IDENTIFIER))
                elif name_key and entry.match_key == name_key:
                    certain.append(hit)
                elif entry.match_key in like:
                    possible.append(replace(hit, match=POSSIBLE, score=like[entry.match_key]))
            possible.sort(key=lambda h: -(h.score or 0))  # stable: of equal scores, by entry
            hits += [h for h in certain + possible if h not in hits]
        return hits

    def _index(self, listed: SanctionsList) -> NameIndex:
        """The list's match keys, read once per list checksum."""
        with _INDEXES_LOCK:
            index = _INDEXES.get(listed.checksum)
            if index is not None:
                _INDEXES.move_to_end(listed.checksum)
                return index
        keys = self._conn.execute(
            select(ENTRIES.c.match_key).where(ENTRIES.c.list_id == listed.id).distinct()
        ).scalars()
        index = NameIndex.of(keys)
        with _INDEXES_LOCK:
            _INDEXES[listed.checksum] = index
            while len(_INDEXES) > _INDEXES_KEPT:
                _INDEXES.popitem(last=False)
        return index

    def screened(self, lookup: Screening) -> Screened:
        """A gate's screening: the parties against the current list, with the list's date and
        checksum; no list loaded: no date and no hits."""
        listed = self.current()
        if listed is None:
            return Screened(None, None, ())
        names = [p.name for p in lookup.parties]
        identifiers = [p.identifier for p in lookup.parties]
        hits = self._screen(listed, names, identifiers, lookup.min_score)
        return Screened(
            listed.list_date.isoformat(),
            listed.checksum,
            tuple(
                ScreeningHit(h.party, h.listed_name, h.reference, h.match, h.score) for h in hits
            ),
        )


def _batches(values: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + _IN_BATCH] for i in range(0, len(ordered), _IN_BATCH)]
