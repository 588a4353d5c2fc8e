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
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Table, literal, null, select, update
from sqlalchemy.engine import Connection

from upphandla.states.auditlog import LoggedEvent
from upphandla.store.models import AuditEventRow, LogHeadRow, SealedEventRow, SystemEventRow

AUDIT = cast(Table, AuditEventRow.__table__)
SEALED = cast(Table, SealedEventRow.__table__)
SYSTEM = cast(Table, SystemEventRow.__table__)
HEAD = cast(Table, LogHeadRow.__table__)
_SIZE = select(HEAD.c.size).where(HEAD.c.id == 1)
BATCH = 5000


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


def iso_sqlite(stored: str) -> str:
    """SQLite's text of a UTC time ("2026-01-05 08:00:01.250000") as `datetime.isoformat` gives
    it for the aware time, without parsing it."""
    fraction = stored[20:26]
    return (
        f"{stored[:10]}T{stored[11:19]}{'' if fraction in ('', '000000') else '.' + fraction}+00:00"
    )


def iso_aware(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def raw_rows(conn: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of `query` straight from the driver's cursor, in batches, in the unit of work's
    transaction: verification reads every event and row, and SQLAlchemy's row processing would
    cost more than the checks."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled))
        while rows := cursor.fetchmany(BATCH):
            yield from rows
    finally:
        cursor.close()


def _ordered(conn: Connection, table: Table, chain: str, up_to: int | None) -> Iterator[Any]:
    query = _columns(table, chain)
    if up_to is not None:
        query = query.where(table.c.log_index < up_to)
    query = query.order_by(table.c.log_index.is_not(None), table.c.log_index, table.c.id)
    return raw_rows(conn, query)


def _merged(streams: list[Iterator[Any]]) -> Iterator[Any]:
    """The rows of streams each in log order (no place first), in log order. Nearly every
    event is a case's, so the loop mostly compares one number with the smallest other head."""
    heads = [next(s, None) for s in streams]

    def key(row: Any) -> int:
        return -1 if row[0] is None else int(row[0])

    while True:
        live = [i for i, h in enumerate(heads) if h is not None]
        if not live:
            return
        first = min(live, key=lambda i: key(heads[i]))
        others = [key(heads[i]) for i in live if i != first]
        bound = min(others) if others else None
        stream = streams[first]
        row = heads[first]
        while row is not None and (bound is None or key(row) <= bound):
            yield row
            row = next(stream, None)
        heads[first] = row


def stream(conn: Connection, *, up_to: int | None = None) -> Iterator[LoggedEvent]:
    """Every event of every chain, in log order, with `chain` "case", "sealed" or "system"
    (system events have no case_id) and its time as ISO 8601 text; those below `up_to` if
    given; events without a place first.

    Verification reads every event, so this bypasses SQLAlchemy's row processing: each chain
    table is read in log order on the driver's cursor, in batches, and the three are merged."""
    iso = iso_sqlite if conn.dialect.name == "sqlite" else iso_aware
    tables = ((AUDIT, "case"), (SEALED, "sealed"), (SYSTEM, "system"))
    rows = _merged([_ordered(conn, table, chain, up_to) for table, chain in tables])
    for index, chain, case_id, id_, seq, at, action, body, prev, digest in rows:
        yield LoggedEvent(index, chain, case_id, id_, seq, iso(at), action, body, prev, digest)
