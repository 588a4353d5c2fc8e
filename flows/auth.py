"""Who is asking: the person behind an access token, looked up in the unit of work of the
request itself (one connection, one lookup)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from upphandla.flows.commands.users import actor_for_token
from upphandla.flows.handler import Command
from upphandla.flows.registry import Registry
from upphandla.states.errors import Unauthenticated
from upphandla.states.preconditions import IfMatch
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

R = TypeVar("R")


def authenticate(uow: UnitOfWork, token: str | None) -> Actor:
    """The active user of the token; Unauthenticated if there is none."""
    actor = actor_for_token(uow, token) if token else None
    if actor is None:
        raise Unauthenticated()
    return actor


@dataclass(frozen=True)
class AsCaller(Generic[R]):
    """The command that `command(actor)` makes for the person whose token this is; the token is
    looked up in the command's own unit of work. With `if_match` (and `case_id`), the change is
    made only if the case is at a version it allows (PreconditionFailed otherwise): checked
    where the command reads the case for the change, on the locked row, after the case was
    found; or after the command, if it never did."""

    token: str | None
    command: Callable[[Actor], Command[R]]
    case_id: int | None = None  # the case it changes, if known before it runs
    if_match: IfMatch | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> R:
        return self.handle_as(authenticate(uow, self.token), uow, registry)

    def handle_as(self, actor: Actor, uow: UnitOfWork, registry: Registry) -> R:
        """The command for `actor`, already authenticated in this unit of work."""
        case_id, if_match = self.case_id, self.if_match
        if case_id is not None and if_match is not None:
            uow.cases.expect(case_id, if_match)
        result = self.command(actor).handle(uow, registry)
        if case_id is not None and if_match is not None:
            uow.cases.confirm_expected(case_id)
        return result
