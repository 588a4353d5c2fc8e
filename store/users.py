"""Users: who they are, their role, organisation and mandate, and whether they are active
(their access tokens are store.tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from upphandla.store.models import UserRow
from upphandla.store.records import StoredUser

USERS = cast(Table, UserRow.__table__)
_COLUMNS = [
    USERS.c.id,
    USERS.c.name,
    USERS.c.email,
    USERS.c.role,
    USERS.c.organisation,
    USERS.c.mandate,
    USERS.c.active,
]
_EMAILS = select(USERS.c.email).where(
    USERS.c.active.is_(True),
    USERS.c.id.in_(bindparam("ids", expanding=True))
    | USERS.c.role.in_(bindparam("roles", expanding=True)),
)


class UserRepository:
    def __init__(self, conn: Connection, *, lock_rows: bool) -> None:
        self._conn = conn
        self._lock_rows = lock_rows

    def add(
        self,
        *,
        name: str,
        email: str,
        role: str,
        organisation: str | None,
        mandate: str | None,
        at: datetime,
    ) -> StoredUser:
        result = self._conn.execute(
            insert(USERS).values(
                name=name,
                email=email,
                role=role,
                organisation=organisation,
                mandate=mandate,
                active=True,
                created_at=at,
            )
        )
        assert result.inserted_primary_key is not None
        user_id = int(result.inserted_primary_key[0])
        return StoredUser(user_id, name, email, role, organisation, mandate, True)

    def get(self, user_id: int) -> StoredUser | None:
        row = self._conn.execute(select(*_COLUMNS).where(USERS.c.id == user_id)).first()
        return StoredUser(*row) if row is not None else None

    def all(self) -> list[StoredUser]:
        """Every user, active or not, by id."""
        return [
            StoredUser(*row) for row in self._conn.execute(select(*_COLUMNS).order_by(USERS.c.id))
        ]

    def by_email(self, email: str) -> StoredUser | None:
        row = self._conn.execute(select(*_COLUMNS).where(USERS.c.email == email)).first()
        return StoredUser(*row) if row is not None else None

    def change(self, user_id: int, *, role: str, organisation: str | None) -> None:
        self._conn.execute(
            update(USERS).where(USERS.c.id == user_id).values(role=role, organisation=organisation)
        )

    def disable(self, user_id: int) -> None:
        self._conn.execute(update(USERS).where(USERS.c.id == user_id).values(active=False))

    def lock(self, user_id: int) -> None:
        """Hold the user's row until the unit of work ends, so that two changes of the same
        person's things wait for each other (SQLite: BEGIN IMMEDIATE already does)."""
        if self._lock_rows:
            self._conn.execute(select(USERS.c.id).where(USERS.c.id == user_id).with_for_update())

    def emails(self, *, user_ids: list[int], roles: list[str]) -> list[str]:
        """Active users' addresses, by id or by role, each once, in a stable order."""
        if not user_ids and not roles:
            return []
        found = self._conn.execute(_EMAILS, {"ids": user_ids, "roles": roles}).scalars()
        return sorted(set(found))
