"""Idempotency keys: the first response to a POST sent with an `Idempotency-Key`, per user and
key. A key is claimed (inserted) before the work is done, in the same transaction, and its
response is filled in when the work is done; a transaction that is rolled back leaves no key.

Two requests with the same key at once: on SQLite the writer lock runs them one after the
other, and the second finds the first's response; on PostgreSQL the second's claim waits on the
unique index until the first commits and then fails with `KeyInUse`, and the caller tries once
more (and then finds the first's response)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from upphandla.states.errors import Conflict
from upphandla.store.models import IdempotencyKeyRow

KEYS = cast(Table, IdempotencyKeyRow.__table__)


class KeyInUse(Conflict):
    """Another request with the same key was written first, while this one was under way."""

    def __init__(self) -> None:
        super().__init__("idempotency_key_in_use")


@dataclass(frozen=True)
class StoredResponse:
    id: int
    fingerprint: str
    status: int
    headers: dict[str, str]
    body: str | None  # None: not kept (it carried a secret shown only once)
    expires_at: datetime


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, user_id: int, key: str) -> StoredResponse | None:
        row = self._conn.execute(
            select(
                KEYS.c.id,
                KEYS.c.fingerprint,
                KEYS.c.status,
                KEYS.c.headers,
                KEYS.c.body,
                KEYS.c.expires_at,
            ).where(KEYS.c.user_id == user_id, KEYS.c.key == key)
        ).one_or_none()
        return None if row is None else StoredResponse(**row._asdict())

    def claim(
        self, user_id: int, key: str, *, fingerprint: str, at: datetime, expires_at: datetime
    ) -> int:
        """Insert the key, its response still to come; its id. KeyInUse if another transaction
        holds the key (PostgreSQL waits for that one to end first)."""
        statement = insert(KEYS).values(
            user_id=user_id,
            key=key,
            fingerprint=fingerprint,
            status=0,
            headers={},
            body=None,
            created_at=at,
            expires_at=expires_at,
        )
        try:
            result = self._conn.execute(statement)
        except IntegrityError:
            raise KeyInUse() from None
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    def respond(
        self, key_id: int, *, status: int, headers: dict[str, str], body: str | None
    ) -> None:
        """The response to keep for the claimed key."""
        self._conn.execute(
            update(KEYS)
            .where(KEYS.c.id == key_id)
            .values(status=status, headers=headers, body=body)
        )

    def forget(self, key_id: int) -> None:
        self._conn.execute(delete(KEYS).where(KEYS.c.id == key_id))

    def purge(self, at: datetime) -> int:
        """Delete the keys expired at `at`; how many."""
        result: Any = self._conn.execute(delete(KEYS).where(KEYS.c.expires_at <= at))
        return int(result.rowcount or 0)
