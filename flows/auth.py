"""Who is asking: the person behind an access token, looked up in the unit of work of the
request itself (one connection, one lookup).

A token works while it is neither expired nor revoked and its user is active; otherwise the
request is refused at once (401). When a token was last used is recorded at most once a minute
per token, in a small write of its own after a read (reads stay read-only), or in the command's
own transaction for a command (a refused command leaves it unrecorded until the next use).

A caller signed in with the identity provider (flows.oidc) comes as a `Credential` naming the
user the provider vouched for; the user is looked up again here, so a user disabled in between
is refused too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from upphandla.flows.commands.users import actor_of, token_hash
from upphandla.flows.handler import Command
from upphandla.flows.registry import Registry
from upphandla.states.clock import now
from upphandla.states.errors import Unauthenticated
from upphandla.states.preconditions import IfMatch
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

R = TypeVar("R")
USE_RECORDED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Credential:
    """What a request proves itself with: an access token, or a user the identity provider
    vouched for (a verified OIDC token, already mapped to a user)."""

    token: str | None = None
    user_id: int | None = None
    # A web session (api.pages.session) names the token it was opened with: the token must
    # still work, so revoking it, or disabling its user, ends the session too.
    token_id: int | None = None


Presented = Credential | str | None


@dataclass(frozen=True)
class Caller:
    actor: Actor
    token_id: int | None = None  # the access token used, if any
    use_due: bool = False  # its last use is older than USE_RECORDED_EVERY (or never recorded)


def identify(uow: UnitOfWork, presented: Presented, *, at: datetime | None = None) -> Caller:
    """The caller behind the credential; Unauthenticated (401) if there is none or it no
    longer works."""
    credential = Credential(token=presented) if isinstance(presented, str) else presented
    if credential is None:
        raise Unauthenticated()
    if credential.token_id is not None:
        return _by_token_id(uow, credential.token_id, credential.user_id, at or now())
    if credential.user_id is not None:
        user = uow.users.get(credential.user_id)
        if user is None or not user.active:
            raise Unauthenticated("token_revoked")
        return Caller(actor_of(user))
    if not credential.token:
        raise Unauthenticated()
    found = uow.tokens.by_hash(token_hash(credential.token))
    if found is None:
        raise Unauthenticated()
    token = found.token
    moment = at or now()
    if token.revoked_at is not None or not found.user_active:
        raise Unauthenticated("token_revoked")
    if token.expires_at <= moment:
        raise Unauthenticated("token_expired")
    user = uow.users.get(token.user_id)
    assert user is not None
    due = token.last_used_at is None or token.last_used_at <= moment - USE_RECORDED_EVERY
    return Caller(actor_of(user), token.id, due)


def _by_token_id(uow: UnitOfWork, token_id: int, user_id: int | None, moment: datetime) -> Caller:
    token = uow.tokens.get(token_id)
    if token is None or token.user_id != user_id:
        raise Unauthenticated()
    user = uow.users.get(token.user_id)
    if token.revoked_at is not None or user is None or not user.active:
        raise Unauthenticated("token_revoked")
    if token.expires_at <= moment:
        raise Unauthenticated("token_expired")
    due = token.last_used_at is None or token.last_used_at <= moment - USE_RECORDED_EVERY
    return Caller(actor_of(user), token.id, due)


def authenticate(uow: UnitOfWork, presented: Presented) -> Actor:
    """The active user of the credential; Unauthenticated if there is none."""
    return identify(uow, presented).actor


def actor_for_token(uow: UnitOfWork, token: str) -> Actor | None:
    """The acting person of a token that works, or None."""
    try:
        return authenticate(uow, token)
    except Unauthenticated:
        return None


def record_use(uow: UnitOfWork, caller: Caller) -> None:
    """Record the token's use now, if due (at most once a minute per token)."""
    if caller.token_id is not None and caller.use_due:
        at = now()
        uow.tokens.touch(caller.token_id, at=at, unless_since=at - USE_RECORDED_EVERY)


@dataclass(frozen=True)
class RecordTokenUse:
    """The small write after a read: the token's last use."""

    caller: Caller

    def handle(self, uow: UnitOfWork, registry: Registry) -> None:
        record_use(uow, self.caller)


@dataclass(frozen=True)
class AsCaller(Generic[R]):
    """The command that `command(actor)` makes for the person whose token this is; the token is
    looked up in the command's own unit of work. With `if_match` (and `case_id`), the change is
    made only if the case is at a version it allows (PreconditionFailed otherwise): checked
    where the command reads the case for the change, on the locked row, after the case was
    found; or after the command, if it never did."""

    token: Presented
    command: Callable[[Actor], Command[R]]
    case_id: int | None = None  # the case it changes, if known before it runs
    if_match: IfMatch | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> R:
        caller = identify(uow, self.token)
        record_use(uow, caller)
        return self.handle_as(caller.actor, uow, registry)

    def handle_as(self, actor: Actor, uow: UnitOfWork, registry: Registry) -> R:
        """The command for `actor`, already authenticated in this unit of work."""
        case_id, if_match = self.case_id, self.if_match
        if case_id is not None and if_match is not None:
            uow.cases.expect(case_id, if_match)
        result = self.command(actor).handle(uow, registry)
        if case_id is not None and if_match is not None:
            uow.cases.confirm_expected(case_id)
        return result
