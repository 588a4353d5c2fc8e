"""Read-side use cases: a case with everything a person needs to act on it, lists, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select

from upphandla.flows.casefile import deadlines_of, evidence_of, load_case, load_evidence, snapshot
from upphandla.flows.context import with_context
from upphandla.flows.jobs.findings import case_findings
from upphandla.flows.registry import Registry
from upphandla.states.checks_lists import ChecklistEntry, ChecklistParams, checklist
from upphandla.states.clock import now, today
from upphandla.states.definition import Definition
from upphandla.states.engine import TriggerPreview, preview
from upphandla.states.roles import Actor
from upphandla.store import audit
from upphandla.store.models import AuditEventRow, CaseRow, EvidenceRow, FindingRow
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class CaseView:
    row: CaseRow
    definition: Definition
    evidence: list[EvidenceRow]
    next_steps: list[TriggerPreview]
    findings: list[FindingRow]

    @property
    def deadlines(self) -> list[dict[str, Any]]:
        current = today()
        return [
            {**d.as_dict(), "overdue": d.due_on < current}
            for d in deadlines_of(self.definition, self.row, evidence_of(self.evidence))
        ]


def get_case(uow: UnitOfWork, *, registry: Registry, actor: Actor, case_id: int) -> CaseView:
    row = load_case(uow.s, case_id)
    definition, _ = registry.get(uow, row.definition_key, row.definition_version)
    rows = load_evidence(uow.s, row.id)
    evidence = evidence_of(rows)
    case = with_context(uow.s, snapshot(row), evidence, today())
    steps = preview(definition, case, evidence, actor=actor, today=today())
    return CaseView(row, definition, rows, steps, case_findings(uow, row.id))


@dataclass(frozen=True)
class CasePage:
    items: list[CaseRow]
    total: int
    limit: int
    offset: int


def list_cases(
    uow: UnitOfWork,
    *,
    state: str | None = None,
    subcategory: str | None = None,
    organisation: str | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CasePage:
    filters = []
    if state is not None:
        filters.append(CaseRow.state == state)
    if subcategory is not None:
        filters.append(CaseRow.subcategory == subcategory)
    if organisation is not None:
        filters.append(CaseRow.organisation == organisation)
    if overdue is not None:
        late = CaseRow.next_due_at < now()
        filters.append(late if overdue else ~late | CaseRow.next_due_at.is_(None))
    total = uow.s.scalar(select(func.count()).select_from(CaseRow).where(*filters)) or 0
    items = uow.s.scalars(
        select(CaseRow).where(*filters).order_by(CaseRow.id).limit(limit).offset(offset)
    ).all()
    return CasePage(list(items), total, limit, offset)


def case_audit(uow: UnitOfWork, *, case_id: int) -> list[dict[str, Any]]:
    """The case's audit trail, each event as hashed plus its hash, oldest first."""
    load_case(uow.s, case_id)
    rows = uow.s.scalars(
        select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq)
    )
    return [{**json.loads(r.body), "hash": r.hash} for r in rows]


def verify_audit(uow: UnitOfWork, *, case_id: int | None = None) -> audit.VerifyReport:
    return audit.verify_all(uow.s, case_id=case_id)


@dataclass(frozen=True)
class ChecklistView:
    gate: str | None
    entries: list[ChecklistEntry]


def case_checklist(uow: UnitOfWork, *, registry: Registry, case_id: int) -> ChecklistView:
    """The requirement set the case must contain: every item with why and where it comes from,
    whether it applies to this case and whether the requirements include it."""
    row = load_case(uow.s, case_id)
    definition, _ = registry.get(uow, row.definition_key, row.definition_version)
    gate = next(
        (g for t in definition.triggers for g in t.gates if g.check == "checklist_covered"), None
    )
    if gate is None:
        return ChecklistView(None, [])
    evidence = evidence_of(load_evidence(uow.s, row.id))
    params = cast(ChecklistParams, gate.parsed_params)
    return ChecklistView(gate.id, checklist(params, evidence, snapshot(row).facts(evidence)))
