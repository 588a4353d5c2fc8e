"""Process definitions: loading them into the store (never editing a loaded version) and
keeping one parsed definition and one lifecycle machine per version in memory."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from upphandla.seeds.loader import definition_files, read_yaml
from upphandla.states.clock import now
from upphandla.states.definition import Definition, parse_definition
from upphandla.states.errors import Conflict, NotFound
from upphandla.states.machine import Lifecycle
from upphandla.store.models import DefinitionRow
from upphandla.store.uow import UnitOfWork


class Registry:
    """Parsed definitions and their machines, cached per (key, version)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[Definition, Lifecycle]] = {}

    def get(self, uow: UnitOfWork, key: str, version: int) -> tuple[Definition, Lifecycle]:
        found = self._cache.get((key, version))
        if found is not None:
            return found
        row = uow.s.scalar(
            select(DefinitionRow).where(DefinitionRow.key == key, DefinitionRow.version == version)
        )
        if row is None:
            raise NotFound("definition_not_found", key=key, version=version)
        definition = parse_definition(row.body)
        with self._lock:
            return self._cache.setdefault((key, version), (definition, Lifecycle(definition)))

    def latest(self, uow: UnitOfWork, key: str) -> tuple[Definition, Lifecycle]:
        version = uow.s.scalar(
            select(DefinitionRow.version)
            .where(DefinitionRow.key == key)
            .order_by(DefinitionRow.version.desc())
            .limit(1)
        )
        if version is None:
            raise NotFound("no_definition", key=key)
        return self.get(uow, key, version)


def load_definition(uow: UnitOfWork, data: Any) -> tuple[Definition, bool]:
    """Store a definition version. Returns (definition, added). A version already loaded with
    other content is refused: a change is a new version, never an edit in place."""
    definition = parse_definition(data)
    body = definition.model_dump(mode="json", by_alias=True, exclude_none=True)
    checksum = definition.checksum()
    row = uow.s.scalar(
        select(DefinitionRow).where(
            DefinitionRow.key == definition.key, DefinitionRow.version == definition.version
        )
    )
    if row is not None:
        if row.checksum != checksum:
            raise Conflict("definition_changed", key=definition.key, version=definition.version)
        return definition, False
    uow.s.add(
        DefinitionRow(
            key=definition.key,
            version=definition.version,
            title=definition.title,
            checksum=checksum,
            body=body,
            loaded_at=now(),
        )
    )
    return definition, True


def load_seed_definitions(uow: UnitOfWork, files: list[Path] | None = None) -> list[str]:
    """Load every shipped definition file; returns the `key vN` of those newly added."""
    added = []
    for path in files if files is not None else definition_files():
        definition, was_added = load_definition(uow, read_yaml(path))
        if was_added:
            added.append(f"{definition.key} v{definition.version}")
    return added


def list_definitions(uow: UnitOfWork) -> list[DefinitionRow]:
    return list(
        uow.s.scalars(select(DefinitionRow).order_by(DefinitionRow.key, DefinitionRow.version))
    )


def definition_body(uow: UnitOfWork, key: str, version: int) -> dict[str, Any]:
    row = uow.s.scalar(
        select(DefinitionRow).where(DefinitionRow.key == key, DefinitionRow.version == version)
    )
    if row is None:
        raise NotFound("definition_not_found", key=key, version=version)
    return row.body
