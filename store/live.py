"""The live rows that verification compares with what the chains say (states.replay): cases,
evidence records, chain heads, users, tokens, definitions, threshold amounts and sanctions
lists, each read in one ordered pass."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Table, literal, null, select, union_all
from sqlalchemy.engine import Connection

from upphandla.states.auditlog import LoggedEvent
from upphandla.store import log
from upphandla.store.models import (
    CaseRow,
    DefinitionRow,
    EvidenceRow,
    SanctionsEntryRow,
    SanctionsListRow,
    SealedHeadRow,
    SystemChainRow,
    ThresholdAmountRow,
    TokenRow,
    UserRow,
)

CASES = cast(Table, CaseRow.__table__)
EVIDENCE = cast(Table, EvidenceRow.__table__)
SEALED_HEADS = cast(Table, SealedHeadRow.__table__)
SYSTEM_HEAD = cast(Table, SystemChainRow.__table__)
USERS = cast(Table, UserRow.__table__)
TOKENS = cast(Table, TokenRow.__table__)
DEFINITIONS = cast(Table, DefinitionRow.__table__)
THRESHOLDS = cast(Table, ThresholdAmountRow.__table__)
SANCTIONS_LISTS = cast(Table, SanctionsListRow.__table__)
SANCTIONS_ENTRIES = cast(Table, SanctionsEntryRow.__table__)


def _batched(conn: Connection, query: Any) -> Iterator[Any]:
    yield from conn.execution_options(yield_per=5000).execute(query)


def heads(conn: Connection) -> Iterator[tuple[str, int | None, int, str]]:
    """Every chain's head as stored: (chain, case id, last seq, hash)."""
    query = union_all(
        select(literal("case"), CASES.c.id, CASES.c.audit_seq, CASES.c.audit_head),
        select(literal("sealed"), SEALED_HEADS.c.case_id, SEALED_HEADS.c.seq, SEALED_HEADS.c.head),
        select(literal("system"), null(), SYSTEM_HEAD.c.seq, SYSTEM_HEAD.c.head),
    )
    for chain, case_id, seq, head in _batched(conn, query):
        yield str(chain), case_id, int(seq), str(head)


class LiveCase(NamedTuple):
    id: int
    definition_key: str
    definition_version: int
    state: str
    title: str
    organisation: str
    subcategory: str
    route: str
    attributes: Any
    created_by: int | None
    created_at: str  # ISO 8601, UTC
    evidence_log: Any
    assigned_to: int | None


class LiveEvidence(NamedTuple):
    id: int
    case_id: int
    kind: str
    data: Any
    phase: str
    recorded_by: int | None
    recorded_by_name: str
    role: str
    recorded_at: str  # ISO 8601, UTC
    audit_seq: int
    sealed: bool


def _readers(conn: Connection) -> tuple[Callable[[Any], Any], Callable[[Any], str]]:
    """How to read a JSON column and a time column as the driver gives them."""
    if conn.dialect.name == "sqlite":
        return (lambda v: None if v is None else orjson.loads(v)), log.iso_sqlite
    return (lambda v: v), log.iso_aware


def cases(conn: Connection) -> Iterator[LiveCase]:
    json, iso = _readers(conn)
    query = select(*(CASES.c[name] for name in LiveCase._fields)).order_by(CASES.c.id)
    for row in log.raw_rows(conn, query):
        (id_, key, version, state, title, org, sub, route, attributes, by, at, gates, assigned) = (
            row
        )
        yield LiveCase(
            id_, key, version, state, title, org, sub, route, json(attributes), by, iso(at),
            json(gates), assigned,
        )  # fmt: skip


def evidence(conn: Connection) -> Iterator[LiveEvidence]:
    json, iso = _readers(conn)
    query = select(*(EVIDENCE.c[name] for name in LiveEvidence._fields)).order_by(EVIDENCE.c.id)
    for id_, case_id, kind, data, phase, by, name, role, at, seq, sealed in log.raw_rows(
        conn, query
    ):
        yield LiveEvidence(
            id_, case_id, kind, json(data), phase, by, name, role, iso(at), seq, bool(sealed)
        )


def users(conn: Connection) -> list[Any]:
    return list(conn.execute(select(USERS).order_by(USERS.c.id)))


def tokens(conn: Connection) -> list[Any]:
    return list(conn.execute(select(TOKENS).order_by(TOKENS.c.id)))


def definitions(conn: Connection) -> list[Any]:
    return list(conn.execute(select(DEFINITIONS).order_by(DEFINITIONS.c.id)))


def sanctions_lists(conn: Connection) -> list[Any]:
    return list(conn.execute(select(SANCTIONS_LISTS).order_by(SANCTIONS_LISTS.c.id)))


def sanctions_entries(conn: Connection) -> Iterator[tuple[Any, ...]]:
    """(list id, entry id, name, match key, identifier, country, reference), by list and as
    loaded."""
    e = SANCTIONS_ENTRIES.c
    query = select(e.list_id, e.id, e.name, e.match_key, e.identifier, e.country, e.reference)
    return log.raw_rows(conn, query.order_by(e.list_id, e.id))


def thresholds(conn: Connection) -> list[Any]:
    return list(conn.execute(select(THRESHOLDS).order_by(THRESHOLDS.c.id)))


class LiveRows:
    """The rows verification reads, in the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def snapshot(self) -> None:
        """Read everything that follows as of one moment (PostgreSQL: REPEATABLE READ; must
        come first in the transaction. SQLite: its read transaction already does)."""
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def events(self, *, up_to: int | None = None) -> Iterator[LoggedEvent]:
        return log.stream(self._conn, up_to=up_to)

    def log_size(self) -> int | None:
        return log.size(self._conn)

    def heads(self) -> Iterator[tuple[str, int | None, int, str]]:
        return heads(self._conn)

    def cases(self) -> Iterator[LiveCase]:
        return cases(self._conn)

    def evidence(self) -> Iterator[LiveEvidence]:
        return evidence(self._conn)

    def users(self) -> list[Any]:
        return users(self._conn)

    def tokens(self) -> list[Any]:
        return tokens(self._conn)

    def definitions(self) -> list[Any]:
        return definitions(self._conn)

    def thresholds(self) -> list[Any]:
        return thresholds(self._conn)

    def sanctions_lists(self) -> list[Any]:
        return sanctions_lists(self._conn)

    def sanctions_entries(self) -> Iterator[tuple[Any, ...]]:
        return sanctions_entries(self._conn)
