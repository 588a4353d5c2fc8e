"""Process definitions as loaded: a loaded version is never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from upphandla.store.models import DefinitionRow
from upphandla.store.records import StoredDefinition

DEFINITIONS = cast(Table, DefinitionRow.__table__)
_COLUMNS = [
    DEFINITIONS.c.key,
    DEFINITIONS.c.version,
    DEFINITIONS.c.title,
    DEFINITIONS.c.checksum,
    DEFINITIONS.c.body,
    DEFINITIONS.c.loaded_at,
]


class DefinitionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, key: str, version: int) -> StoredDefinition | None:
        row = self._conn.execute(
            select(*_COLUMNS).where(DEFINITIONS.c.key == key, DEFINITIONS.c.version == version)
        ).first()
        return StoredDefinition(*row) if row is not None else None

    def latest_version(self, key: str) -> int | None:
        return self._conn.execute(
            select(DEFINITIONS.c.version)
            .where(DEFINITIONS.c.key == key)
            .order_by(DEFINITIONS.c.version.desc())
            .limit(1)
        ).scalar_one_or_none()

    def all(self) -> list[StoredDefinition]:
        rows = self._conn.execute(
            select(*_COLUMNS).order_by(DEFINITIONS.c.key, DEFINITIONS.c.version)
        )
        return [StoredDefinition(*r) for r in rows]

    def add(
        self, *, key: str, version: int, title: str, checksum: str, body: dict[str, Any],
        at: datetime,
    ) -> None:  # fmt: skip
        self._conn.execute(
            insert(DEFINITIONS).values(
                key=key, version=version, title=title, checksum=checksum, body=body, loaded_at=at
            )
        )
