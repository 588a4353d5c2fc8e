"""The audit log resists change: triggers refuse UPDATE and DELETE, and whatever is done behind
their back (edit, delete, reorder, cut the tail, append) is found by `upphandla audit verify` and
GET /api/audit/verify, which name the case and the event."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from helpers import (
    User,
    audit_rows,
    counts,
    drive,
    event_hash,
    execute,
    record,
    scalar,
    start,
)
from upphandla.cli.main import app
from upphandla.flows.settings import get_settings
from upphandla.store.db import Database
from upphandla.store.models import AuditEventRow

AUDIT = AuditEventRow.__table__


@pytest.fixture
def chains(db: Database, users: dict[str, User]) -> tuple[int, int]:
    """Two cases: the first with five events (the one tampered with), the second with three."""
    first = start(db, users["bestallare"], title="Ekonomisystem")
    drive(db, first, "ssa", users)
    second = start(db, users["bestallare"], title="Växel")
    record(db, second, "behovsanalys_done", users["bestallare"])
    record(db, second, "behovsanalys_done", users["upphandlare"])
    assert [seq for _, seq, _ in audit_rows(db, first)] == [1, 2, 3, 4, 5]
    return first, second


def run_verify(db_url: str, *args: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            app, ["audit", "verify", *args], env={"UPPHANDLA_DATABASE_URL": db_url}
        )
    finally:
        get_settings.cache_clear()


def drop_guard(db: Database) -> None:
    if db.is_sqlite:
        execute(db, "DROP TRIGGER audit_events_no_update")
        execute(db, "DROP TRIGGER audit_events_no_delete")
    else:
        execute(db, "DROP TRIGGER audit_events_no_change ON audit_events")


def row_id(db: Database, case_id: int, seq: int) -> int:
    return next(i for i, s, _ in audit_rows(db, case_id) if s == seq)


def edit_body(db: Database, case_id: int) -> int:
    execute(
        db,
        "UPDATE audit_events SET body = REPLACE(body, 'Socialchefen', 'Någon annan') "
        "WHERE id = :id",
        id=row_id(db, case_id, 2),
    )
    return 2


def delete_middle(db: Database, case_id: int) -> int:
    execute(db, "DELETE FROM audit_events WHERE id = :id", id=row_id(db, case_id, 3))
    return 3


def swap_two(db: Database, case_id: int) -> int:
    a, b = row_id(db, case_id, 2), row_id(db, case_id, 3)
    execute(db, "UPDATE audit_events SET seq = -1 WHERE id = :id", id=a)
    execute(db, "UPDATE audit_events SET seq = 2 WHERE id = :id", id=b)
    execute(db, "UPDATE audit_events SET seq = 3 WHERE id = :id", id=a)
    return 2


def delete_last(db: Database, case_id: int) -> int:
    execute(db, "DELETE FROM audit_events WHERE id = :id", id=row_id(db, case_id, 5))
    return 5


def append_forged(db: Database, case_id: int) -> int:
    """INSERT is not guarded: add a sixth event, correctly chained to the fifth, that the case
    row knows nothing of (say, an approval nobody gave)."""
    with db.reader.connect() as conn:
        last = conn.execute(
            select(AUDIT.c.body, AUDIT.c.hash).where(AUDIT.c.case_id == case_id, AUDIT.c.seq == 5)
        ).one()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    event = {**json.loads(last.body), "seq": 6, "at": at.isoformat(), "prev_hash": last.hash}
    event.update(action="transition", trigger="complete_ssa", to_state="kravstallning")
    body = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    with db.writer.begin() as conn:
        conn.execute(
            insert(AUDIT).values(
                case_id=case_id,
                seq=6,
                at=at,
                action="transition",
                actor_id=None,
                body=body,
                prev_hash=last.hash,
                hash=event_hash(json.loads(body)),
            )
        )
    return 6


TAMPERINGS: dict[str, Callable[[Database, int], int]] = {
    "edit_body": edit_body,
    "delete_middle": delete_middle,
    "swap_seq": swap_two,
    "delete_last": delete_last,
    "append_forged": append_forged,
}


def test_untouched_chains_verify(
    db: Database, db_url: str, client: TestClient, users: dict[str, User], chains: tuple[int, int]
) -> None:
    result = run_verify(db_url)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("OK: 2 ärenden, 8 händelser")
    as_json = run_verify(db_url, "--json")
    assert as_json.exit_code == 0
    reported = json.loads(as_json.stdout)
    assert reported.pop("system")["ok"] is True  # the chain of administrative acts
    assert reported == {"ok": True, "cases": 2, "events": 8, "breaks": []}
    api = client.get("/api/audit/verify", headers=users["controller"].headers).json()
    assert api.pop("system")["ok"] is True
    assert api == {"ok": True, "cases": 2, "events": 8, "breaks": []}


@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampering_is_found_and_named(
    how: str,
    db: Database,
    db_url: str,
    client: TestClient,
    users: dict[str, User],
    chains: tuple[int, int],
) -> None:
    tampered, untouched = chains
    drop_guard(db)
    seq = TAMPERINGS[how](db, tampered)

    result = run_verify(db_url)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("FEL:")
    named = [line for line in lines if line.startswith("ÄRENDE ")]
    assert len(named) == 1, result.output
    assert re.match(rf"ÄRENDE {tampered}, händelse {seq}\b", named[0]), named[0]

    as_json = run_verify(db_url, "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [(b["case_id"], b["seq"]) for b in report["breaks"]] == [(tampered, seq)]

    api = client.get("/api/audit/verify", headers=users["controller"].headers)
    assert api.status_code == 200
    body = api.json()
    assert body["ok"] is False
    assert body["cases"] == 2
    assert [(b["case_id"], b["seq"]) for b in body["breaks"]] == [(tampered, seq)]
    assert body["breaks"][0]["problem"]
    assert untouched not in {b["case_id"] for b in body["breaks"]}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET body = '{}' WHERE seq = 2",
        "UPDATE audit_events SET seq = seq + 10",
        "DELETE FROM audit_events WHERE seq = 5",
        "DELETE FROM audit_events",
    ],
    ids=["edit", "renumber", "delete_one", "delete_all"],
)
def test_guard_triggers_refuse_change_while_in_place(
    statement: str, db: Database, db_url: str, chains: tuple[int, int]
) -> None:
    before = counts(db)
    bodies = scalar(db, "SELECT count(DISTINCT body) FROM audit_events")
    with pytest.raises(DBAPIError, match="append-only"):
        execute(db, statement)
    assert counts(db) == before
    assert scalar(db, "SELECT count(DISTINCT body) FROM audit_events") == bodies
    assert run_verify(db_url).exit_code == 0


# SQLite has no TRUNCATE statement, so this one runs on PostgreSQL only.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_truncate_is_refused_on_postgresql(
    db: Database, backend: str, chains: tuple[int, int]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        execute(db, "TRUNCATE audit_events CASCADE")
    assert counts(db)["audit_events"] == 8
