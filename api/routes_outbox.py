"""The outbox: what e-mail is waiting, sent or given up on (for administrators, controllers and
the category lead)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from upphandla.api.deps import HandlerDep, Token, read
from upphandla.flows.views.outbox import list_outbox
from upphandla.states.errors import Forbidden
from upphandla.states.roles import Actor
from upphandla.store.records import OutboxMessage, Page
from upphandla.store.uow import UnitOfWork

router = APIRouter(prefix="/api/outbox", tags=["utkorg"])

READERS = frozenset({"admin", "controller", "kategoriledare"})
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "Inloggning krävs"},
    403: {"description": "Rollen saknar behörighet"},
    422: {"description": "Ogiltiga uppgifter; `errors` anger fält och fel"},
}


class OutboxItemOut(BaseModel):
    id: int
    case_id: int | None
    template: str
    recipients: list[str]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class OutboxPageOut(BaseModel):
    items: list[OutboxItemOut]
    total: int
    limit: int
    offset: int


@router.get("", response_model=OutboxPageOut, responses=ERRORS)
async def outbox(
    token: Token,
    handler: HandlerDep,
    state: Literal["pending", "sent", "dead"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> OutboxPageOut:
    """Meddelanden i utkorgen, nyaste först: väntande (pending), skickade (sent) eller de som
    gett upp (dead) efter för många misslyckade försök."""

    def page(uow: UnitOfWork, actor: Actor) -> Page[OutboxMessage]:
        if actor.role not in READERS:
            raise Forbidden("forbidden_role", role=actor.role, what="läsa utkorgen")
        return list_outbox(
            uow,
            registry=handler.registry,
            actor=actor,
            state=state,
            limit=limit,
            offset=offset,
        )

    found = await read(handler, token, page)
    return OutboxPageOut(
        items=[
            OutboxItemOut(
                id=r.id,
                case_id=r.case_id,
                template=r.template,
                recipients=list(r.recipients),
                state=r.state,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                last_error=r.last_error,
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in found.items
        ],
        total=found.total,
        limit=found.limit,
        offset=found.offset,
    )
