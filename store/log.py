"""The global log: every event of every chain (case chains, sealed chains, the system chain) has
a place in it, `log_index`, from 0 up without gaps, in the order the events were committed.

The places are given by `LogSequencer` under the one row of `log_head`, which the appending
transaction holds until it ends (PostgreSQL: FOR UPDATE; SQLite has one writer anyway): a
transaction that has not committed holds the next places, so nobody sees a gap. The log's
leaves are the events' entries (states.auditlog); `stream` reads every event of every chain in
log order, in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Table, literal, null, select, union_all, update
from sqlalchemy.engine import Connection

from upphandla.store.models import AuditEventRow, LogHeadRow, SealedEventRow, SystemEventRow

AUDIT = cast(Table, AuditEventRow.__table__)
SEALED = cast(Table, SealedEventRow.__table__)
SYSTEM = cast(Table, SystemEventRow.__table__)
HEAD = cast(Table, LogHeadRow.__table__)
_SIZE = select(HEAD.c.size).where(HEAD.c.id == 1)


class LogSequencer:
    """Gives the events of one unit of work their places in the log."""

    def __init__(self, conn: Connection, *, lock_rows: bool) -> None:
        self._conn = conn
        self._lock_rows = lock_rows
        self._next: int | None = None

    def take(self) -> int:
        """The next place; the head row stays locked until the transaction ends."""
        if self._next is None:
            query = _SIZE.with_for_update() if self._lock_rows else _SIZE
            self._next = int(self._conn.execute(query).scalar_one())
        place = self._next
        self._next += 1
        self._conn.execute(update(HEAD).where(HEAD.c.id == 1).values(size=self._next))
        return place


def size(conn: Connection) -> int | None:
    """The log's size as its head says (None: the head row is gone)."""
    found = conn.execute(_SIZE).scalar_one_or_none()
    return None if found is None else int(found)


def _columns(table: Table, chain: str) -> Any:
    case_id = null() if table is SYSTEM else table.c.case_id
    return select(
        table.c.log_index,
        literal(chain).label("chain"),
        case_id.label("case_id"),
        table.c.id,
        table.c.seq,
        table.c.at,
        table.c.action,
        table.c.body,
        table.c.prev_hash,
        table.c.hash,
    )


def stream(conn: Connection, *, up_to: int | None = None) -> Iterator[Any]:
    """Every event of every chain, in log order, with `chain` "case", "sealed" or "system"
    (system events have no case_id); those below `up_to` if given. An event without a place
    comes first (SQLite) or last (PostgreSQL). Rows are fetched in batches, not all at once."""
    parts = [_columns(AUDIT, "case"), _columns(SEALED, "sealed"), _columns(SYSTEM, "system")]
    if up_to is not None:
        parts = [p.where(p.selected_columns.log_index < up_to) for p in parts]
    query = union_all(*parts).order_by("log_index", "chain", "id")
    result = conn.execution_options(yield_per=5000).execute(query)
    yield from result
