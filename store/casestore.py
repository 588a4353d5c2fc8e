"""The write path of a case in SQLAlchemy Core: one read of the case, one of its evidence, one
conditional update, plain inserts. Cheaper than the ORM on the hot path, same transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, Table, insert, select, update
from sqlalchemy.orm import Session

from states.errors import Conflict, NotFound
from store.models import CaseRow, EvidenceRow, OutboxRow, UserRow

CASES = cast(Table, CaseRow.__table__)
EVIDENCE = cast(Table, EvidenceRow.__table__)
OUTBOX = cast(Table, OutboxRow.__table__)
USERS = cast(Table, UserRow.__table__)


@dataclass
class StoredCase:
    id: int
    definition_key: str
    definition_version: int
    state: str
    title: str
    attributes: dict[str, Any]
    created_by: int | None
    phase_entered_at: datetime
    next_due_at: datetime | None
    updated_at: datetime
    audit_seq: int
    audit_head: str
    row_version: int


_COLUMNS = [CASES.c[f.name] for f in fields(StoredCase)]


def fetch_case(session: Session, case_id: int, *, for_update: bool = False) -> StoredCase:
    query = select(*_COLUMNS).where(CASES.c.id == case_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("case_not_found", case_id=case_id)
    return StoredCase(*row)


def fetch_evidence(session: Session, case_id: int) -> list[Row[Any]]:
    return list(
        session.execute(
            select(EVIDENCE).where(EVIDENCE.c.case_id == case_id).order_by(EVIDENCE.c.id)
        )
    )


def save_case(session: Session, case: StoredCase, *, read_version: int) -> None:
    """Write the case back if nobody changed it since it was read; else refuse."""
    values = {f.name: getattr(case, f.name) for f in fields(StoredCase) if f.name != "id"}
    result = session.execute(
        update(CASES)
        .where(CASES.c.id == case.id, CASES.c.row_version == read_version)
        .values(**values)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise Conflict("concurrent_change")


def insert_evidence(session: Session, values: dict[str, Any]) -> int:
    result = cast(CursorResult[Any], session.execute(insert(EVIDENCE).values(**values)))
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def emails_for(session: Session, *, user_ids: list[int], roles: list[str]) -> list[str]:
    """Active users' addresses, by id or by role, each once, in a stable order."""
    if not user_ids and not roles:
        return []
    query = select(USERS.c.email).where(
        USERS.c.active.is_(True), (USERS.c.id.in_(user_ids)) | (USERS.c.role.in_(roles))
    )
    return sorted(set(session.scalars(query)))


def insert_outbox(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(OUTBOX).values(**values))
