"""The one place a command runs: it opens the unit of work, lets the command do its work through
the repositories, commits once, and returns the result with the case's new version.

A command is a frozen dataclass with `handle(uow, registry)`; whatever it raises leaves nothing
written. Routers, pages, CLI commands and scheduled jobs build commands and hand them here; none
of them commits. Reads go through `reader()`: a unit of work that is never committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from upphandla.flows.registry import Registry
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
UowFactory = Callable[[bool], UnitOfWork]  # write -> a fresh unit of work


class Command(Protocol[R_co]):
    def handle(self, uow: UnitOfWork, registry: Registry) -> R_co: ...


@dataclass(frozen=True)
class Outcome(Generic[R]):
    result: R
    # The case's row version after the command (None when it changed no case): what a client
    # sends back as If-Match to say which version it has seen.
    version: int | None


class Handler:
    def __init__(
        self,
        uow_factory: UowFactory,
        *,
        registry: Registry | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self.registry = registry or Registry()
        self._close = close

    @classmethod
    def on(cls, db: Database, *, registry: Registry | None = None) -> Handler:
        """A handler whose units of work run on `db`; `close()` disposes of its connections."""
        return cls(lambda write: UnitOfWork(db, write=write), registry=registry, close=db.dispose)

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def run(self, command: Command[R]) -> Outcome[R]:
        with self._uow_factory(True) as uow:
            result = command.handle(uow, self.registry)
            uow.commit()
        case_id = case_of(command, result)
        return Outcome(result, uow.cases.versions.get(case_id) if case_id is not None else None)

    @contextmanager
    def reader(self) -> Iterator[UnitOfWork]:
        """A unit of work for reading; it is rolled back, never committed."""
        with self._uow_factory(False) as uow:
            yield uow


def case_of(command: Any, result: Any) -> int | None:
    """The case the command changed: named by the command, or by its result (a new case)."""
    case_id = getattr(command, "case_id", None) or getattr(result, "case_id", None)
    return case_id if isinstance(case_id, int) else None
