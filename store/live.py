"""The live rows that verification compares with what the chains say (states.replay): cases,
evidence records, chain heads, users and tokens, each read in one ordered pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Table, literal, null, select, union_all
from sqlalchemy.engine import Connection

from upphandla.store import log
from upphandla.store.models import (
    CaseRow,
    DefinitionRow,
    EvidenceRow,
    SealedHeadRow,
    SystemChainRow,
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


def cases(conn: Connection) -> Iterator[Any]:
    query = select(
        CASES.c.id,
        CASES.c.definition_key,
        CASES.c.definition_version,
        CASES.c.state,
        CASES.c.title,
        CASES.c.organisation,
        CASES.c.subcategory,
        CASES.c.route,
        CASES.c.attributes,
        CASES.c.created_by,
        CASES.c.created_at,
        CASES.c.evidence_log,
        CASES.c.assigned_to,
    ).order_by(CASES.c.id)
    return _batched(conn, query)


def evidence(conn: Connection) -> Iterator[Any]:
    return _batched(conn, select(EVIDENCE).order_by(EVIDENCE.c.id))


def users(conn: Connection) -> list[Any]:
    return list(conn.execute(select(USERS).order_by(USERS.c.id)))


def tokens(conn: Connection) -> list[Any]:
    return list(conn.execute(select(TOKENS).order_by(TOKENS.c.id)))


def definitions(conn: Connection) -> list[Any]:
    query = select(DEFINITIONS.c.key, DEFINITIONS.c.version, DEFINITIONS.c.body)
    return list(conn.execute(query.order_by(DEFINITIONS.c.id)))


class LiveRows:
    """The rows verification reads, in the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def snapshot(self) -> None:
        """Read everything that follows as of one moment (PostgreSQL: REPEATABLE READ; must
        come first in the transaction. SQLite: its read transaction already does)."""
        if self._conn.dialect.name == "postgresql":
            self._conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def events(self, *, up_to: int | None = None) -> Iterator[Any]:
        return log.stream(self._conn, up_to=up_to)

    def log_size(self) -> int | None:
        return log.size(self._conn)

    def heads(self) -> Iterator[tuple[str, int | None, int, str]]:
        return heads(self._conn)

    def cases(self) -> Iterator[Any]:
        return cases(self._conn)

    def evidence(self) -> Iterator[Any]:
        return evidence(self._conn)

    def users(self) -> list[Any]:
        return users(self._conn)

    def tokens(self) -> list[Any]:
        return tokens(self._conn)

    def definitions(self) -> list[Any]:
        return definitions(self._conn)
