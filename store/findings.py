"""Findings: gates that no longer hold on a running case. At most one open finding per (case,
key), by a partial unique index."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from upphandla.store.models import FindingRow
from upphandla.store.records import StoredFinding

FINDINGS = cast(Table, FindingRow.__table__)
_COLUMNS = [FINDINGS.c[f.name] for f in fields(StoredFinding)]
_OF_CASE = (
    select(*_COLUMNS).where(FINDINGS.c.case_id == bindparam("case_id")).order_by(FINDINGS.c.id)
)
_OPEN_OF_CASE = _OF_CASE.where(FINDINGS.c.closed_at.is_(None))
_CHUNK = 500


class FindingRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def of_case(self, case_id: int, *, open_only: bool = False) -> list[StoredFinding]:
        """The case's findings, oldest first."""
        query = _OPEN_OF_CASE if open_only else _OF_CASE
        return [StoredFinding(*r) for r in self._conn.execute(query, {"case_id": case_id})]

    def open_of_cases(self, case_ids: list[int]) -> dict[int, list[StoredFinding]]:
        by_case: dict[int, list[StoredFinding]] = defaultdict(list)
        for start in range(0, len(case_ids), _CHUNK):
            query = (
                select(*_COLUMNS)
                .where(
                    FINDINGS.c.case_id.in_(case_ids[start : start + _CHUNK]),
                    FINDINGS.c.closed_at.is_(None),
                )
                .order_by(FINDINGS.c.id)
            )
            for row in self._conn.execute(query):
                by_case[row.case_id].append(StoredFinding(*row))
        return by_case

    def open(
        self, *, case_id: int, key: str, title: str, message: str, source: str, state: str,
        at: datetime,
    ) -> StoredFinding:  # fmt: skip
        result = self._conn.execute(
            insert(FINDINGS).values(
                case_id=case_id,
                key=key,
                kind="recheck",
                title=title,
                message=message,
                source=source,
                details={"state": state},
                opened_at=at,
            )
        )
        assert result.inserted_primary_key is not None
        finding_id = int(result.inserted_primary_key[0])
        return StoredFinding(finding_id, case_id, key, title, message, source, at, None)

    def close(self, finding_id: int, *, at: datetime) -> None:
        self._conn.execute(update(FINDINGS).where(FINDINGS.c.id == finding_id).values(closed_at=at))
