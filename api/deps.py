"""What routes are given: the command handler, the caller's token, the settings, the request id;
and the two ways a route does its work off the event loop, in one hop to the thread pool:
`read` (the token and the read model in one unit of work) and `command` (the token and the
command in one unit of work)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from upphandla.flows.auth import AsCaller, authenticate
from upphandla.flows.handler import Command, Handler, Outcome
from upphandla.flows.settings import Settings
from upphandla.states.errors import Unauthenticated
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
