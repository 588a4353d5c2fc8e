"""The command line: definition check/load, user add, db upgrade."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import inspect
from typer.testing import CliRunner, Result

from helpers import V1_FILE, bearer, load_seeds, make_client, scalar, v1_body
from upphandla.cli.main import app
from upphandla.flows.settings import get_settings
from upphandla.store.db import Database


def cli(*args: str, db_url: str | None = None) -> Result:
    env = {"UPPHANDLA_DATABASE_URL": db_url} if db_url else {}
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def write_yaml(path: Path, body: Any) -> Path:
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- definition check -----------------------------------------------------------------------------


def test_check_accepts_the_shipped_definition() -> None:
    result = cli("definition", "check", str(V1_FILE))
    assert result.exit_code == 0, result.output
    assert "it-upphandling version 1 är giltig" in result.stdout


def test_check_names_the_place_of_a_yaml_syntax_error(tmp_path: Path) -> None:
    broken = tmp_path / "trasig.yaml"
    broken.write_text("key: it-upphandling\nversion: 1\nphases: [behovsanalys\n", encoding="utf-8")
    result = cli("definition", "check", str(broken))
    assert result.exit_code != 0
    assert str(broken) in result.output
    assert "inte giltig YAML" in result.output
    assert "rad 4" in result.output  # where the parser gave up: the end of the open list


def _unknown_dest(b: dict[str, Any]) -> None:
    b["triggers"][0]["dest"] = "forhandling"


def _unknown_source(b: dict[str, Any]) -> None:
    b["triggers"][2]["source"] = ["ssa", "forhandling"]


def _unknown_evidence(b: dict[str, Any]) -> None:
    b["triggers"][1]["gates"][0]["params"]["kind"] = "rfi_done"


def _unknown_role(b: dict[str, Any]) -> None:
    b["evidence_kinds"][3]["roles"] = ["upphandlare", "chef"]


# The gates changed below are written out in place; a gate shared through a YAML anchor (such as
# `*standstill` or `*requirements_done`) would be reported at every trigger that uses it.
def _unknown_fact(b: dict[str, Any]) -> None:
    assert b["triggers"][10]["gates"][2]["id"] == "pub_avtal_when_personal_data"
    b["triggers"][10]["gates"][2]["applies_when"] = {"fact": "personuppgifter", "eq": True}


def _wrong_type(b: dict[str, Any]) -> None:
    b["phases"][0]["deadline_days"] = "sextio"


def _missing_field(b: dict[str, Any]) -> None:
    gate = dict(b["triggers"][5]["gates"][0])  # the YAML shares it with sign_contract's
    assert gate["id"] == "direct_award_below_threshold"
    del gate["source"]
    b["triggers"][5]["gates"][0] = gate


def _unknown_initial(b: dict[str, Any]) -> None:
    b["initial"] = "start"


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "unknown_dest": (_unknown_dest, ["triggers[0].dest"]),
    "unknown_source": (_unknown_source, ["triggers[2].source[1]"]),
    "unknown_evidence_kind": (_unknown_evidence, ["triggers[1].gates[0].params.kind"]),
    "unknown_role": (_unknown_role, ["evidence_kinds[3].roles[1]"]),
    "unknown_fact": (_unknown_fact, ["triggers[10].gates[2].applies_when"]),
    "wrong_type": (_wrong_type, ["phases[0].deadline_days"]),
    "missing_field": (_missing_field, ["triggers[5].gates[0].source"]),
    "unknown_initial": (_unknown_initial, ["initial"]),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_check_names_the_exact_field_path(name: str, tmp_path: Path) -> None:
    mutate, paths = MUTATIONS[name]
    body = v1_body()
    mutate(body)
    file = write_yaml(tmp_path / f"{name}.yaml", body)

    result = cli("definition", "check", str(file))

    assert result.exit_code != 0
    reported = [line.split(": ")[1] for line in result.stderr.splitlines() if line.count(": ") >= 2]
    assert reported == paths, result.output
    assert "definitionen kan inte användas" in result.output
    assert "Traceback" not in result.output


# -- definition load --------------------------------------------------------------------------------


def test_load_adds_a_version_once_and_refuses_a_changed_one(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    v2 = v1_body()
    v2["version"] = 2
    v2["title"] = "IT-upphandling, version 2"
    file = write_yaml(tmp_path / "v2.yaml", v2)
    first = cli("definition", "load", str(file), db_url=db_url)
    assert first.exit_code == 0, first.output
    assert "it-upphandling version 2 är inläst" in first.stdout
    again = cli("definition", "load", str(file), db_url=db_url)
    assert again.exit_code == 0, again.output
    assert "fanns redan, oförändrad" in again.stdout

    v2["title"] = "IT-upphandling, ändrad i efterhand"
    changed = cli("definition", "load", str(write_yaml(tmp_path / "v2b.yaml", v2)), db_url=db_url)
    assert changed.exit_code == 1
    assert "Processdefinitionen har ändrats" in changed.output
    assert scalar(db, "SELECT title FROM definitions WHERE version = 2") == (
        "IT-upphandling, version 2"
    )


# -- user add ---------------------------------------------------------------------------------------


def test_user_add_prints_a_token_that_authenticates(db: Database, db_url: str) -> None:
    load_seeds(db)
    result = cli(
        "user",
        "add",
        "--name",
        "Olle Upphandlare",
        "--email",
        "olle@example.se",
        "--role",
        "upphandlare",
        "--org",
        "kommunstyrelsens_forvaltning",
        db_url=db_url,
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    stored = scalar(db, "SELECT token_hash FROM tokens")
    assert stored == hashlib.sha256(token.encode()).hexdigest()  # only its hash is kept
    assert scalar(db, "SELECT name FROM tokens") == "standard"

    with make_client(db, db_url) as client:
        assert client.get("/api/cases", headers=bearer(token)).status_code == 200
        assert client.get("/api/cases", headers=bearer(token[:-1])).status_code == 401
        started = client.post(
            "/api/cases",
            json={
                "title": "Upphandlingssystem",
                "organisation": "kommunstyrelsens_forvaltning",
                "subcategory": "Verksamhetssystem",
                "route": "annonserad",
                "estimated_value_sek": 3_000_000,
                "personal_data": True,
                "citizen_facing": False,
                "critical_service": False,
                "uses_ai": False,
                "cloud_service": True,
                "consultants": False,
                "hardware": False,
            },
            headers=bearer(token),
        )
        assert started.status_code == 201, started.text


def test_user_add_refuses_an_unknown_role(db: Database, db_url: str) -> None:
    result = cli(
        "user",
        "add",
        "--name",
        "X",
        "--email",
        "x@example.se",
        "--role",
        "chef",
        "--org",
        "socialforvaltningen",
        db_url=db_url,
    )
    assert result.exit_code != 0
    assert "role" in result.stderr and "okänd roll" in result.stderr
    assert scalar(db, "SELECT count(*) FROM users") == 0


# -- db upgrade -------------------------------------------------------------------------------------


def test_db_upgrade_twice_keeps_schema_and_data(db: Database, db_url: str) -> None:
    load_seeds(db)
    head = scalar(db, "SELECT version_num FROM alembic_version")
    for _ in range(2):
        result = cli("db", "upgrade", db_url=db_url)
        assert result.exit_code == 0, result.output
        assert "uppgraderad" in result.stdout
    assert scalar(db, "SELECT version_num FROM alembic_version") == head
    assert scalar(db, "SELECT count(*) FROM definitions") == 1
    tables = set(inspect(db.reader).get_table_names())
    assert {"cases", "audit_events", "evidence", "outbox", "users", "definitions"} <= tables


# -- commands that read: never against a missing or unprepared database --------------------------

READING_COMMANDS = [
    ("audit", "verify"),
    ("sanctions", "show"),
    ("outbox", "deliver"),
    ("outbox", "retry", "1"),
]


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_reading_command_against_a_missing_database_says_so_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Run from another directory, a command must not create an empty database there."""
    missing = tmp_path / "elsewhere" / "upphandla.db"
    result = cli(*command, db_url=f"sqlite:///{missing}")
    assert result.exit_code == 1, result.output
    assert "Databasen finns inte" in result.output
    assert "UPPHANDLA_DATABASE_URL" in result.output
    assert "Traceback" not in result.output
    assert not missing.exists()
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_reading_command_against_an_unmigrated_database_says_what_to_run(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    empty = tmp_path / "tom.db"
    sqlite3.connect(empty).close()  # an empty SQLite file: no tables of ours
    result = cli(*command, db_url=f"sqlite:///{empty}")
    assert result.exit_code == 1, result.output
    assert "Databasen är inte förberedd" in result.output
    assert "upphandla db upgrade" in result.output
    assert "Traceback" not in result.output
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
