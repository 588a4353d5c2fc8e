"""Users and their access tokens. Only a token's SHA-256 is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError
from sqlalchemy import select

from upphandla.flows.delegation import delegation_order
from upphandla.states.clock import now
from upphandla.states.errors import Invalid
from upphandla.states.roles import ROLES, Actor
from upphandla.states.validation import Problem, problems_from
from upphandla.store.models import UserRow
from upphandla.store.uow import UnitOfWork


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: str
    organisation: str | None = Field(default=None, max_length=200)


def add_user(
    uow: UnitOfWork,
    *,
    name: str,
    email: str,
    role: str,
    organisation: str | None = None,
    mandate: str | None = None,
) -> tuple[UserRow, str]:
    """Create a user; returns the row and the new token (not stored in clear)."""
    try:
        user = NewUser(name=name, email=email, role=role, organisation=organisation)
    except ValidationError as exc:
        raise Invalid("invalid_attributes", problems_from(exc)) from None
    if user.role not in ROLES:
        raise Invalid(
            "invalid_attributes",
            [Problem("role", f"okänd roll; kända: {', '.join(sorted(ROLES))}")],
        )
    if mandate is not None and delegation_order().get(mandate) is None:
        known = ", ".join(m.id for m in delegation_order().mandates)
        raise Invalid("invalid_attributes", [Problem("mandate", f"okänt mandat; kända: {known}")])
    token = secrets.token_urlsafe(32)
    row = UserRow(
        mandate=mandate,
        name=user.name,
        email=str(user.email),
        role=user.role,
        organisation=user.organisation,
        token_hash=token_hash(token),
        active=True,
        created_at=now(),
    )
    uow.s.add(row)
    uow.s.flush()
    return row, token


def rotate_token(uow: UnitOfWork, user: UserRow) -> str:
    token = secrets.token_urlsafe(32)
    user.token_hash = token_hash(token)
    return token


def actor_for_token(uow: UnitOfWork, token: str) -> Actor | None:
    row = uow.s.scalar(
        select(UserRow).where(UserRow.token_hash == token_hash(token), UserRow.active.is_(True))
    )
    if row is None:
        return None
    return Actor(
        user_id=row.id,
        name=row.name,
        role=row.role,
        organisation=row.organisation,
        mandate=row.mandate,
    )
