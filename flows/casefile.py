"""Reading and writing one case: the bridge between stored rows and the pure snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.clock import local_date
from upphandla.states.deadlines import Deadline, case_deadlines, next_due_at
from upphandla.states.definition import Definition
from upphandla.states.errors import NotFound
from upphandla.store.casestore import StoredCase
from upphandla.store.models import CaseRow, EvidenceRow


def load_case(session: Session, case_id: int, *, for_update: bool = False) -> CaseRow:
    query = select(CaseRow).where(CaseRow.id == case_id)
    if for_update and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound("case_not_found", case_id=case_id)
    return row


def load_evidence(session: Session, case_id: int) -> list[EvidenceRow]:
    return list(
        session.scalars(
            select(EvidenceRow).where(EvidenceRow.case_id == case_id).order_by(EvidenceRow.id)
        )
    )


def snapshot(row: CaseRow | StoredCase) -> CaseSnapshot:
    return CaseSnapshot(
        id=row.id,
        definition_key=row.definition_key,
        definition_version=row.definition_version,
        state=row.state,
        attributes=row.attributes,
        phase_entered_on=local_date(row.phase_entered_at),
    )


def evidence_of(rows: Sequence[EvidenceRow | Row[Any]]) -> Evidence:
    return Evidence.of(
        EvidenceRecord(r.kind, r.data, r.recorded_at, r.recorded_by_name, r.role) for r in rows
    )


def deadlines_of(
    definition: Definition, row: CaseRow | StoredCase, evidence: Evidence
) -> list[Deadline]:
    return case_deadlines(definition, snapshot(row), evidence)


def enter_phase(
    definition: Definition, row: CaseRow | StoredCase, state: str, at: datetime, evidence: Evidence
) -> dict[str, Any]:
    """Move the case to `state` (the caller writes it); returns changed fields as before/after."""
    before = {"state": row.state, "next_due_at": _iso(row.next_due_at)}
    row.state = state
    row.phase_entered_at = at
    row.next_due_at = next_due_at(deadlines_of(definition, row, evidence))
    row.next_sweep_at = at  # the sweep plans the new phase's reminders, timers and re-checks
    row.updated_at = at
    after = {"state": row.state, "next_due_at": _iso(row.next_due_at)}
    return {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
