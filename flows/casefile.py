"""One case as the use cases see it: the stored record, its evidence as the pure domain reads
it, its deadlines, and moving it to another phase."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.clock import local_date
from upphandla.states.deadlines import Deadline, case_deadlines, next_due_at
from upphandla.states.definition import Definition
from upphandla.states.events import DefinitionRef
from upphandla.store.records import StoredCase, StoredEvidence


def snapshot(case: StoredCase) -> CaseSnapshot:
    return CaseSnapshot(
        id=case.id,
        definition_key=case.definition_key,
        definition_version=case.definition_version,
        state=case.state,
        attributes=case.attributes,
        phase_entered_on=local_date(case.phase_entered_at),
    )


def evidence_of(rows: Iterable[StoredEvidence]) -> Evidence:
    return Evidence.of(
        EvidenceRecord(r.kind, r.data, r.recorded_at, r.recorded_by_name, r.role) for r in rows
    )


def definition_ref(case: StoredCase) -> DefinitionRef:
    return DefinitionRef(case.definition_key, case.definition_version)


def deadlines_of(definition: Definition, case: StoredCase, evidence: Evidence) -> list[Deadline]:
    return case_deadlines(definition, snapshot(case), evidence)


def enter_phase(
    definition: Definition, case: StoredCase, state: str, at: datetime, evidence: Evidence
) -> dict[str, Any]:
    """Move the case to `state` (the caller saves it); returns changed fields as before/after."""
    before = {"state": case.state, "next_due_at": _iso(case.next_due_at)}
    case.state = state
    case.phase_entered_at = at
    case.next_due_at = next_due_at(deadlines_of(definition, case, evidence))
    case.next_sweep_at = at  # the sweep plans the new phase's reminders, timers and re-checks
    case.updated_at = at
    after = {"state": case.state, "next_due_at": _iso(case.next_due_at)}
    return {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
