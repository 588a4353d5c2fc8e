"""The case as its web page shows it: the case view of the API (flows.views.cases.get_case),
its audit trail, and what the viewer may do on it under the same access policy — the evidence
kinds they may record now and whether they may move it on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.access import scope_for
from upphandla.flows.registry import Registry
from upphandla.flows.views.cases import CaseView, case_audit, get_case
from upphandla.states.definition import EvidenceKind, Phase
from upphandla.states.remedies import recordable_in
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork


@dataclass(frozen=True)
class PhaseStep:
    phase: Phase
    status: str  # "klar", "pågår" or "kommande"


@dataclass(frozen=True)
class CasePage:
    view: CaseView
    trail: list[dict[str, Any]]
    recordable: list[EvidenceKind]  # what the viewer may record on the case now
    may_advance: (
        bool  # the policy lets the viewer move this case on (their role decides which step)
    )
    timeline: list[PhaseStep]


def timeline(view: CaseView, trail: list[dict[str, Any]]) -> list[PhaseStep]:
    """The phases in the definition's order with where the case stands: a phase it has left is
    done; a final phase it is not in is left out unless it is where the case ended."""
    left = {e.get("from_state") for e in trail if e.get("from_state") != e.get("to_state")}
    state = view.case.state
    steps = []
    for phase in view.definition.phases:
        if phase.id == state:
            steps.append(PhaseStep(phase, "pågår"))
        elif phase.id in left:
            steps.append(PhaseStep(phase, "klar"))
        elif not phase.final or phase.id == "avslutad":
            steps.append(PhaseStep(phase, "kommande"))
    return steps


def case_page(uow: UnitOfWork, *, registry: Registry, actor: Actor, case_id: int) -> CasePage:
    view = get_case(uow, registry=registry, actor=actor, case_id=case_id)
    trail = case_audit(uow, registry=registry, actor=actor, case_id=case_id).events
    may_record = uow.cases.is_visible(case_id, scope_for(uow, registry, actor, "record"))
    may_advance = uow.cases.is_visible(case_id, scope_for(uow, registry, actor, "advance"))
    kinds = recordable_in(view.definition, view.case.state) if may_record else []
    mine = [k for k in kinds if actor.role in k.roles]
    return CasePage(view, trail, mine, may_advance, timeline(view, trail))
