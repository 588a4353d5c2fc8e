"""Evidence recorded on cases, oldest first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.engine import Connection

from upphandla.store.models import EvidenceRow
from upphandla.store.records import StoredEvidence

EVIDENCE = cast(Table, EvidenceRow.__table__)
_COLUMNS = [EVIDENCE.c[f.name] for f in fields(StoredEvidence)]
_OF_CASE = (
    select(*_COLUMNS)
    .where(EVIDENCE.c.case_id == bindparam("case_id"), EVIDENCE.c.sealed == bindparam("sealed"))
    .order_by(EVIDENCE.c.id)
)
_INSERT = insert(EVIDENCE)
_CHUNK = 500  # case ids per query


class EvidenceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def of_case(self, case_id: int, *, sealed: bool = False) -> list[StoredEvidence]:
        """The case's evidence; with `sealed`, its sealed evidence (bids) instead."""
        rows = self._conn.execute(_OF_CASE, {"case_id": case_id, "sealed": sealed})
        return [StoredEvidence(*r) for r in rows]

    def of_cases(self, case_ids: list[int]) -> dict[int, list[StoredEvidence]]:
        by_case: dict[int, list[StoredEvidence]] = defaultdict(list)
        for start in range(0, len(case_ids), _CHUNK):
            chunk = case_ids[start : start + _CHUNK]
            query = (
                select(*_COLUMNS)
                .where(EVIDENCE.c.case_id.in_(chunk), EVIDENCE.c.sealed.is_(False))
                .order_by(EVIDENCE.c.id)
            )
            for row in self._conn.execute(query):
                by_case[row.case_id].append(StoredEvidence(*row))
        return by_case

    def add(self, **values: Any) -> StoredEvidence:
        """Record a piece of evidence (every field but the id)."""
        result = self._conn.execute(_INSERT, values)
        assert result.inserted_primary_key is not None
        return StoredEvidence(id=int(result.inserted_primary_key[0]), **values)
