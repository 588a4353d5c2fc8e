"""Personal calendar feeds: the deadlines of the caller's open cases, for a calendar program to
subscribe to. The feed's address carries a secret instead of a bearer token (calendar programs
cannot send one); a new address replaces the old one, and it can be closed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, Field

from upphandla.api.deps import (
    HandlerDep,
    IdempotencyDep,
    SettingsDep,
    Token,
    answer,
    command,
    read_public,
)
from upphandla.flows.commands.calendar import CreateCalendarFeed, RevokeCalendarFeeds
from upphandla.flows.idempotency import Reply
from upphandla.flows.views import calendar
from upphandla.states.errors import Unauthenticated
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

router = APIRouter(prefix="/api/calendar", tags=["kalender"])

CALENDAR_TYPE = "text/calendar; charset=utf-8"
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Inloggning krävs"},
}
CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"description": "Samma Idempotency-Key igen: adressen visas bara en gång"},
    422: {
        "description": "Samma Idempotency-Key användes för en annan begäran, eller ogiltig nyckel"
    },
}
Secret = Annotated[
    str,
    Path(
        min_length=1,
        max_length=calendar.SECRET_MAX_LENGTH,
        description="Hemligheten i kalenderns adress (från POST /api/calendar)",
    ),
]


def _user_id(actor: Actor) -> int:
    """A person's id; the system actor has none and no calendar."""
    if actor.user_id is None:
        raise Unauthenticated()
    return actor.user_id


class CalendarFeedOut(BaseModel):
    url: str = Field(
        description="Kalenderns adress att prenumerera på. Den är hemlig: den som har den kan "
        "läsa fristerna. Den visas bara nu."
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedOut,
    responses=CREATE_ERRORS,
)
async def create_feed(
    token: Token, handler: HandlerDep, settings: SettingsDep, idempotency: IdempotencyDep
) -> Response:
    """Skapa en personlig kalender med fristerna i dina öppna ärenden (de du har startat eller
    handlagt). En ny adress ersätter den förra, som slutar fungera.

    Adressen visas bara en gång och sparas inte: skickas begäran igen med samma
    Idempotency-Key svarar tjänsten 409 i stället för att visa den igen."""

    def render(uow: UnitOfWork, actor: Actor, secret: str) -> Reply:
        body = CalendarFeedOut(url=calendar.feed_url(settings.base_url, secret))
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        return Reply(201, body.model_dump_json(), headers, secret=True)

    def create(actor: Actor) -> CreateCalendarFeed:
        return CreateCalendarFeed(_user_id(actor))

    return await answer(handler, token, create, render, idempotency=idempotency)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def revoke_feeds(token: Token, handler: HandlerDep) -> Response:
    """Stäng din kalender: adressen slutar fungera."""
    await command(handler, token, lambda actor: RevokeCalendarFeeds(_user_id(actor)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{secret}.ics",
    response_class=Response,
    responses={
        200: {
            "description": "Kalendern (iCalendar): en heldagshändelse per frist",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        },
        404: {"description": "Ingen kalender med den adressen, eller den har stängts"},
        422: {"description": "Adressen är för lång"},
    },
)
async def feed(secret: Secret, handler: HandlerDep, settings: SettingsDep) -> Response:
    """Kalendern med fristerna i dina öppna ärenden. Ingen åtkomsttoken: hemligheten i
    adressen är behörigheten."""
    domain = calendar.event_domain(settings.base_url)
    body = await read_public(
        handler,
        lambda uow: calendar.feed_for_secret(
            uow, secret, registry=handler.registry, domain=domain, base_url=settings.base_url
        ),
    )
    return Response(
        content=body,
        media_type=CALENDAR_TYPE,
        headers={
            "Cache-Control": "private, no-cache",
            "Content-Disposition": 'inline; filename="frister.ics"',
        },
    )
