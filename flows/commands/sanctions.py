"""Sanctions screening (category plan § 10.11; EU regulation 833/2014 art. 5k).

No contract may be awarded to Russian nationals or entities established in Russia, to entities
more than 50 % owned by them or acting on their behalf, nor with such subcontractors or suppliers
above 10 % of the contract value. The parties of a case are screened against a sanctions list
loaded from a CSV file; every loaded list is kept with its date and SHA-256 checksum, and the
list with the latest date is the one screened against.

File format: UTF-8 (a byte order mark is tolerated), `,` or `;` as delimiter (chosen from the
header line), a header line with the required column `name` and the optional columns
`identifier` (e.g. an organisation number), `country` and `reference`. Other columns are ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from upphandla.states.clock import now
from upphandla.store.models import SanctionsEntryRow, SanctionsListRow
from upphandla.store.uow import UnitOfWork

COMPANY_FORMS = frozenset(
    (
        "ab aktiebolag hb kb "  # Swedish
        "ltd limited llc inc plc gmbh oy as asa sa bv nv "  # others in Europe and beyond
        "ao oao ooo zao pao jsc"  # Russian, transliterated
    ).split()
)
COLUMNS = ("name", "identifier", "country", "reference")
MAX_LENGTHS = {"name": 500, "identifier": 100, "country": 100, "reference": 200}
SOURCE_MAX = 500
_INSERT_BATCH = 10_000
_IN_BATCH = 500


class SanctionsFileError(ValueError):
    """A sanctions list file that cannot be used; the message is in Swedish and names the line."""

    def __init__(self, line: int, message: str):
        super().__init__(f"rad {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Entry:
    """One listed party as read from the file (texts stripped; absent values are None)."""

    line: int
    name: str
    match_key: str
    identifier: str | None = None
    country: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class LoadResult:
    sanctions_list: SanctionsListRow
    already_loaded: bool  # the same file (by checksum) was loaded before; nothing was changed


@dataclass(frozen=True)
class Hit:
    party: str  # the name as given to screen()
    listed_name: str
    reference: str | None
    list_date: date
    list_checksum: str


def match_key(name: str) -> str:
    """The normalised form of a party name that screening compares.

    Case and accents are ignored, punctuation counts as space, and company-form words (AB, LLC,
    OOO, ...) at the start or end are dropped: "OOO Romashka" and "Romashka LLC" both give
    "romashka". A word is a company form only as written without accents ("Åsa" is a name, "ASA"
    a form). A name made only of such words keeps its last one.
    """
    folded = unicodedata.normalize("NFKC", name.casefold())
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    while len(words) > 1 and words[-1] in COMPANY_FORMS:
        words.pop()
    while len(words) > 1 and words[0] in COMPANY_FORMS:
        words.pop(0)
    plain = (_without_accents(word) for word in words)
    return " ".join(word for word in plain if word)


def _without_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def identifier_key(identifier: str | None) -> str | None:
    """An identifier as compared and stored: letters and digits only, upper case, so that
    "556677-8899" and "5566778899" are the same. None when nothing is left."""
    if identifier is None:
        return None
    key = "".join(ch for ch in identifier.upper() if ch.isalnum())
    return key or None


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode_sanctions_file(data: bytes) -> str:
    """The file's bytes as text; not UTF-8 is an error naming the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SanctionsFileError(line, "filen är inte kodad i UTF-8") from None


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _header(fields: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(fields):
        column = raw.strip().casefold()
        if column in COLUMNS:
            if column in columns:
                raise SanctionsFileError(1, f"kolumnen {column!r} förekommer två gånger")
            columns[column] = index
    if "name" not in columns:
        found = ", ".join(repr(f.strip()) for f in fields if f.strip()) or "inga"
        raise SanctionsFileError(
            1, f"rubrikraden saknar den obligatoriska kolumnen 'name' (kolumner: {found})"
        )
    return columns


def parse_sanctions_csv(text: str) -> list[Entry]:
    """The entries of a sanctions list file; raises SanctionsFileError naming the line."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise SanctionsFileError(1, "filen är tom; en rubrikrad med kolumnen 'name' krävs")
    delimiter = _delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    entries: list[Entry] = []
    columns: dict[str, int] | None = None
    width = 0
    line = 1
    try:
        for fields in reader:
            line = reader.line_num
            if columns is None:
                columns, width = _header(fields), len(fields)
                continue
            if not any(f.strip() for f in fields):
                continue  # blank line
            entries.append(_entry(fields, columns, width, line))
    except csv.Error as exc:
        raise SanctionsFileError(reader.line_num or line, f"felaktig CSV ({exc})") from None
    if not entries:
        raise SanctionsFileError(line + 1, "listan saknar poster; bara rubrikraden finns")
    return entries


def _entry(fields: list[str], columns: dict[str, int], width: int, line: int) -> Entry:
    if len(fields) != width:
        raise SanctionsFileError(line, f"raden har {len(fields)} fält men rubrikraden har {width}")
    values: dict[str, str | None] = {}
    for column, index in columns.items():
        value = fields[index].strip()
        if len(value) > MAX_LENGTHS[column]:
            raise SanctionsFileError(line, f"{column} är längre än {MAX_LENGTHS[column]} tecken")
        values[column] = value or None
    name = values["name"]
    if name is None:
        raise SanctionsFileError(line, "namn saknas (kolumnen 'name' är tom)")
    key = match_key(name)
    if not key:
        raise SanctionsFileError(line, f"namnet {name!r} innehåller inga bokstäver eller siffror")
    if len(key) > MAX_LENGTHS["name"]:
        raise SanctionsFileError(line, f"namnet är längre än {MAX_LENGTHS['name']} tecken")
    return Entry(
        line=line,
        name=name,
        match_key=key,
        identifier=values.get("identifier"),
        country=values.get("country"),
        reference=values.get("reference"),
    )


def load_sanctions_list(uow: UnitOfWork, *, text: str, source: str, list_date: date) -> LoadResult:
    """Store a sanctions list and its entries. The same file (by SHA-256 of its UTF-8 bytes)
    loaded again changes nothing and returns the list stored before. The caller commits."""
    checksum = sha256_of(text)
    existing = uow.s.scalar(select(SanctionsListRow).where(SanctionsListRow.checksum == checksum))
    if existing is not None:
        return LoadResult(existing, already_loaded=True)
    entries = parse_sanctions_csv(text)
    row = SanctionsListRow(
        list_date=list_date,
        checksum=checksum,
        source=source[:SOURCE_MAX],
        entries=len(entries),
        loaded_at=now(),
    )
    uow.s.add(row)
    uow.s.flush()
    for start in range(0, len(entries), _INSERT_BATCH):
        uow.s.execute(
            insert(SanctionsEntryRow),
            [
                {
                    "list_id": row.id,
                    "name": e.name,
                    "match_key": e.match_key,
                    "identifier": identifier_key(e.identifier),
                    "country": e.country,
                    "reference": e.reference,
                }
                for e in entries[start : start + _INSERT_BATCH]
            ],
        )
    # Contracts already signed are screened again by the next sweep (§ 10.11).
    from upphandla.flows.jobs.sweep import mark_for_recheck

    mark_for_recheck(uow, check="suppliers_not_sanctioned", at=row.loaded_at)
    return LoadResult(row, already_loaded=False)


def current_list(session: Session) -> SanctionsListRow | None:
    """The list screened against: the latest list_date; of equal dates, the latest loaded."""
    return session.scalar(
        select(SanctionsListRow)
        .order_by(
            SanctionsListRow.list_date.desc(),
            SanctionsListRow.loaded_at.desc(),
            SanctionsListRow.id.desc(),
        )
        .limit(1)
    )


def _batches(values: Iterable[str]) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + _IN_BATCH] for i in range(0, len(ordered), _IN_BATCH)]


def screen(
    session: Session, names: list[str], identifiers: list[str | None] | None = None
) -> list[Hit]:
    """The hits for the given parties against the current list: the same match_key, or the same
    identifier where both the party (identifiers[i] belongs to names[i]) and the entry have one.
    Hits come in the order of the parties, one per party and listed entry. No list loaded: []."""
    if identifiers is not None and len(identifiers) != len(names):
        raise ValueError("names and identifiers must have the same length")
    listed = current_list(session)
    if listed is None or not names:
        return []
    given_ids: Sequence[str | None] = identifiers or [None] * len(names)
    name_keys = [match_key(n) for n in names]
    id_keys = [identifier_key(i) for i in given_ids]
    wanted_names = [k for k in name_keys if k]
    wanted_ids = [k for k in id_keys if k]
    found: dict[int, SanctionsEntryRow] = {}
    for column, wanted in (
        (SanctionsEntryRow.match_key, wanted_names),
        (SanctionsEntryRow.identifier, wanted_ids),
    ):
        for batch in _batches(wanted):
            rows = session.scalars(
                select(SanctionsEntryRow).where(
                    SanctionsEntryRow.list_id == listed.id, column.in_(batch)
                )
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
