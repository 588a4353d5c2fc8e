"""Personal calendar feeds: a new secret address (only its SHA-256 is stored) that replaces the
person's earlier ones, and closing them. What a feed shows is flows.views.calendar."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from upphandla.flows.registry import Registry
from upphandla.states.canonical import sha256_hex
from upphandla.states.clock import now
from upphandla.store.uow import UnitOfWork

SECRET_BYTES = 32  # token_urlsafe(32): 43 characters


def secret_hash(secret: str) -> str:
    return sha256_hex(secret)


@dataclass(frozen=True)
class CreateCalendarFeed:
    """A new feed for the user, replacing (revoking) any earlier one. The result is the secret,
    which is not stored and cannot be shown again."""

    user_id: int

    def handle(self, uow: UnitOfWork, registry: Registry) -> str:
        uow.users.lock(self.user_id)  # two requests at once still leave one feed
        at = now()
        uow.calendar.revoke(self.user_id, at=at)
        secret = secrets.token_urlsafe(SECRET_BYTES)
        uow.calendar.add(user_id=self.user_id, secret_hash=secret_hash(secret), at=at)
        return secret


@dataclass(frozen=True)
class RevokeCalendarFeeds:
    """Close the user's feeds; the result is how many were still open."""

    user_id: int

    def handle(self, uow: UnitOfWork, registry: Registry) -> int:
        return uow.calendar.revoke(self.user_id, at=now())
