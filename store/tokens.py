"""Named access tokens: only a token's SHA-256 is stored. A token works while it is neither
expired nor revoked and its user is active."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from upphandla.store.models import TokenRow, UserRow

TOKENS = cast(Table, TokenRow.__table__)
USERS = cast(Table, UserRow.__table__)


@dataclass(frozen=True)
class StoredToken:
    id: int
    user_id: int
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class TokenOwner:
    """A token found by its hash, with what decides whether it may be used."""

    token: StoredToken
    user_active: bool


_TOKEN_COLUMNS = [
    TOKENS.c.id,
    TOKENS.c.user_id,
    TOKENS.c.name,
    TOKENS.c.created_at,
    TOKENS.c.expires_at,
    TOKENS.c.last_used_at,
    TOKENS.c.revoked_at,
]
_BY_HASH = (
    select(*_TOKEN_COLUMNS, USERS.c.active)
    .join(USERS, USERS.c.id == TOKENS.c.user_id)
    .where(TOKENS.c.token_hash == bindparam("token_hash"))
)


def _token(row: Any) -> StoredToken:
    return StoredToken(*row[:7])


class TokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(
        self, *, user_id: int, name: str, token_hash: str, at: datetime, expires_at: datetime
    ) -> StoredToken:
        result = self._conn.execute(
            insert(TOKENS).values(
                user_id=user_id,
                name=name,
                token_hash=token_hash,
                created_at=at,
                expires_at=expires_at,
                last_used_at=None,
                revoked_at=None,
            )
        )
        assert result.inserted_primary_key is not None
        return StoredToken(
            int(result.inserted_primary_key[0]), user_id, name, at, expires_at, None, None
        )

    def by_hash(self, token_hash: str) -> TokenOwner | None:
        row = self._conn.execute(_BY_HASH, {"token_hash": token_hash}).first()
        return TokenOwner(_token(row), bool(row[7])) if row is not None else None

    def get(self, token_id: int) -> StoredToken | None:
        row = self._conn.execute(select(*_TOKEN_COLUMNS).where(TOKENS.c.id == token_id)).first()
        return _token(row) if row is not None else None

    def of_user(self, user_id: int | None = None) -> list[StoredToken]:
        """Every token (of one user, if given), by id."""
        query = select(*_TOKEN_COLUMNS).order_by(TOKENS.c.id)
        if user_id is not None:
            query = query.where(TOKENS.c.user_id == user_id)
        return [_token(row) for row in self._conn.execute(query)]

    def revoke(self, token_id: int, *, at: datetime) -> bool:
        """Revoke one token; False if it was revoked already."""
        result = self._conn.execute(
            update(TOKENS)
            .where(TOKENS.c.id == token_id, TOKENS.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(cast(Any, result).rowcount)

    def revoke_all(self, user_id: int, *, at: datetime) -> list[int]:
        """Revoke every token of the user still in force; the ids revoked."""
        ids = list(
            self._conn.execute(
                select(TOKENS.c.id)
                .where(TOKENS.c.user_id == user_id, TOKENS.c.revoked_at.is_(None))
                .order_by(TOKENS.c.id)
            ).scalars()
        )
        if ids:
            self._conn.execute(update(TOKENS).where(TOKENS.c.id.in_(ids)).values(revoked_at=at))
        return ids

    def touch(self, token_id: int, *, at: datetime, unless_since: datetime) -> bool:
        """Record a use at `at`, unless one was recorded at or after `unless_since`."""
        result = self._conn.execute(
            update(TOKENS)
            .where(
                TOKENS.c.id == token_id,
                or_(TOKENS.c.last_used_at.is_(None), TOKENS.c.last_used_at < unless_since),
            )
            .values(last_used_at=at)
        )
        return bool(cast(Any, result).rowcount)
