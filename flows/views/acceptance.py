"""The acceptance test of a case as its page shows it: the requirements in force (ska/bör), each
test round's results, when the supplier said it was ready, and the step that approves the
delivery with what its gates say (the same gates that decide it: states.checks_acceptance)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.casefile import evidence_of
from upphandla.flows.views.case_page import CasePage
from upphandla.states.checks_acceptance import (
    ACCEPTANCE_CHECK,
    AcceptanceParams,
    Requirement,
    requirements_in_force,
)
from upphandla.states.definition import gates_using
from upphandla.states.engine import TriggerPreview


@dataclass(frozen=True)
class AcceptanceView:
    params: AcceptanceParams | None
    requirements: list[Requirement]
    rounds: list[dict[str, dict[str, Any]]]  # per round: requirement id -> {result, note}
    ready_on: str | None  # the supplier's latest readiness
    signoff: TriggerPreview | None  # the step whose gates hold the delivery to its skakrav

    def failing(self, round_no: int) -> list[str]:
        """The skakrav not passed in round `round_no` (1-based)."""
        if self.params is None:
            return []
        results = self.rounds[round_no - 1]
        return [
            r.id
            for r in self.requirements
            if r.level == self.params.mandatory_level
            and results.get(r.id, {}).get("result") != self.params.passed_result
        ]


def acceptance_view(page: CasePage) -> AcceptanceView:
    definition = page.view.definition
    gates = gates_using(definition, ACCEPTANCE_CHECK)
    if not gates:
        return AcceptanceView(None, [], [], None, None)
    params = gates[0].params_as(AcceptanceParams)
    evidence = evidence_of(page.view.evidence)
    requirements = list(requirements_in_force(evidence.records, params).values())
    rounds = [
        {str(r["id"]): r for r in record.data.get("results", [])}
        for record in evidence.records
        if record.kind == params.round_kind
    ]
    ready = [r for r in page.view.evidence if r.kind == "supplier_ready"]
    signoff = next(
        (s for s in page.view.next_steps if any(g.gate == gates[0].id for g in s.gate_results)),
        None,
    )
    return AcceptanceView(
        params,
        requirements,
        rounds,
        str(ready[-1].data.get("ready_on")) if ready else None,
        signoff,
    )
