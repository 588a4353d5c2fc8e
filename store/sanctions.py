"""Sanctions lists: every loaded list kept with its date and checksum; the list with the latest
date is the one parties are screened against."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from upphandla.states.lookups import Screened, Screening, ScreeningHit
from upphandla.states.sanctions import identifier_key, match_key
from upphandla.store.models import SanctionsEntryRow, SanctionsListRow
from upphandla.store.records import SanctionsList

LISTS = cast(Table, SanctionsListRow.__table__)
ENTRIES = cast(Table, SanctionsEntryRow.__table__)
_LIST_COLUMNS = [LISTS.c[f.name] for f in fields(SanctionsList)]
_INSERT_BATCH = 10_000
_IN_BATCH = 500


@dataclass(frozen=True)
class Hit:
    party: str  # the name as given to screen()
    listed_name: str
    reference: str | None
    list_date: date
    list_checksum: str


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

    def screen(self, names: list[str], identifiers: list[str | None] | None = None) -> list[Hit]:
        """The hits for the given parties against the current list: the same match_key, or the
        same identifier where both the party (identifiers[i] belongs to names[i]) and the entry
        have one. Hits come in the order of the parties, one per party and listed entry. No
        list loaded: []."""
        return self._screen(self.current(), names, identifiers)

    def _screen(
        self, listed: SanctionsList | None, names: list[str], identifiers: list[str | None] | None
    ) -> list[Hit]:
        if identifiers is not None and len(identifiers) != len(names):
            raise ValueError("names and identifiers must have the same length")
        if listed is None or not names:
            return []
        given_ids: Sequence[str | None] = identifiers or [None] * len(names)
        name_keys = [match_key(n) for n in names]
        id_keys = [identifier_key(i) for i in given_ids]
        found: dict[int, Any] = {}
        for column, wanted in (
            (ENTRIES.c.match_key, [k for k in name_keys if k]),
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
            for entry in by_entry:
                same_name = bool(name_key) and entry.match_key == name_key
                same_id = id_key is not None and entry.identifier == id_key
                if same_name or same_id:
                    hit = Hit(party, entry.name, entry.reference, listed.list_date, listed.checksum)
                    if hit not in hits:
                        hits.append(hit)
        return hits

    def screened(self, lookup: Screening) -> Screened:
        """A gate's screening: the parties against the current list, with the list's date and
        checksum; no list loaded: no date and no hits."""
        listed = self.current()
        if listed is None:
            return Screened(None, None, ())
        names = [p.name for p in lookup.parties]
        hits = self._screen(listed, names, [p.identifier for p in lookup.parties])
        return Screened(
            listed.list_date.isoformat(),
            listed.checksum,
            tuple(ScreeningHit(h.party, h.listed_name, h.reference) for h in hits),
        )


def _batches(values: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + _IN_BATCH] for i in range(0, len(ordered), _IN_BATCH)]
