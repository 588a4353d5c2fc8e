"""Every administrative act is in the system chain, appended in the same transaction as the act,
and `upphandla audit verify` (and GET /api/audit/verify) finds an edited, a deleted last and a
deleted middle event, naming the first break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from helpers import SEEDS, User, execute, load_seeds, scalar, v1_body
from upphandla.cli.main import app
from upphandla.flows.handler import Handler
from upphandla.flows.settings import get_settings
from upphandla.flows.system_chain import system_events
from upphandla.store.db import Database

ORG = "socialforvaltningen"


def cli(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env={"UPPHANDLA_DATABASE_URL": db_url})
    finally:
        get_settings.cache_clear()


def events(db: Database) -> list[dict[str, object]]:
    with Handler.on(db).reader() as uow:
        return [
            {"seq": e.seq, "action": e.action, "actor": e.actor_name, **e.data}
            for e in system_events(uow)
        ]


def verify(db_url: str) -> tuple[Result, dict[str, Any]]:
    """The result, and the report with the system chain's breaks only."""
    result = cli(db_url, "audit", "verify", "--json")
    report = json.loads(result.stdout)
    report["breaks"] = [b for b in report["breaks"] if b["chain"] == "system"]
    return result, report


def drop_guard(db: Database) -> None:
    if db.is_sqlite:
        execute(db, "DROP TRIGGER system_events_no_update")
        execute(db, "DROP TRIGGER system_events_no_delete")
    else:
        execute(db, "DROP TRIGGER system_events_no_change ON system_events")


@pytest.fixture
def acts(db: Database, db_url: str, tmp_path: Path) -> list[str]:
    """Every kind of administrative act, from the command line; the tokens it printed."""
    load_seeds(db)  # the shipped definition and threshold amounts, by the system
    tokens = []
    for email, role, extra in (
        ("olle@example.se", "upphandlare", []),
        ("david@example.se", "delegat", ["--mandate", "forvaltningschef"]),
    ):
        added = cli(
            db_url,
            "user", "add", "--name", email.split("@")[0].title(), "--email", email,
            "--role", role, "--org", ORG, *extra,
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        tokens.append(added.stdout.strip().splitlines()[-1])
    created = cli(db_url, "token", "create", "olle@example.se", "--name", "integration")
    assert created.exit_code == 0, created.output
    tokens.append(created.stdout.strip().splitlines()[-1])
    token_id = scalar(db, "SELECT id FROM tokens WHERE name = 'integration'")
    assert cli(db_url, "token", "revoke", str(token_id)).exit_code == 0
    assert cli(db_url, "user", "disable", "david@example.se").exit_code == 0
    v2 = v1_body()
    v2["version"] = 2
    file = tmp_path / "v2.yaml"
    file.write_text(yaml.safe_dump(v2, allow_unicode=True), encoding="utf-8")
    assert cli(db_url, "definition", "load", str(file)).exit_code == 0
    sample = SEEDS / "sanctions" / "sample.csv"
    loaded = cli(db_url, "sanctions", "load", str(sample), "--date", "2026-01-15")
    assert loaded.exit_code == 0, loaded.output
    entered = cli(
        db_url,
        "threshold", "add", "direct_award", "--amount", "800000", "--from", "2040-01-01",
        "--source", "Lag (2040:1)",
    )  # fmt: skip
    assert entered.exit_code == 0, entered.output
    return tokens


def test_every_administrative_act_is_in_the_verified_chain(
    db: Database, db_url: str, acts: list[str]
) -> None:
    chain = events(db)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    by_system = [e for e in chain if e["actor"] == "Systemet"]
    assert {e["action"] for e in by_system} == {"definition.loaded", "threshold.entered"}
    from_cli = [e for e in chain if e["actor"] != "Systemet"]
    assert all(str(e["actor"]).startswith("kommandoraden (") for e in from_cli)
    assert [e["action"] for e in from_cli] == [
        "user.added",
        "token.created",
        "user.added",
        "token.created",
        "token.created",
        "token.revoked",
        "user.disabled",
        "definition.loaded",
        "sanctions.loaded",
        "threshold.entered",
    ]
    david = next(e for e in from_cli if e["action"] == "user.added" and e["role"] == "delegat")
    assert david["mandate"] == "forvaltningschef" and david["organisation"] == ORG
    disabled = next(e for e in from_cli if e["action"] == "user.disabled")
    assert disabled["email"] == "david@example.se" and len(disabled["tokens_revoked"]) == 1  # type: ignore[arg-type]
    created = [e for e in from_cli if e["action"] == "token.created"]
    assert [e["name"] for e in created] == ["standard", "standard", "integration"]
    loaded = next(e for e in from_cli if e["action"] == "definition.loaded")
    assert (loaded["key"], loaded["version"]) == ("it-upphandling", 2)
    entered = next(e for e in from_cli if e["action"] == "threshold.entered")
    assert (entered["series"], entered["amount_sek"]) == ("direct_award", 800000)

    bodies = " ".join(str(row) for row in _rows(db, "SELECT body FROM system_events ORDER BY seq"))
    digests = _rows(db, "SELECT token_hash FROM tokens")
    for secret in [*acts, *digests]:
        assert secret not in bodies  # never the token, nor its hash

    result, report = verify(db_url)
    assert result.exit_code == 0, result.output
    assert report["ok"] is True and report["breaks"] == []
    assert report["events"] >= len(chain)


def _rows(db: Database, sql: str) -> list[str]:
    from sqlalchemy import text

    with db.reader.connect() as conn:
        return [str(r[0]) for r in conn.execute(text(sql))]


def test_a_refused_act_leaves_no_trace_in_the_chain(db: Database, db_url: str) -> None:
    before = len(events(db))
    refused = cli(
        db_url,
        "user", "add", "--name", "X", "--email", "x@example.se", "--role", "delegat",
        "--org", ORG, "--mandate", "kung",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert len(events(db)) == before
    assert scalar(db, "SELECT seq FROM system_chain") == before


def test_the_chain_refuses_update_and_delete(db: Database, acts: list[str]) -> None:
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        execute(db, "UPDATE system_events SET action = 'x' WHERE seq = 1")
    with pytest.raises(DBAPIError):
        execute(db, "DELETE FROM system_events WHERE seq = 1")


def edit_body(db: Database, last: int) -> int:
    """Olle made an administrator after the fact."""
    where = "action = 'user.added' AND body LIKE '%olle@example.se%'"
    seq = int(scalar(db, f"SELECT seq FROM system_events WHERE {where}"))
    execute(
        db,
        "UPDATE system_events SET body = "
        f'REPLACE(body, \'"role":"upphandlare"\', \'"role":"admin"\') WHERE {where}',
    )
    return seq


def delete_newest(db: Database, last: int) -> int:
    execute(db, "DELETE FROM system_events WHERE seq = :s", s=last)
    return last


def delete_middle(db: Database, last: int) -> int:
    execute(db, "DELETE FROM system_events WHERE seq = 6")
    return 6


def cut_head(db: Database, last: int) -> int:
    """The tail and the head cut back together: the head no longer matches the chain."""
    execute(db, "DELETE FROM system_events WHERE seq = :s", s=last)
    execute(db, "UPDATE system_chain SET seq = :s", s=last - 1)
    return last - 1


TAMPERINGS = {
    "edit_body": edit_body,
    "delete_newest": delete_newest,
    "delete_middle": delete_middle,
    "cut_tail_and_head_count": cut_head,
}


@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampering_with_the_chain_is_found_and_named(
    how: str,
    db: Database,
    db_url: str,
    acts: list[str],
    client: TestClient,
    users: dict[str, User],
) -> None:
    last = scalar(db, "SELECT max(seq) FROM system_events")
    assert scalar(db, "SELECT seq FROM system_chain") == last
    drop_guard(db)
    seq = TAMPERINGS[how](db, last)

    result, report = verify(db_url)
    assert result.exit_code == 1
    assert report["ok"] is False
    first_break = report["breaks"][0]
    assert first_break["seq"] == seq, first_break
    assert first_break["problem"]
    lines = cli(db_url, "audit", "verify").stdout.splitlines()
    assert any(line.startswith(f"SYSTEMKEDJAN, händelse {seq}") for line in lines), lines
    assert lines[-1].startswith("FEL:")

    api = client.get("/api/audit/verify", headers=users["controller"].headers)
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["ok"] is False
    assert [b["seq"] for b in body["breaks"] if b["chain"] == "system"][0] == seq
