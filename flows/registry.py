"""One parsed definition and one lifecycle machine per definition version, kept in memory."""

from __future__ import annotations

import threading

from upphandla.states.definition import Definition
from upphandla.states.errors import NotFound
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
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
        stored = uow.definitions.get(key, version)
        if stored is None:
            raise NotFound("definition_not_found", key=key, version=version)
        definition = parse_definition(stored.body)
        with self._lock:
            return self._cache.setdefault((key, version), (definition, Lifecycle(definition)))

    def latest(self, uow: UnitOfWork, key: str) -> tuple[Definition, Lifecycle]:
        version = uow.definitions.latest_version(key)
        if version is None:
            raise NotFound("no_definition", key=key)
        return self.get(uow, key, version)
