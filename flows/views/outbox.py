"""The outbox as administrators, controllers and the category lead see it."""

from __future__ import annotations

from upphandla.store.records import OutboxMessage, Page
from upphandla.store.uow import UnitOfWork


def list_outbox(
    uow: UnitOfWork, *, state: str | None = None, limit: int = 50, offset: int = 0
) -> Page[OutboxMessage]:
    """Messages in the outbox, newest first, optionally in one state."""
    return uow.outbox.page(state=state, limit=limit, offset=offset)
