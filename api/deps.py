"""What routes are given: the command handler, the caller's token, the settings, the request id,
the If-Match and Idempotency-Key headers; and the ways a route does its work off the event
loop, in one hop to the thread pool: `read` (the token and the read model in one unit of work),
`command` (the token and the command in one unit of work) and `answer` (the token, the command
and the response it renders in one unit of work: conditional and idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from upphandla.flows.auth import AsCaller, authenticate
from upphandla.flows.handler import Command, Handler, Outcome
from upphandla.flows.idempotency import Answered, IdempotentRequest, Render
from upphandla.flows.settings import Settings
from upphandla.states.errors import Unauthenticated
from upphandla.states.preconditions import IfMatch, parse_if_match
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="Åtkomsttoken från `upphandla user add`.")


async def handler(request: Request) -> Handler:
    return request.app.state.handler  # type: ignore[no-any-return]


async def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The bearer token as sent; without one the request is refused at once (401). Whether it
    belongs to an active user is looked up where the work is done, in the same unit of work."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated()
    return credentials.credentials


HandlerDep = Annotated[Handler, Depends(handler)]
RequestId = Annotated[str | None, Depends(request_id)]
SettingsDep = Annotated[Settings, Depends(settings)]
Token = Annotated[str, Depends(token)]


async def read_public(handler: Handler, fn: Callable[[UnitOfWork], T]) -> T:
    """`fn(uow)` in one unit of work for reading, for what needs no token."""

    def work() -> T:
        with handler.reader() as uow:
            return fn(uow)

    return await run_in_threadpool(work)


async def read(handler: Handler, token: str | None, fn: Callable[[UnitOfWork, Actor], T]) -> T:
    """`fn(uow, caller)` in one unit of work for reading, after the token is looked up in it."""
    return await read_public(handler, lambda uow: fn(uow, authenticate(uow, token)))


async def command(
    handler: Handler,
    token: str | None,
    build: Callable[[Actor], Command[T]],
    *,
    case_id: int | None = None,
) -> Outcome[T]:
    """The command `build(caller)` through the handler, the token looked up in its unit of
    work: one transaction, committed once."""
    return await run_in_threadpool(handler.run, AsCaller(token, build, case_id))


# -- conditional and idempotent writes ----------------------------------------------------------

KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="Ärendets ETag (från GET /api/cases/{id} eller en tidigare ändring), "
            "eller `*`: ändringen görs bara om ärendet inte har ändrats sedan dess, annars "
            "412. Utan rubriken görs ändringen ändå.",
        ),
    ] = None,
) -> IfMatch | None:
    return None if value is None else parse_if_match(value)


async def idempotency(
    request: Request,
    settings: Annotated[Settings, Depends(settings)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=KEY_PATTERN,
            description="En nyckel som klienten väljer (1–255 skrivbara ASCII-tecken), t.ex. "
            "ett UUID. Skickas samma begäran igen med samma nyckel får den det första svaret "
            "utan att något görs på nytt; samma nyckel med en annan begäran ger 422. "
            "Nyckeln gäller ett dygn.",
        ),
    ] = None,
) -> IdempotentRequest | None:
    if key is None:
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return IdempotentRequest.of(
        key,
        method=request.method,
        target=target,
        body=await request.body(),
        lifetime=timedelta(seconds=settings.idempotency_key_seconds),
    )


IfMatchDep = Annotated[IfMatch | None, Depends(if_match)]
IdempotencyDep = Annotated[IdempotentRequest | None, Depends(idempotency)]


async def answer(
    handler: Handler,
    token: str | None,
    build: Callable[[Actor], Command[T]],
    render: Render[T],
    *,
    case_id: int | None = None,
    if_match: IfMatch | None = None,
    idempotency: IdempotentRequest | None = None,
) -> Response:
    """The command `build(caller)` and its response `render(uow, caller, result)` in one unit
    of work, committed once, with the changed case's ETag: only if the case is at a version
    `if_match` allows (412 otherwise), and, with an Idempotency-Key, kept under it, or the
    response kept under it returned without doing the work again (flows.idempotency)."""
    answered = Answered(AsCaller(token, build, case_id, if_match), render, idempotency)
    reply = await run_in_threadpool(answered.run, handler)
    return Response(reply.body or None, status_code=reply.status, headers=reply.headers)
