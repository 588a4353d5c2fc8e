"""Users and their named access tokens. Only a token's SHA-256 is stored; the token is shown once.
Every administrative act (a user added or disabled, a token created or revoked) is appended to
the system chain in the same unit of work, never with the secret."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from upphandla.flows.delegation import delegation_order
from upphandla.flows.organisations import organisations
from upphandla.flows.registry import Registry
from upphandla.flows.settings import get_settings
from upphandla.states.canonical import sha256_hex
from upphandla.states.clock import now
from upphandla.states.errors import Conflict, Invalid, NotFound
from upphandla.states.roles import ROLES, Actor
from upphandla.states.validation import Problem, problems_from
from upphandla.store.records import StoredUser
from upphandla.store.tokens import StoredToken
from upphandla.store.uow import UnitOfWork

STANDARD_TOKEN = "standard"  # the name of the token a new user is given


def token_hash(token: str) -> str:
    return sha256_hex(token)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: str
    organisation: str = Field(min_length=1, max_length=200)


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    days: int = Field(ge=1, le=36500)


@dataclass(frozen=True)
class UserWithToken:
    user: StoredUser
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class CreatedToken:
    stored: StoredToken
    token: str  # shown once; only its hash is stored


def valid_user(*, name: str, email: str, role: str, organisation: str) -> NewUser:
    """The user's fields, checked: a known role and organisation (Invalid otherwise)."""
    try:
        user = NewUser(name=name, email=email, role=role, organisation=organisation)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc)) from None
    if user.role not in ROLES:
        raise Invalid(
            "invalid_attributes",
            [Problem("role", f"okänd roll; kända: {', '.join(sorted(ROLES))}")],
        )
    if organisations().get(user.organisation) is None:
        raise Invalid("invalid_attributes", [organisations().unknown("organisation")])
    return user


def valid_mandate(mandate: str | None) -> str | None:
    order = delegation_order()
    if mandate is not None and order.get(mandate) is None:
        known = ", ".join(m.id for m in order.mandates)
        raise Invalid("invalid_attributes", [Problem("mandate", f"okänt mandat; kända: {known}")])
    return mandate


def user_data(user: StoredUser) -> dict[str, object]:
    """What the system chain records of a user."""
    return {
        "user_id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "organisation": user.organisation,
        "mandate": user.mandate,
    }


def add_user(
    uow: UnitOfWork,
    user: NewUser,
    *,
    mandate: str | None,
    actor: Actor,
    action: str = "user.added",
    extra: Mapping[str, object] | None = None,
) -> StoredUser:
    """Store a checked user (an e-mail address already taken is refused) and audit it."""
    email = str(user.email)
    if uow.users.by_email(email) is not None:
        raise Conflict("user_exists", email=email)
    at = now()
    stored = uow.users.add(
        name=user.name,
        email=email,
        role=user.role,
        organisation=user.organisation,
        mandate=mandate,
        at=at,
    )
    uow.system_audit.append(action, {**user_data(stored), **(extra or {})}, actor=actor, at=at)
    return stored


def create_token(
    uow: UnitOfWork, user: StoredUser, *, name: str, days: int | None, actor: Actor
) -> CreatedToken:
    try:
        spec = NewToken(name=name, days=days if days is not None else get_settings().token_days)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc)) from None
    if not user.active:
        raise Conflict("user_disabled", email=user.email)
    token = new_token()
    at = now()
    stored = uow.tokens.add(
        user_id=user.id,
        name=spec.name,
        token_hash=token_hash(token),
        at=at,
        expires_at=at + timedelta(days=spec.days),
    )
    uow.system_audit.append(
        "token.created",
        {
            "token_id": stored.id,
            "user_id": user.id,
            "email": user.email,
            "name": stored.name,
            "expires_at": stored.expires_at.isoformat(),
        },
        actor=actor,
        at=at,
    )
    return CreatedToken(stored, token)


@dataclass(frozen=True, kw_only=True)
class AddUser:
    """A new user with a first token, named "standard"."""

    name: str
    email: str
    role: str
    organisation: str  # id in seeds/organisations.yaml
    mandate: str | None = None  # id in the delegation order
    days: int | None = None  # the token's lifetime; settings.token_days if None
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> UserWithToken:
        user = valid_user(
            name=self.name, email=self.email, role=self.role, organisation=self.organisation
        )
        stored = add_user(uow, user, mandate=valid_mandate(self.mandate), actor=self.actor)
        created = create_token(uow, stored, name=STANDARD_TOKEN, days=self.days, actor=self.actor)
        return UserWithToken(stored, created.token)


def _user(uow: UnitOfWork, email: str) -> StoredUser:
    user = uow.users.by_email(email.strip())
    if user is None:
        raise NotFound("user_not_found", email=email)
    return user


@dataclass(frozen=True)
class Disabled:
    user: StoredUser
    tokens_revoked: int
    feeds_closed: int
    changed: bool  # False: the user was disabled already


@dataclass(frozen=True, kw_only=True)
class DisableUser:
    """The user can no longer sign in: every token is revoked and every calendar feed closed."""

    email: str
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> Disabled:
        user = _user(uow, self.email)
        uow.users.lock(user.id)
        at = now()
        was_active = user.active
        uow.users.disable(user.id)
        revoked = uow.tokens.revoke_all(user.id, at=at)
        closed = uow.calendar.revoke(user.id, at=at)
        changed = was_active or bool(revoked) or bool(closed)
        if changed:
            uow.system_audit.append(
                "user.disabled",
                {
                    "user_id": user.id,
                    "email": user.email,
                    "tokens_revoked": revoked,
                    "calendar_feeds_closed": closed,
                },
                actor=self.actor,
                at=at,
            )
        return Disabled(user, len(revoked), closed, changed)


@dataclass(frozen=True, kw_only=True)
class CreateToken:
    """A new named token for an active user, valid `days` days (settings.token_days if None)."""

    email: str
    name: str
    days: int | None = None
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> CreatedToken:
        return create_token(
            uow, _user(uow, self.email), name=self.name, days=self.days, actor=self.actor
        )


@dataclass(frozen=True, kw_only=True)
class RevokeToken:
    """Revoke one token by its id; False if it was revoked already (nothing is recorded then)."""

    token_id: int
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> bool:
        stored = uow.tokens.get(self.token_id)
        if stored is None:
            raise NotFound("token_not_found", token_id=self.token_id)
        at = now()
        if not uow.tokens.revoke(stored.id, at=at):
            return False
        uow.system_audit.append(
            "token.revoked",
            {"token_id": stored.id, "user_id": stored.user_id, "name": stored.name},
            actor=self.actor,
            at=at,
        )
        return True


@dataclass(frozen=True)
class RotateToken:
    """A new "standard" token for the user; every earlier token stops working."""

    user_id: int
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> str:
        user = uow.users.get(self.user_id)
        if user is None:
            raise NotFound("user_not_found", email=f"id {self.user_id}")
        at = now()
        for token_id in uow.tokens.revoke_all(user.id, at=at):
            uow.system_audit.append(
                "token.revoked",
                {"token_id": token_id, "user_id": user.id, "name": None},
                actor=self.actor,
                at=at,
            )
        return create_token(uow, user, name=STANDARD_TOKEN, days=None, actor=self.actor).token


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenView:
    token: StoredToken
    email: str
    state: str  # giltig | utgången | återkallad | avstängd (the user is disabled)


def list_users(uow: UnitOfWork) -> list[StoredUser]:
    return uow.users.all()


def list_tokens(
    uow: UnitOfWork, email: str | None = None, *, at: datetime | None = None
) -> list[TokenView]:
    """Every token (of one user, if an address is given), never a secret."""
    users = {u.id: u for u in uow.users.all()}
    user_id = _user(uow, email).id if email is not None else None
    moment = at or now()
    views = []
    for t in uow.tokens.of_user(user_id):
        user = users[t.user_id]
        views.append(TokenView(t, user.email, token_state(t, user_active=user.active, at=moment)))
    return views


def token_state(token: StoredToken, *, user_active: bool, at: datetime) -> str:
    if token.revoked_at is not None:
        return "återkallad"
    if not user_active:
        return "avstängd"
    if token.expires_at <= at:
        return "utgången"
    return "giltig"


def actor_of(user: StoredUser) -> Actor:
    return Actor(
        user_id=user.id,
        name=user.name,
        role=user.role,
        organisation=user.organisation,
        mandate=user.mandate,
    )
