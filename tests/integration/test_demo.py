"""`upphandla serve --demo` prepares the database: migrated, definitions loaded, demo users with
fresh tokens and demo cases in several phases, each with a chain that verifies. Preparing again
adds nothing but new tokens."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from helpers import bearer, counts, make_client, scalar, verify_database
from upphandla.cli.startup import prepare
from upphandla.flows.auth import actor_for_token
from upphandla.flows.commands.demo import LoadDemo
from upphandla.flows.handler import Handler
from upphandla.flows.settings import Settings
from upphandla.seeds.loader import SEEDS, read_yaml
from upphandla.states.lifecycle_path import PathError
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork


def cases_by_title(db: Database) -> list[tuple[str, str]]:
    with db.reader.connect() as conn:
        rows = conn.exec_driver_sql("SELECT title, state FROM cases ORDER BY id").all()
    return [(title, state) for title, state in rows]


def test_prepare_demo_twice_is_idempotent_and_rotates_tokens(db: Database, db_url: str) -> None:
    settings = Settings(database_url=db_url)
    demo = read_yaml(SEEDS / "demo.yaml")

    first = prepare(db, settings, demo=True)
    after_first = counts(db), cases_by_title(db), scalar(db, "SELECT count(*) FROM users")
    second = prepare(db, settings, demo=True)
    after_second = counts(db), cases_by_title(db), scalar(db, "SELECT count(*) FROM users")

    assert after_second == after_first  # no duplicate cases, events, evidence or users
    plan = read_yaml(SEEDS / "plan.yaml")
    rows = plan["planned_2023"] + plan["needs"]
    assert sorted(t for t, _ in cases_by_title(db)) == sorted(r["need"][:200] for r in rows)
    assert (
        [u.email for u in second] == [u.email for u in first] == [u["email"] for u in demo["users"]]
    )
    assert all(a.token != b.token for a, b in zip(first, second, strict=True))

    with UnitOfWork(db, write=False) as uow:
        assert all(actor_for_token(uow, u.token) is None for u in first)
        actors = [actor_for_token(uow, u.token) for u in second]
    assert [(a.name, a.role) for a in actors if a] == [(u.name, u.role) for u in second]


def test_demo_cases_are_in_different_phases_and_verify(db: Database, db_url: str) -> None:
    users = prepare(db, Settings(database_url=db_url), demo=True)

    states = Counter(state for _, state in cases_by_title(db))
    assert set(states) == {"behovsanalys", "forstudie", "ssa", "forvaltning"}, states

    report = verify_database(db)
    assert report.ok, report.breaks
    assert report.cases == len(cases_by_title(db))
    assert report.events == report.log_size >= counts(db)["audit_events"] > report.cases

    controller = next(u for u in users if u.role == "controller")
    with make_client(db, db_url) as client:
        verified = client.get("/api/audit/verify", headers=bearer(controller.token)).json()
        assert verified["ok"] is True and verified["breaks"] == []
        listed = client.get("/api/cases", headers=bearer(controller.token)).json()
        assert listed["total"] == report.cases
        contract = next(c for c in listed["items"] if c["state"] == "forvaltning")
        trail = client.get(
            f"/api/cases/{contract['id']}/audit", headers=bearer(controller.token)
        ).json()["events"]
    # An existing contract is registered into förvaltning, on the record from its first event.
    assert [e["action"] for e in trail] == ["contract_imported", "evidence_recorded"]
    assert trail[1]["evidence"]["kind"] == "contract_registered"


def test_prepare_without_demo_loads_definitions_only(db: Database, db_url: str) -> None:
    assert prepare(db, Settings(database_url=db_url), demo=False) == []
    assert scalar(db, "SELECT count(*) FROM definitions") >= 1
    assert counts(db)["cases"] == 0
    assert scalar(db, "SELECT count(*) FROM users") == 0


def test_the_demo_refuses_a_phase_behind_a_wait_and_says_which(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    """The demo runs on the real clock: it cannot wait out the tender period, so a demo.yaml that
    asks for a phase beyond it is refused with the wait named, and nothing is written."""
    prepare(db, Settings(database_url=db_url), demo=False)
    demo = read_yaml(SEEDS / "demo.yaml")
    demo["planned_phases"] = ["utvardering"]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    before = counts(db)
    with pytest.raises(PathError) as refused:
        Handler.on(db).run(LoadDemo(definition_key="it-upphandling", path=path))
    [problem] = refused.value.problems
    assert problem.path == "planned_phases.utvardering"
    assert "”close_tender” i fasen ”annonsering” får vänta upp till 60 dagar" in problem.message
    assert counts(db) == before
