"""What `serve` does before it listens: migrate, make the audit log's signing key if there is
none, load definitions and threshold amounts, optionally demo data."""

from __future__ import annotations

from upphandla.flows.checkpoints import Witness
from upphandla.flows.commands.definitions import LoadSeedDefinitions
from upphandla.flows.commands.demo import DemoUser, LoadDemo
from upphandla.flows.commands.thresholds import LoadSeedThresholds
from upphandla.flows.handler import Handler
from upphandla.flows.settings import Settings
from upphandla.store.db import Database
from upphandla.store.migrate import upgrade


def prepare(db: Database, settings: Settings, *, demo: bool) -> list[DemoUser]:
    upgrade(db)
    Witness.of(settings)  # the audit log's signing key, made on first start
    handler = Handler.on(db)
    handler.run(LoadSeedDefinitions())
    handler.run(LoadSeedThresholds())
    if not demo:
        return []
    return handler.run(LoadDemo(settings.default_definition)).result
