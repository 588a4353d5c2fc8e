"""Users and their access tokens. Only a token's SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from upphandla.flows.delegation import delegation_order
from upphandla.flows.organisations import organisations
from upphandla.flows.registry import Registry
from upphandla.states.canonical import sha256_hex
from upphandla.states.clock import now
from upphandla.states.errors import Invalid
from upphandla.states.roles import ROLES, Actor
from upphandla.states.validation import Problem, problems_from
from upphandla.store.records import StoredUser
from upphandla.store.uow import UnitOfWork


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


@dataclass(frozen=True)
class UserWithToken:
    user: StoredUser
    token: str  # shown once; only its hash is stored


@dataclass(frozen=True, kw_only=True)
class AddUser:
    name: str
    email: str
    role: str
    organisation: str  # id in seeds/organisations.yaml
    mandate: str | None = None  # id in the delegation order

    def handle(self, uow: UnitOfWork, registry: Registry) -> UserWithToken:
        try:
            user = NewUser(
                name=self.name, email=self.email, role=self.role, organisation=self.organisation
            )
        except ValidationError as exc:
            raise Invalid("invalid_attributes", problems_from(exc)) from None
        if user.role not in ROLES:
            raise Invalid(
                "invalid_attributes",
                [Problem("role", f"okänd roll; kända: {', '.join(sorted(ROLES))}")],
            )
        if organisations().get(user.organisation) is None:
            raise Invalid("invalid_attributes", [organisations().unknown("organisation")])
        order = delegation_order()
        if self.mandate is not None and order.get(self.mandate) is None:
            known = ", ".join(m.id for m in order.mandates)
            raise Invalid(
                "invalid_attributes", [Problem("mandate", f"okänt mandat; kända: {known}")]
            )
        token = new_token()
        stored = uow.users.add(
            name=user.name,
            email=str(user.email),
            role=user.role,
            organisation=user.organisation,
            mandate=self.mandate,
            token_hash=token_hash(token),
            at=now(),
        )
        return UserWithToken(stored, token)


@dataclass(frozen=True)
class RotateToken:
    """A new token for the user; the old one stops working."""

    user_id: int

    def handle(self, uow: UnitOfWork, registry: Registry) -> str:
        token = new_token()
        uow.users.set_token_hash(self.user_id, token_hash(token))
        return token


def actor_of(user: StoredUser) -> Actor:
    return Actor(
        user_id=user.id,
        name=user.name,
        role=user.role,
        organisation=user.organisation,
        mandate=user.mandate,
    )


def actor_for_token(uow: UnitOfWork, token: str) -> Actor | None:
    """The acting person of an active user's token, or None."""
    user = uow.users.by_token_hash(token_hash(token))
    return actor_of(user) if user is not None else None
