"""The process definitions as loaded."""

from __future__ import annotations

from typing import Any

from upphandla.states.errors import NotFound
from upphandla.store.records import StoredDefinition
from upphandla.store.uow import UnitOfWork


def list_definitions(uow: UnitOfWork) -> list[StoredDefinition]:
    return uow.definitions.all()


def definition_body(uow: UnitOfWork, key: str, version: int) -> dict[str, Any]:
    stored = uow.definitions.get(key, version)
    if stored is None:
        raise NotFound("definition_not_found", key=key, version=version)
    return stored.body
