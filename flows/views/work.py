"""My work: for one person, what waits for them on the open cases they may read — evidence a
blocked gate asks of their role, steps their role may take now (reviews, signatures, approving
a delivery), acceptance tests to run, open findings and deadlines they are told about — each
with the date it is due and the days left, overdue first.

Who is waited for is what the definition says: the roles that may record the evidence or take
the step (states.remedies, the triggers' roles), and for deadlines and findings the roles its
reminder policy tells (`creator` being the person who started the case). The cases are those
the access policy lets the person read (flows.access), one case view each (flows.views.cases)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from upphandla.flows.access import scope_for
from upphandla.flows.registry import Registry
from upphandla.flows.views.cases import CaseView, get_case
from upphandla.states.clock import today
from upphandla.states.deadlines import FINDING
from upphandla.states.roles import Actor
from upphandla.store.cases import CaseFilter
from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork

MAX_CASES = 200
ACCEPTANCE_PHASE = "acceptanstest"


@dataclass(frozen=True)
class WorkItem:
    case_id: int
    case_title: str
    kind: str  # "underlag", "steg", "acceptanstest", "anmärkning", "frist"
    what: str  # what to do, in Swedish
    why: str  # the rule, with its source
    due_on: date | None

    @property
    def days_left(self) -> int | None:
        return None if self.due_on is None else (self.due_on - today()).days

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < today()


def _told(view: CaseView, actor: Actor, deadline_kind: str) -> bool:
    reminders = view.definition.reminders
    policy = reminders.policy.get(deadline_kind) if reminders else None
    if policy is None:
        return False
    creator = "creator" in policy.notify and view.case.created_by == actor.user_id
    return actor.role in policy.notify or creator


def items_of(view: CaseView, actor: Actor) -> list[WorkItem]:
    case: StoredCase = view.case
    deadlines = view.deadlines
    phase_due = min(
        (date.fromisoformat(d["due_on"]) for d in deadlines if d["kind"] == "phase"), default=None
    )

    def item(kind: str, what: str, why: str, due: date | None = phase_due) -> WorkItem:
        return WorkItem(case.id, case.title, kind, what, why, due)

    out: list[WorkItem] = []
    asked: set[str] = set()
    for step in view.next_steps:
        if step.role_allowed and step.ready and step.gate_results:
            out.append(
                item("steg", f"Kan göras nu: {step.trigger.title}", "Alla grindar uppfyllda")
            )
        for result in step.gate_results:
            for need in step.needs.get(result.gate, ()):
                if actor.role in need.roles and need.kind not in asked:
                    asked.add(need.kind)
                    why = "; ".join(f"{r.message} ({r.source})" for r in result.reasons)
                    out.append(item("underlag", f"Registrera ”{need.title}”", why))
    if case.state == ACCEPTANCE_PHASE and any(
        actor.role in k.roles for k in view.definition.evidence_kinds if k.id == "acceptance_round"
    ):
        out.append(item("acceptanstest", "Acceptanstest pågår", "§ 10.6.2"))
    for f in view.findings:
        if f.closed_at is None and _told(view, actor, FINDING):
            out.append(item("anmärkning", f.title, f"{f.message} ({f.source})", f.opened_at.date()))
    for d in deadlines:
        if d["kind"] != "phase" and _told(view, actor, d["kind"]):
            due = date.fromisoformat(d["due_on"])
            out.append(item("frist", f"{d['title']}: {d['action']}", d["source"], due))
    return out


def my_work(uow: UnitOfWork, *, registry: Registry, actor: Actor) -> list[WorkItem]:
    """Everything that waits for `actor`, overdue first, then by due date (undated last)."""
    scope = scope_for(uow, registry, actor)
    found = uow.cases.page(CaseFilter(), scope, limit=MAX_CASES, offset=0)
    items: list[WorkItem] = []
    for row in found.items:
        definition, _ = registry.get(uow, row.definition_key, row.definition_version)
        if definition.phase[row.state].final:
            continue
        view = get_case(uow, registry=registry, actor=actor, case_id=row.id)
        items += items_of(view, actor)
    far = date.max
    return sorted(items, key=lambda i: (not i.overdue, i.due_on or far, i.case_id))
