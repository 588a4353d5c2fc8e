"""The unit of work: one transaction per request or flow step. It commits once, when told to, or
rolls back. Services receive it and never commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session

from upphandla.store.db import Database


class UnitOfWork:
    def __init__(self, db: Database, *, write: bool = True):
        self._db = db
        self._write = write
        self.session: Session | None = None

    @property
    def is_sqlite(self) -> bool:
        return self._db.is_sqlite

    def __enter__(self) -> UnitOfWork:
        engine = self._db.writer if self._write else self._db.reader
        self.session = Session(engine, expire_on_commit=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            self.session.rollback()  # no-op after a commit
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    @property
    def s(self) -> Session:
        assert self.session is not None, "unit of work not entered"
        return self.session
