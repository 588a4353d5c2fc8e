"""Dependencies: the command handler, a unit of work for reading, the caller, the request id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from upphandla.flows.commands.users import actor_for_token
from upphandla.flows.handler import Handler
from upphandla.flows.registry import Registry
from upphandla.flows.settings import Settings
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

_bearer = HTTPBearer(auto_error=False, description="Åtkomsttoken från `upphandla user add`.")


def handler(request: Request) -> Handler:
    return request.app.state.handler


def registry(request: Request) -> Registry:
    return request.app.state.handler.registry


def settings(request: Request) -> Settings:
    return request.app.state.settings


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def reader(handler: Annotated[Handler, Depends(handler)]) -> Iterator[UnitOfWork]:
    """One unit of work for all the reading of a request (its caller's token included)."""
    with handler.reader() as uow:
        yield uow


def current_actor(
    uow: Annotated[UnitOfWork, Depends(reader)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status_code=401)
    actor = actor_for_token(uow, credentials.credentials)
    if actor is None:
        raise HTTPException(status_code=401)
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
HandlerDep = Annotated[Handler, Depends(handler)]
RegistryDep = Annotated[Registry, Depends(registry)]
ReadUoW = Annotated[UnitOfWork, Depends(reader)]
RequestId = Annotated[str | None, Depends(request_id)]
SettingsDep = Annotated[Settings, Depends(settings)]
