"""One parsed definition and one lifecycle machine per definition version, kept in memory."""

from __future__ import annotations

import threading

from upphandla.flows.settings import get_settings
from upphandla.states.definition import Definition
from upphandla.states.errors import NotFound
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
from upphandla.store.uow import UnitOfWork


class Registry:
    """Parsed definitions and their machines, cached per (key, version)."""

    def __init__(self, *, policy_key: str | None = None) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[Definition, Lifecycle]] = {}
        # The definition whose newest version's access policy is in force.
        self.policy_key = policy_key or get_settings().default_definition

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

    def policy_definition(self, uow: UnitOfWork) -> Definition | None:
        """The definition whose access policy is in force: the newest version of the policy
        key (the access policy is about people now, not about the version a case runs on)."""
        version = uow.definitions.latest_version(self.policy_key)
        return None if version is None else self.get(uow, self.policy_key, version)[0]
