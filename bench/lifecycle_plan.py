"""One annonserad case from start to avslutad: every piece of evidence and every transition, in
order, with the role that acts and the data it records. The steps are the lifecycle path
(seeds/lifecycle.yaml) with the process definition's examples, as in the tests and the demo.
Shared by the benchmarks.

The law makes the case wait on its way (the minimum tender period, the standstill), so the path
comes in parts: each ends at a step that waits, and the next part is planned from the phase that
step leads to, on the day the wait is over (states.planner)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from upphandla.seeds.loader import DEFINITIONS, LIFECYCLE, read_yaml
from upphandla.states.definition import Definition
from upphandla.states.lifecycle_path import LifecyclePath, parse_path
from upphandla.states.parse import parse_definition
from upphandla.states.planner import PlannedStep, plan_steps

# A critical, citizen-facing system with personal data: the case with the most steps.
ATTRIBUTES = {
    "title": "Ekonomisystem",
    "organisation": "kommunstyrelsens_forvaltning",
    "subcategory": "Verksamhetssystem",
    "route": "annonserad",
    "estimated_value_sek": 5_000_000,
    "personal_data": True,
    "citizen_facing": True,
    "critical_service": True,
    "uses_ai": False,
    "cloud_service": True,
    "consultants": False,
    "hardware": False,
}


@cache
def definition() -> Definition:
    """The shipped v1 definition, parsed."""
    return parse_definition(read_yaml(DEFINITIONS / "it-upphandling.v1.yaml"))


@cache
def path() -> LifecyclePath:
    return parse_path(read_yaml(LIFECYCLE), definition())


def plan_part(state: str, day: date, recorded: Mapping[str, Any]) -> list[PlannedStep]:
    """The steps of a case with ATTRIBUTES from `state`, dated `day`, up to and including the
    next step that waits (or to avslutad). `recorded`: the facts of the evidence it has."""
    d = definition()
    return plan_steps(path(), d, state=state, attributes=ATTRIBUTES, today=day, recorded=recorded)


def roles() -> list[str]:
    """Everyone who acts somewhere on the path."""
    return sorted({step.role for steps in path().phases.values() for step in steps})
