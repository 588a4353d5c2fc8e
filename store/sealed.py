"""Sealed chains: the audit events of a case's sealed evidence (bids, and every read of them
before they are unsealed), in a hash chain of their own per case, so that the case's own chain,
its version and its lists show no trace of them. The head of each chain is kept in
`sealed_heads`, so that a truncated tail shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from upphandla.states.events import AuditEvent
from upphandla.store.audit import GENESIS, SEALED, Appended, AuditRepository, ChainHeadRow
from upphandla.store.audit import SEALED_HEADS as HEADS
from upphandla.store.log import LogSequencer


class SealedRepository:
    def __init__(self, conn: Connection, log: LogSequencer, *, lock_rows: bool) -> None:
        self._conn = conn
        self._lock_rows = lock_rows
        self._chain = AuditRepository(conn, log, SEALED)

    def head(self, case_id: int) -> ChainHeadRow | None:
        query = select(HEADS.c.seq, HEADS.c.head).where(HEADS.c.case_id == case_id)
        if self._lock_rows:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return ChainHeadRow(case_id, row.seq, row.head) if row is not None else None

    def append(self, case_id: int, event: AuditEvent, *, at: datetime) -> Appended:
        """Append to the case's sealed chain (the case row itself is locked by the caller)."""
        head = self.head(case_id)
        new = head is None
        head = head or ChainHeadRow(case_id, 0, GENESIS)
        appended = self._chain.append(head, event, at=at)
        if new:
            self._conn.execute(
                insert(HEADS).values(case_id=case_id, seq=head.audit_seq, head=head.audit_head)
            )
        else:
            self._conn.execute(
                update(HEADS)
                .where(HEADS.c.case_id == case_id)
                .values(seq=head.audit_seq, head=head.audit_head)
            )
        return appended

    def trail(self, case_id: int) -> list[dict[str, Any]]:
        return self._chain.trail(case_id)
