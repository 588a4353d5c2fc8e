"""Loading process definitions into the store: a loaded version is never edited in place; a
changed definition is a new version."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upphandla.flows.registry import Registry
from upphandla.seeds.loader import definition_files, read_yaml
from upphandla.states.clock import now
from upphandla.states.definition import Definition
from upphandla.states.errors import Conflict
from upphandla.states.parse import parse_definition
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class Loaded:
    definition: Definition
    added: bool  # False: the same version with the same content was there already


@dataclass(frozen=True)
class LoadDefinition:
    data: Any  # raw, as read from YAML or JSON
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> Loaded:
        return load_definition(uow, self.data, actor=self.actor)


@dataclass(frozen=True)
class LoadSeedDefinitions:
    """Every definition file shipped in seeds/definitions (or these files)."""

    files: tuple[Path, ...] | None = None
    actor: Actor = field(default_factory=Actor.system)

    def handle(self, uow: UnitOfWork, registry: Registry) -> list[str]:
        """The `key vN` of the versions newly added."""
        added = []
        for path in self.files if self.files is not None else definition_files():
            loaded = load_definition(uow, read_yaml(path), actor=self.actor, source=path.name)
            if loaded.added:
                added.append(f"{loaded.definition.key} v{loaded.definition.version}")
        return added


def load_definition(
    uow: UnitOfWork, data: Any, *, actor: Actor | None = None, source: str | None = None
) -> Loaded:
    """Store a definition version (recorded in the system chain). A version already loaded
    with other content is refused; the same content loaded again changes nothing."""
    definition = parse_definition(data)
    checksum = definition.checksum()
    stored = uow.definitions.get(definition.key, definition.version)
    if stored is not None:
        if stored.checksum != checksum:
            raise Conflict("definition_changed", key=definition.key, version=definition.version)
        return Loaded(definition, added=False)
    at = now()
    uow.definitions.add(
        key=definition.key,
        version=definition.version,
        title=definition.title,
        checksum=checksum,
        body=definition.model_dump(mode="json", by_alias=True, exclude_none=True),
        at=at,
    )
    uow.system_audit.append(
        "definition.loaded",
        {
            "key": definition.key,
            "version": definition.version,
            "title": definition.title,
            "checksum": checksum,
            "source": source,
        },
        actor=actor or Actor.system(),
        at=at,
    )
    return Loaded(definition, added=True)
