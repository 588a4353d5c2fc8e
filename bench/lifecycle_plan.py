"""One annonserad case from start to avslutad: every piece of evidence and every transition, in
order, with the role that acts and the data it records. The steps are the lifecycle path
(seeds/lifecycle.yaml) with the process definition's examples, as in the tests and the demo.
Shared by the benchmarks."""

from __future__ import annotations

from functools import cache

from upphandla.seeds.loader import DEFINITIONS, LIFECYCLE, read_yaml
from upphandla.states.clock import today
from upphandla.states.definition import Definition
from upphandla.states.lifecycle_path import parse_path
from upphandla.states.parse import parse_definition
from upphandla.states.planner import PlannedStep, plan_steps

# A critical, citizen-facing system with personal data: the case with the most steps.
ATTRIBUTES = {
    "title": "Ekonomisystem",
    "organisation": "Ekonomiavdelningen",
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


def lifecycle_plan() -> list[PlannedStep]:
    """The steps of one case with ATTRIBUTES from behovsanalys to avslutad, dated today."""
    d = definition()
    path = parse_path(read_yaml(LIFECYCLE), d)
    return plan_steps(path, d, state=d.initial, attributes=ATTRIBUTES, today=today())
