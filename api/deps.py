"""Dependencies: the database, the definitions registry, the caller, the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from upphandla.flows.commands.users import actor_for_token
from upphandla.flows.registry import Registry
from upphandla.flows.settings import Settings
from upphandla.states.roles import Actor
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

_bearer = HTTPBearer(auto_error=False, description="Åtkomsttoken från `upphandla user add`.")


def database(request: Request) -> Database:
    return request.app.state.db


def registry(request: Request) -> Registry:
    return request.app.state.registry


def settings(request: Request) -> Settings:
    return request.app.state.settings


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status_code=401)
    with UnitOfWork(request.app.state.db, write=False) as uow:
        actor = actor_for_token(uow, credentials.credentials)
    if actor is None:
        raise HTTPException(status_code=401)
    return actor


def writer(db: Annotated[Database, Depends(database)]) -> Iterator[UnitOfWork]:
    """A write unit of work; the router commits it once after its one service call."""
    with UnitOfWork(db) as uow:
        yield uow


def reader(db: Annotated[Database, Depends(database)]) -> Iterator[UnitOfWork]:
    with UnitOfWork(db, write=False) as uow:
        yield uow


ActorDep = Annotated[Actor, Depends(current_actor)]
RegistryDep = Annotated[Registry, Depends(registry)]
WriteUoW = Annotated[UnitOfWork, Depends(writer)]
ReadUoW = Annotated[UnitOfWork, Depends(reader)]
RequestId = Annotated[str | None, Depends(request_id)]
SettingsDep = Annotated[Settings, Depends(settings)]
