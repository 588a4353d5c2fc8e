"""The write path of a case in SQLAlchemy Core: one read of the case, one of its evidence, one
conditional update, plain inserts. Cheaper than the ORM on the hot path, same transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from upphandla.states.errors import Conflict, NotFound
from upphandla.store.models import CaseRow, EvidenceRow, OutboxRow, UserRow

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
    next_sweep_at: datetime | None
    updated_at: datetime
    audit_seq: int
    audit_head: str
    row_version: int


_COLUMNS = [CASES.c[f.name] for f in fields(StoredCase)]
_WRITABLE = [f.name for f in fields(StoredCase) if f.name != "id"]

# Statements are built once with bound parameters: building them per call costs more than
# running them on SQLite.
_SELECT_CASE = select(*_COLUMNS).where(CASES.c.id == bindparam("case_id"))
_SELECT_CASE_FOR_UPDATE = _SELECT_CASE.with_for_update()
_SELECT_EVIDENCE = (
    select(EVIDENCE).where(EVIDENCE.c.case_id == bindparam("case_id")).order_by(EVIDENCE.c.id)
)
_UPDATE_CASE = (
    update(CASES)
    .where(CASES.c.id == bindparam("_id"), CASES.c.row_version == bindparam("_read_version"))
    .values({name: bindparam(name) for name in _WRITABLE})
)
_INSERT_EVIDENCE = insert(EVIDENCE)
_INSERT_OUTBOX = insert(OUTBOX)


def fetch_case(session: Session, case_id: int, *, for_update: bool = False) -> StoredCase:
    lock = for_update and session.get_bind().dialect.name == "postgresql"
    query = _SELECT_CASE_FOR_UPDATE if lock else _SELECT_CASE
    row = session.connection().execute(query, {"case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound("case_not_found", case_id=case_id)
    return StoredCase(*row)


def fetch_evidence(session: Session, case_id: int) -> list[Row[Any]]:
    return list(session.connection().execute(_SELECT_EVIDENCE, {"case_id": case_id}))


def save_case(session: Session, case: StoredCase, *, read_version: int) -> None:
    """Write the case back if nobody changed it since it was read; else refuse."""
    params = {name: getattr(case, name) for name in _WRITABLE}
    params |= {"_id": case.id, "_read_version": read_version}
    result = session.connection().execute(_UPDATE_CASE, params)
    if result.rowcount != 1:
        raise Conflict("concurrent_change")


def insert_evidence(session: Session, values: dict[str, Any]) -> int:
    result = session.connection().execute(_INSERT_EVIDENCE, values)
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
    session.connection().execute(_INSERT_OUTBOX, values)
