"""The system chain of administrative acts (store.system_audit): reading it (flows.verify verifies it with every other chain)."""

from __future__ import annotations

from upphandla.store.system_audit import SystemEvent
from upphandla.store.uow import UnitOfWork


def system_events(uow: UnitOfWork) -> list[SystemEvent]:
    """Every administrative act as hashed, oldest first."""
    return uow.system_audit.events()
