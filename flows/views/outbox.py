"""The outbox as administrators, controllers and the category lead see it: the messages of the
cases they may read, and those about no case."""

from __future__ import annotations

from upphandla.flows.access import scope_for
from upphandla.flows.registry import Registry
from upphandla.states.roles import Actor
from upphandla.store.records import OutboxMessage, Page
from upphandla.store.uow import UnitOfWork


def list_outbox(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[OutboxMessage]:
    """Messages in the outbox, newest first, optionally in one state."""
    scope = scope_for(uow, registry, actor)
    return uow.outbox.page(state=state, scope=scope, limit=limit, offset=offset)
