"""The unit of work: one transaction on one connection, and the repositories that work in it.
It commits once, when the command handler tells it to, or rolls back. Nothing outside this
package touches the connection; everything else talks to the repositories."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.exc import IntegrityError, OperationalError

from upphandla.states.errors import Conflict, Unavailable
from upphandla.store.audit import AuditRepository
from upphandla.store.calendar import CalendarRepository
from upphandla.store.cases import CaseRepository
from upphandla.store.db import Database
from upphandla.store.definitions import DefinitionRepository
from upphandla.store.evidence import EvidenceRepository
from upphandla.store.findings import FindingRepository
from upphandla.store.idempotency import IdempotencyRepository
from upphandla.store.live import LiveRows
from upphandla.store.log import LogSequencer
from upphandla.store.outbox import OutboxRepository
from upphandla.store.reminders import ReminderRepository
from upphandla.store.sanctions import SanctionsRepository
from upphandla.store.sealed import SealedRepository
from upphandla.store.system_audit import SystemAuditRepository
from upphandla.store.thresholds import ThresholdRepository
from upphandla.store.tokens import TokenRepository
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
    sealed: SealedRepository
    thresholds: ThresholdRepository
    users: UserRepository
    definitions: DefinitionRepository
    calendar: CalendarRepository
    tokens: TokenRepository
    system_audit: SystemAuditRepository
    idempotency: IdempotencyRepository
    live: LiveRows

    def __init__(self, db: Database, *, write: bool = True):
        self._db = db
        self._write = write
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._holds_writer_lock = False

    def __enter__(self) -> UnitOfWork:
        if self._write and self._db.is_sqlite:
            # One writer at a time in this process queues here, in order, instead of in
            # SQLite's busy handler, which sleeps in steps (other processes still wait there).
            self._db.writer_lock.acquire()
            self._holds_writer_lock = True
        try:
            engine = self._db.writer if self._write else self._db.reader
            conn = self._conn = engine.connect()
            self._tx = conn.begin()
        except BaseException:
            self._release()
            raise
        postgresql = not self._db.is_sqlite
        log = LogSequencer(conn, lock_rows=postgresql)
        self.cases = CaseRepository(conn)
        self.evidence = EvidenceRepository(conn)
        self.audit = AuditRepository(conn, log)
        self.outbox = OutboxRepository(conn, skip_locked=postgresql)
        self.reminders = ReminderRepository(conn, dialect=conn.dialect.name)
        self.findings = FindingRepository(conn)
        self.sanctions = SanctionsRepository(conn)
        self.sealed = SealedRepository(conn, log, lock_rows=postgresql)
        self.thresholds = ThresholdRepository(conn)
        self.users = UserRepository(conn, lock_rows=postgresql)
        self.definitions = DefinitionRepository(conn)
        self.calendar = CalendarRepository(conn)
        self.tokens = TokenRepository(conn)
        self.system_audit = SystemAuditRepository(conn, log, lock_rows=postgresql)
        self.idempotency = IdempotencyRepository(conn)
        self.live = LiveRows(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            self._release()
        # What the database refused, in the domain's terms: nothing was written either way.
        if isinstance(exc, IntegrityError):
            log.warning("integrity conflict, rolled back: %s", exc.orig)
            raise Conflict("concurrent_change") from exc
        if isinstance(exc, OperationalError):
            log.error("database unavailable, rolled back: %s", exc.orig)
            raise Unavailable("service_unavailable") from exc

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._tx = None
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            self._db.writer_lock.release()

    def commit(self) -> None:
        assert self._tx is not None, "unit of work not entered"
        self._tx.commit()

    def ping(self) -> None:
        """One round trip to the database (raises when it cannot be reached)."""
        assert self._conn is not None, "unit of work not entered"
        self._conn.execute(text("SELECT 1"))
