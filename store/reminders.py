"""Reminders and escalations decided by the sweep, under the unique key (case, deadline, kind,
threshold) that makes the sweep idempotent however often or concurrently it runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from upphandla.store.models import ReminderRow

REMINDERS = cast(Table, ReminderRow.__table__)
ItemKey = tuple[str, str, int]  # (deadline key, kind, threshold)


class ReminderRepository:
    def __init__(self, conn: Connection, *, dialect: str) -> None:
        self._conn = conn
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def done(self, case_id: int) -> set[ItemKey]:
        """The keys of every reminder of the case recorded so far (sent or skipped)."""
        rows = self._conn.execute(
            select(REMINDERS.c.deadline_key, REMINDERS.c.kind, REMINDERS.c.threshold).where(
                REMINDERS.c.case_id == case_id
            )
        )
        return {(k, kind, t) for k, kind, t in rows}

    def record(
        self,
        *,
        case_id: int,
        key: ItemKey,
        due_on: date,
        planned_on: date,
        status: str,
        recipients: list[str],
        at: datetime,
    ) -> bool:
        """Record one reminder under its unique key; False when it was there already."""
        deadline_key, kind, threshold = key
        statement = (
            self._insert(REMINDERS)
            .values(
                case_id=case_id,
                deadline_key=deadline_key,
                kind=kind,
                threshold=threshold,
                due_on=due_on,
                planned_on=planned_on,
                status=status,
                recipients=recipients,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["case_id", "deadline_key", "kind", "threshold"])
        )
        return bool(cast(Any, self._conn.execute(statement)).rowcount)
