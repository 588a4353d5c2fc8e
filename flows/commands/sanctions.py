"""Loading sanctions lists (category plan § 10.11; EU regulation 833/2014 art. 5k).

No contract may be awarded to Russian nationals or entities established in Russia, to entities
more than 50 % owned by them or acting on their behalf, nor with such subcontractors or suppliers
above 10 % of the contract value. Parties are screened against a sanctions list loaded from a
CSV file (when a contract is awarded, when it is signed, and by the sweep on every new list while
a case waits for signing or performs its contract); every loaded list is kept with its date and SHA-256 checksum, and the list with the
latest date is the one screened against (store.sanctions).

File format (flows.csv_rows): UTF-8, `,` or `;` between fields, a header line with the required
column `name` and the optional columns `identifier` (e.g. an organisation number), `country` and
`reference`. Other columns are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from upphandla.flows.csv_rows import CsvError, Row, csv_rows
from upphandla.flows.registry import Registry
from upphandla.states.canonical import sha256_hex
from upphandla.states.clock import now
from upphandla.states.rechecks import rechecks_using
from upphandla.states.roles import Actor
from upphandla.states.sanctions import entries_digest, identifier_key, match_key
from upphandla.store.records import SanctionsList
from upphandla.store.uow import UnitOfWork

COLUMNS = ("name", "identifier", "country", "reference")
MAX_LENGTHS = {"name": 500, "identifier": 100, "country": 100, "reference": 200}
SOURCE_MAX = 500
# The checks that screen parties: a case whose phase re-checks with one of them is screened
# again by the next sweep once a new list is loaded.
RECHECKED_BY_A_NEW_LIST = ("sanctions_clear", "suppliers_not_sanctioned")


class SanctionsFileError(CsvError):
    """A sanctions list file that cannot be used; the message is in Swedish and names the line."""


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
    sanctions_list: SanctionsList
    already_loaded: bool  # the same file (by checksum) was loaded before; nothing was changed


@dataclass(frozen=True, kw_only=True)
class LoadSanctionsList:
    """Store a sanctions list and its entries. The same file (by SHA-256 of its UTF-8 text)
    loaded again changes nothing and returns the list stored before. Cases whose phase
    re-checks suppliers against the list are made due, so the next sweep screens them."""

    text: str
    source: str
    list_date: date
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> LoadResult:
        checksum = sha256_hex(self.text)
        existing = uow.sanctions.by_checksum(checksum)
        if existing is not None:
            return LoadResult(existing, already_loaded=True)
        entries = parse_sanctions_csv(self.text)
        stored = uow.sanctions.add(
            list_date=self.list_date,
            checksum=checksum,
            source=self.source[:SOURCE_MAX],
            entries=[
                {
                    "name": e.name,
                    "identifier": e.identifier,
                    "country": e.country,
                    "reference": e.reference,
                }
                for e in entries
            ],
            at=now(),
        )
        digest = entries_digest(
            (e.name, identifier_key(e.identifier), e.country, e.reference) for e in entries
        )
        uow.system_audit.append(
            "sanctions.loaded",
            {
                "list_id": stored.id,
                "list_date": stored.list_date.isoformat(),
                "checksum": stored.checksum,
                "source": stored.source,
                "entries": stored.entries,
                "entries_digest": digest,
            },
            actor=self.actor,
            at=stored.loaded_at,
        )
        make_due_for_recheck(uow, registry, checks=RECHECKED_BY_A_NEW_LIST, at=stored.loaded_at)
        return LoadResult(stored, already_loaded=False)


def make_due_for_recheck(
    uow: UnitOfWork, registry: Registry, *, checks: Iterable[str], at: datetime
) -> int:
    """Make every case due now whose phase has a re-check using one of `checks` (§ 10.11: cases
    between award decision and signing, and contracts already signed, are screened again).
    Returns how many cases."""
    marked = 0
    wanted = tuple(checks)
    for stored in uow.definitions.all():
        definition, _ = registry.get(uow, stored.key, stored.version)
        phases = {
            phase
            for check in wanted
            for spec in rechecks_using(definition, check)
            for phase in spec.phases
        }
        if phases:
            marked += uow.cases.make_due(
                key=stored.key, version=stored.version, states=phases, at=at
            )
    return marked


def decode_sanctions_file(data: bytes) -> str:
    """The file's bytes as text; not UTF-8 is an error naming the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SanctionsFileError(line, "filen är inte kodad i UTF-8") from None


def parse_sanctions_csv(text: str) -> list[Entry]:
    """The entries of a sanctions list file; raises SanctionsFileError naming the line."""
    try:
        header, rows = csv_rows(text)
        columns = _columns(header)
        entries = [_entry(row, columns) for row in rows]
    except SanctionsFileError:
        raise
    except CsvError as exc:
        raise SanctionsFileError(exc.line, exc.message) from None
    if not entries:
        raise SanctionsFileError(2, "listan saknar poster; bara rubrikraden finns")
    return entries


def _columns(header: Row) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header.fields):
        column = raw.strip().casefold()
        if column in COLUMNS:
            if column in columns:
                raise SanctionsFileError(1, f"kolumnen {column!r} förekommer två gånger")
            columns[column] = index
    if "name" not in columns:
        found = ", ".join(repr(f.strip()) for f in header.fields if f.strip()) or "inga"
        raise SanctionsFileError(
            1, f"rubrikraden saknar den obligatoriska kolumnen 'name' (kolumner: {found})"
        )
    return columns


def _entry(row: Row, columns: dict[str, int]) -> Entry:
    line = row.line
    values: dict[str, str | None] = {}
    for column, index in columns.items():
        value = row.fields[index].strip()
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
