"""Engines. SQLite: a file in WAL mode with foreign keys on, a busy timeout, and write
transactions that take the write lock at BEGIN (so two writers wait instead of failing halfway).
PostgreSQL: the same code, row locks where a case is changed."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Database:
    """A writer engine and a reader engine over the same database (the same one off SQLite)."""

    url: str
    writer: Engine
    reader: Engine
    # SQLite has one writer at a time: the units of work of this process take turns here.
    writer_lock: threading.RLock = field(default_factory=threading.RLock, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def _sqlite_engine(url: str, *, begin: str, synchronous: str, busy_ms: int) -> Engine:
    # Enough pooled connections for the API's worker threads, so that none is opened (with its
    # PRAGMAs) and thrown away per request under load.
    pooled = {} if ":memory:" in url else {"pool_size": 32, "max_overflow": 32}
    engine = create_engine(url, connect_args={"check_same_thread": False}, **pooled)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


def open_database(
    url: str, *, sqlite_synchronous: str = "FULL", busy_ms: int = 30_000, pool_size: int = 10
) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        writer = _sqlite_engine(
            url, begin="BEGIN IMMEDIATE", synchronous=sqlite_synchronous, busy_ms=busy_ms
        )
        reader = _sqlite_engine(url, begin="BEGIN", synchronous=sqlite_synchronous, busy_ms=busy_ms)
        return Database(url, writer, reader)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, pool_size=pool_size, pool_pre_ping=True)
    return Database(url, engine, engine)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database).expanduser()
