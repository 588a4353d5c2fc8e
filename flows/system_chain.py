"""The system chain of administrative acts (store.system_audit): reading and verifying it."""

from __future__ import annotations

from upphandla.store.system_audit import SystemEvent, SystemReport
from upphandla.store.uow import UnitOfWork


def verify_system(uow: UnitOfWork) -> SystemReport:
    """Whether the chain is whole; the first break if not."""
    return uow.system_audit.verify()


def system_events(uow: UnitOfWork) -> list[SystemEvent]:
    """Every administrative act as hashed, oldest first."""
    return uow.system_audit.events()
