"""What `serve` does before it listens: migrate, load definitions, optionally demo data."""

from __future__ import annotations

from upphandla.flows.commands.demo import DemoUser, load_demo
from upphandla.flows.registry import Registry, load_seed_definitions
from upphandla.flows.settings import Settings
from upphandla.store.db import Database
from upphandla.store.migrate import upgrade
from upphandla.store.uow import UnitOfWork


def prepare(db: Database, settings: Settings, *, demo: bool) -> list[DemoUser]:
    upgrade(db)
    with UnitOfWork(db) as uow:
        load_seed_definitions(uow)
        uow.commit()
    if not demo:
        return []
    with UnitOfWork(db) as uow:
        users = load_demo(uow, registry=Registry(), definition_key=settings.default_definition)
        uow.commit()
    return users
