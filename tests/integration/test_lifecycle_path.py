"""The lifecycle path (seeds/lifecycle.yaml) with the definition's examples takes a case of each
route from behovsanalys to avslutad through the real commands, one transaction per step, and
leaves an audit chain that verifies."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import User, attributes, drive, lifecycle, scalar, start, v1
from upphandla.flows.views.cases import verify_audit
from upphandla.states.clock import today
from upphandla.states.planner import plan_steps
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

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


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_the_lifecycle_path_takes_a_case_to_avslutad(
    db: Database, users: dict[str, User], overrides: dict[str, Any]
) -> None:
    case_id = start(db, users["bestallare"], **overrides)
    planned = plan_steps(
        lifecycle(),
        v1(),
        state="behovsanalys",
        attributes=attributes(**overrides),
        today=today(),
    )

    drive(db, case_id, "avslutad", users)

    state = scalar(db, "SELECT state FROM cases WHERE id = :id", id=case_id)
    assert state == "avslutad"
    recorded = scalar(db, "SELECT count(*) FROM evidence WHERE case_id = :id", id=case_id)
    assert recorded == sum(1 for s in planned if s.kind)
    with UnitOfWork(db, write=False) as uow:
        report = verify_audit(uow)
    assert report.ok, report.breaks
