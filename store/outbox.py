"""The notification outbox: rows written in the same transaction as their cause, claimed by a
delivery pass under a lease, marked after each send."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.engine import Connection

from upphandla.states.access import CaseScope
from upphandla.states.errors import Conflict, NotFound
from upphandla.store.models import OutboxRow
from upphandla.store.records import OutboxMessage, Page
from upphandla.store.scope import visible_case_ids

OUTBOX = cast(Table, OutboxRow.__table__)
PENDING, SENT, DEAD = "pending", "sent", "dead"
STATE_TITLES = {PENDING: "väntar", SENT: "skickat", DEAD: "gav upp"}
_COLUMNS = [OUTBOX.c[f.name] for f in fields(OutboxMessage)]
_INSERT = insert(OUTBOX)


@dataclass(frozen=True)
class Claimed:
    """A row taken by a delivery pass: sent by it alone while the lease holds."""

    id: int
    template: str
    recipients: list[str]
    context: dict[str, Any]
    attempts: int
    claimed_at: datetime
    lease_until: datetime


class OutboxRepository:
    def __init__(self, conn: Connection, *, skip_locked: bool) -> None:
        self._conn = conn
        self._skip_locked = skip_locked

    def add(
        self,
        *,
        dedupe_key: str,
        case_id: int | None,
        template: str,
        recipients: list[str],
        context: dict[str, Any],
        at: datetime,
    ) -> None:
        self._conn.execute(
            _INSERT,
            {
                "dedupe_key": dedupe_key,
                "case_id": case_id,
                "template": template,
                "recipients": recipients,
                "context": context,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            },
        )

    def has(self, dedupe_key: str) -> bool:
        """Whether a message with this key was ever queued."""
        found = self._conn.execute(
            select(OUTBOX.c.id).where(OUTBOX.c.dedupe_key == dedupe_key)
        ).first()
        return found is not None

    def claim(self, *, at: datetime, until: datetime, limit: int) -> list[Claimed]:
        """Take up to `limit` due rows and lease them to `until`. On PostgreSQL the rows are
        read FOR UPDATE SKIP LOCKED, so deliverers at the same time never take the same row; on
        SQLite the writer's BEGIN IMMEDIATE serialises the claims."""
        query = (
            select(
                OUTBOX.c.id,
                OUTBOX.c.template,
                OUTBOX.c.recipients,
                OUTBOX.c.context,
                OUTBOX.c.attempts,
            )
            .where(OUTBOX.c.state == PENDING, OUTBOX.c.next_attempt_at <= at)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id)
            .limit(limit)
        )
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        rows = list(self._conn.execute(query))
        if rows:
            self._conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([r.id for r in rows]))
                .values(next_attempt_at=until)
            )
        return [
            Claimed(r.id, r.template, list(r.recipients), dict(r.context), r.attempts, at, until)
            for r in rows
        ]

    def mark(self, row: Claimed, values: dict[str, Any]) -> bool:
        """Record the outcome of one attempt while the row still carries this pass's lease."""
        result = self._conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id == row.id,
                OUTBOX.c.state == PENDING,
                OUTBOX.c.next_attempt_at == row.lease_until,
            )
            .values(**values)
        )
        return cast(Any, result).rowcount == 1

    def retry(self, outbox_id: int, *, at: datetime) -> OutboxMessage:
        """Put a dead message back in the queue, due at `at`, with a fresh count of attempts."""
        query = select(*_COLUMNS).where(OUTBOX.c.id == outbox_id)
        if self._skip_locked:
            query = query.with_for_update()
        row = self._conn.execute(query).one_or_none()
        if row is None:
            raise NotFound("outbox_not_found", outbox_id=outbox_id)
        if row.state != DEAD:
            raise Conflict(
                "outbox_not_dead", outbox_id=outbox_id, state=STATE_TITLES.get(row.state, row.state)
            )
        self._conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == outbox_id)
            .values(state=PENDING, attempts=0, next_attempt_at=at)
        )
        return OutboxMessage(
            **{**row._asdict(), "state": PENDING, "attempts": 0, "next_attempt_at": at}
        )

    def page(
        self, *, state: str | None, scope: CaseScope, limit: int, offset: int
    ) -> Page[OutboxMessage]:
        """Messages about no case or a case in `scope`, newest first, optionally in one state."""
        where: list[ColumnElement[bool]] = [
            OUTBOX.c.case_id.is_(None) | OUTBOX.c.case_id.in_(visible_case_ids(scope))
        ]
        if state is not None:
            where.append(OUTBOX.c.state == state)
        total = self._conn.execute(
            select(func.count()).select_from(OUTBOX).where(*where)
        ).scalar_one()
        rows = self._conn.execute(
            select(*_COLUMNS).where(*where).order_by(OUTBOX.c.id.desc()).limit(limit).offset(offset)
        )
        return Page([OutboxMessage(*r) for r in rows], int(total), limit, offset)
