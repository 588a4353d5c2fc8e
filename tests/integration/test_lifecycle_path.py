"""The lifecycle path (seeds/lifecycle.yaml) with the definition's examples takes a case of each
route from behovsanalys to avslutad through the real commands, one transaction per step, and
leaves an audit chain that verifies."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import User, attributes, drive, frozen, lifecycle, scalar, start, v1, verify_database
from upphandla.states.clock import today
from upphandla.states.planner import PlannedStep, plan_steps
from upphandla.store.db import Database

CASES: dict[str, dict[str, Any]] = {
    "annonserad": {},
    "direktupphandling": {
        "route": "direktupphandling",
        "subcategory": "IT-programvara och licenser",
        "estimated_value_sek": 300_000,
    },
    "small-direct-award-of-hardware": {
        "route": "direktupphandling",
        "subcategory": "IT-hårdvara",
        "estimated_value_sek": 40_000,
        "hardware": True,
    },
    "avrop-of-consultants": {
        "route": "avrop",
        "subcategory": "IT-konsulter",
        "estimated_value_sek": 1_500_000,
        "consultants": True,
    },
    "citizen-facing-critical-with-personal-data-and-ai": {
        "personal_data": True,
        "citizen_facing": True,
        "critical_service": True,
        "uses_ai": True,
        "estimated_value_sek": 12_000_000,
    },
}


def whole_path(attrs: dict[str, Any]) -> list[PlannedStep]:
    """Every step of the path for a case with these attributes, from behovsanalys to the end,
    across its waits (each plan ends at a step that waits; the next starts where it leads)."""
    steps: list[PlannedStep] = []
    recorded: dict[str, Any] = {}
    state = "behovsanalys"
    while not v1().phase[state].final:
        part = plan_steps(
            lifecycle(), v1(), state=state, attributes=attrs, today=today(), recorded=recorded
        )
        steps += part
        recorded |= {f"{s.kind}.{k}": v for s in part if s.kind for k, v in s.data.items()}
        state = v1().trigger[part[-1].trigger or ""].dest
    return steps


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_the_lifecycle_path_takes_a_case_to_avslutad(
    db: Database, users: dict[str, User], overrides: dict[str, Any]
) -> None:
    planned = whole_path(attributes(**overrides))
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], **overrides)
        # The tender period and the standstill make the advertised cases wait: the clock moves.
        drive(db, case_id, "avslutad", users)

    state = scalar(db, "SELECT state FROM cases WHERE id = :id", id=case_id)
    assert state == "avslutad"
    recorded = scalar(db, "SELECT count(*) FROM evidence WHERE case_id = :id", id=case_id)
    assert recorded == sum(1 for s in planned if s.kind)
    report = verify_database(db)
    assert report.ok, report.breaks
