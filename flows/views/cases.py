"""Read models of cases: one case with everything a person needs to act on it, lists, the audit
trail and the requirement checklist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.access import SealedView, readable_case, scope_for, sealed_view
from upphandla.flows.casefile import deadlines_of, evidence_of, snapshot
from upphandla.flows.lookups import with_lookups
from upphandla.flows.registry import Registry
from upphandla.states.checks_lists import (
    CHECKLIST_CHECK,
    ChecklistEntry,
    ChecklistParams,
    checklist,
)
from upphandla.states.clock import now, today
from upphandla.states.definition import Definition, gates_using
from upphandla.states.engine import TriggerPreview, preview, preview_lookups
from upphandla.states.roles import Actor
from upphandla.store.cases import CaseFilter
from upphandla.store.records import Page, StoredCase, StoredEvidence, StoredFinding
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class CaseView:
    case: StoredCase
    definition: Definition
    evidence: list[StoredEvidence]
    next_steps: list[TriggerPreview]
    findings: list[StoredFinding]  # open first, then the latest closed
    sealed: SealedView  # the bids the viewer may see (none, for most, before the award)

    @property
    def deadlines(self) -> list[dict[str, Any]]:
        current = today()
        return [
            {**d.as_dict(), "overdue": d.due_on < current}
            for d in deadlines_of(self.definition, self.case, evidence_of(self.evidence))
        ]


def get_case(uow: UnitOfWork, *, registry: Registry, actor: Actor, case_id: int) -> CaseView:
    case = readable_case(uow, registry, actor, case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    rows = uow.evidence.of_case(case.id)
    evidence = evidence_of(rows)
    day = today()
    snap = snapshot(case)
    snap = with_lookups(uow, snap, preview_lookups(definition, snap, evidence, today=day))
    steps = preview(definition, snap, evidence, actor=actor, today=day)
    findings = sorted(uow.findings.of_case(case.id), key=lambda f: (f.closed_at is not None, -f.id))
    sealed = sealed_view(uow, definition, actor, case, {r.kind for r in rows})
    return CaseView(case, definition, rows, steps, findings, sealed)


def list_cases(
    uow: UnitOfWork,
    *,
    registry: Registry,
    actor: Actor,
    state: str | None = None,
    subcategory: str | None = None,
    organisation: str | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[StoredCase]:
    filters = CaseFilter(
        state=state,
        subcategory=subcategory,
        organisation=organisation,
        overdue=overdue,
        overdue_at=now(),
    )
    scope = scope_for(uow, registry, actor)
    return uow.cases.page(filters, scope, limit=limit, offset=offset)


@dataclass(frozen=True)
class AuditView:
    events: list[dict[str, Any]]
    sealed_events: list[dict[str, Any]]  # the sealed chain, when the viewer may see it
    sealed: SealedView


def case_audit(uow: UnitOfWork, *, registry: Registry, actor: Actor, case_id: int) -> AuditView:
    """The case's audit trail, each event as hashed plus its hash, oldest first; and its sealed
    chain (bids) to those who may see the bids."""
    case = readable_case(uow, registry, actor, case_id)
    recorded = {r.kind for r in uow.evidence.of_case(case.id)}
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    sealed = sealed_view(uow, definition, actor, case, recorded)
    chain = uow.sealed.trail(case.id) if sealed.rows else []
    return AuditView(uow.audit.trail(case_id), chain, sealed)


@dataclass(frozen=True)
class ChecklistView:
    gate: str | None
    entries: list[ChecklistEntry]


def case_checklist(
    uow: UnitOfWork, *, registry: Registry, actor: Actor, case_id: int
) -> ChecklistView:
    """The requirement set the case must contain: every item with why and where it comes from,
    whether it applies to this case and whether the requirements include it."""
    case = readable_case(uow, registry, actor, case_id)
    definition, _ = registry.get(uow, case.definition_key, case.definition_version)
    gate = next(iter(gates_using(definition, CHECKLIST_CHECK)), None)
    if gate is None:
        return ChecklistView(None, [])
    evidence = evidence_of(uow.evidence.of_case(case.id))
    params = gate.params_as(ChecklistParams)
    return ChecklistView(gate.id, checklist(params, evidence, snapshot(case).facts(evidence)))
