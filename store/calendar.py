"""Personal calendar feeds: only the secret's hash is kept; revoking sets `revoked_at`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from upphandla.store.models import CalendarFeedRow, UserRow

FEEDS = cast(Table, CalendarFeedRow.__table__)
USERS = cast(Table, UserRow.__table__)


class CalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, *, user_id: int, secret_hash: str, at: datetime) -> None:
        self._conn.execute(
            insert(FEEDS).values(
                user_id=user_id, secret_hash=secret_hash, created_at=at, revoked_at=None
            )
        )

    def revoke(self, user_id: int, *, at: datetime) -> int:
        """Revoke the user's feeds; returns how many were still active."""
        result = self._conn.execute(
            update(FEEDS)
            .where(FEEDS.c.user_id == user_id, FEEDS.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(cast(Any, result).rowcount or 0)

    def user_for(self, secret_hash: str) -> int | None:
        """The active user whose active feed has this secret's hash."""
        return self._conn.execute(
            select(FEEDS.c.user_id)
            .join(USERS, USERS.c.id == FEEDS.c.user_id)
            .where(
                FEEDS.c.secret_hash == secret_hash,
                FEEDS.c.revoked_at.is_(None),
                USERS.c.active.is_(True),
            )
        ).scalar_one_or_none()
