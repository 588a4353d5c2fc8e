"""The unit of work: one transaction, and the repositories that work in it. It commits once,
when the command handler tells it to, or rolls back. Nothing outside this package touches the
session; everything else talks to the repositories."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from upphandla.states.errors import Conflict, Unavailable
from upphandla.store.audit import AuditRepository
from upphandla.store.calendar import CalendarRepository
from upphandla.store.cases import CaseRepository
from upphandla.store.db import Database
from upphandla.store.definitions import DefinitionRepository
from upphandla.store.evidence import EvidenceRepository
from upphandla.store.findings import FindingRepository
from upphandla.store.outbox import OutboxRepository
from upphandla.store.reminders import ReminderRepository
from upphandla.store.sanctions import SanctionsRepository
from upphandla.store.users import UserRepository

log = logging.getLogger("upphandla.store")


class UnitOfWork:
    cases: CaseRepository
    evidence: EvidenceRepository
    audit: AuditRepository
    outbox: OutboxRepository
    reminders: ReminderRepository
    findings: FindingRepository
    sanctions: SanctionsRepository
    users: UserRepository
    definitions: DefinitionRepository
    calendar: CalendarRepository

    def __init__(self, db: Database, *, write: bool = True):
        self._db = db
        self._write = write
        self._session: Session | None = None

    def __enter__(self) -> UnitOfWork:
        engine = self._db.writer if self._write else self._db.reader
        session = Session(engine, expire_on_commit=False)
        self._session = session
        postgresql = not self._db.is_sqlite
        self.cases = CaseRepository(session)
        self.evidence = EvidenceRepository(session)
        self.audit = AuditRepository(session)
        self.outbox = OutboxRepository(session, skip_locked=postgresql)
        self.reminders = ReminderRepository(session, dialect=engine.dialect.name)
        self.findings = FindingRepository(session)
        self.sanctions = SanctionsRepository(session)
        self.users = UserRepository(session, lock_rows=postgresql)
        self.definitions = DefinitionRepository(session)
        self.calendar = CalendarRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()  # no-op after a commit
        finally:
            self._session.close()
            self._session = None
        # What the database refused, in the domain's terms: nothing was written either way.
        if isinstance(exc, IntegrityError):
            log.warning("integrity conflict, rolled back: %s", exc.orig)
            raise Conflict("concurrent_change") from exc
        if isinstance(exc, OperationalError):
            log.error("database unavailable, rolled back: %s", exc.orig)
            raise Unavailable("service_unavailable") from exc

    def commit(self) -> None:
        assert self._session is not None, "unit of work not entered"
        self._session.commit()

    def ping(self) -> None:
        """One round trip to the database (raises when it cannot be reached)."""
        assert self._session is not None, "unit of work not entered"
        self._session.execute(text("SELECT 1"))
