"""The audit log resists change: triggers refuse UPDATE and DELETE, and whatever someone with
write access to the database does behind their back is found by `upphandla audit verify` and
GET /api/audit/verify, which name the case and the event, or the row and the field. The
tampering matrix runs after a signed checkpoint, as the schedule writes them: each way round is
one of the issue's list (edits, deletions, rewrites with recomputed hashes, a forged event with
the heads moved, a deleted case, changed live rows, a changed user role)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from helpers import (
    User,
    audit_rows,
    counts,
    drive,
    execute,
    record,
    run,
    scalar,
    start,
)
from upphandla.cli.main import app
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.settings import get_settings
from upphandla.store.db import Database
from upphandla.store.models import AuditEventRow, CaseRow, DefinitionRow, EvidenceRow

AUDIT = AuditEventRow.__table__
CASES = CaseRow.__table__
EVIDENCE = EvidenceRow.__table__
DEFINITIONS = DefinitionRow.__table__


@pytest.fixture
def chains(db: Database, users: dict[str, User]) -> tuple[int, int]:
    """Two cases: the first with five events (the one tampered with), the second with three."""
    first = start(db, users["bestallare"], title="Ekonomisystem")
    drive(db, first, "ssa", users)
    second = start(db, users["bestallare"], title="Växel")
    record(db, second, "behovsanalys_done", users["bestallare"])
    record(db, second, "behovsanalys_done", users["upphandlare"])
    assert [seq for _, seq, _ in audit_rows(db, first)] == [1, 2, 3, 4, 5]
    listed = "name,identifier,country,reference\nSanktionerad Handel AB,5560009999,RU,EU 2014/269\n"
    run(db, LoadSanctionsList(text=listed, source="EU", list_date=date(2026, 11, 1)))
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


GENESIS = "0" * 64


def drop_guards(db: Database) -> None:
    """What someone with write access to the database can do: lift the append-only guards."""
    for table in ("audit_events", "system_events"):
        if db.is_sqlite:
            execute(db, f"DROP TRIGGER {table}_no_update")
            execute(db, f"DROP TRIGGER {table}_no_delete")
        else:
            execute(db, f"DROP TRIGGER {table}_no_change ON {table}")


def events_of(db: Database, case_id: int) -> list[Any]:
    with db.reader.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT id, seq, body, hash, prev_hash, log_index FROM audit_events "
                    "WHERE case_id = :c ORDER BY seq"
                ),
                {"c": case_id},
            )
        )


def sha(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def dump(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def rehash_from(
    db: Database, case_id: int, seq: int, edit: Callable[[dict[str, Any]], None]
) -> None:
    """Edit event `seq`, give it its new hash, re-link and re-hash every event after it, and
    move the case's head: every chain link holds afterwards."""
    events = events_of(db, case_id)
    prev = events[seq - 2].hash if seq > 1 else GENESIS
    for ev in events[seq - 1 :]:
        body = json.loads(ev.body)
        if ev.seq == seq:
            edit(body)
        body["prev_hash"] = prev
        new = dump(body)
        execute(
            db,
            "UPDATE audit_events SET body = :b, prev_hash = :p, hash = :h WHERE id = :id",
            b=new,
            p=prev,
            h=sha(new),
            id=ev.id,
        )
        prev = sha(new)
    execute(db, "UPDATE cases SET audit_head = :h WHERE id = :c", h=prev, c=case_id)


@dataclass(frozen=True)
class Named:
    """What verification must name: the chain, and whichever of case, event, field and row
    are given."""

    chain: str
    case_id: int | None = None
    seq: int | None = None
    field: str | None = None
    record: int | None = None

    def among(self, breaks: list[dict[str, Any]]) -> bool:
        wanted = {k: v for k, v in vars(self).items() if v is not None}
        return any(all(b.get(k) == v for k, v in wanted.items()) for b in breaks)


Tampering = Callable[[Database, int, dict[str, User]], Named]


def edit_payload(db: Database, case_id: int, users: dict[str, User]) -> Named:
    ev = events_of(db, case_id)[1]
    edited = ev.body.replace("Socialchefen", "Någon annan")
    assert edited != ev.body
    execute(db, "UPDATE audit_events SET body = :b WHERE id = :id", b=edited, id=ev.id)
    return Named("case", case_id, 2)


def delete_middle(db: Database, case_id: int, users: dict[str, User]) -> Named:
    execute(db, "DELETE FROM audit_events WHERE id = :id", id=events_of(db, case_id)[2].id)
    return Named("case", case_id, 3)


def delete_newest(db: Database, case_id: int, users: dict[str, User]) -> Named:
    execute(db, "DELETE FROM audit_events WHERE id = :id", id=events_of(db, case_id)[4].id)
    return Named("case", case_id, 5)


def delete_newest_move_head(db: Database, case_id: int, users: dict[str, User]) -> Named:
    events = events_of(db, case_id)
    execute(db, "DELETE FROM audit_events WHERE id = :id", id=events[4].id)
    execute(
        db,
        "UPDATE cases SET audit_seq = 4, audit_head = :h WHERE id = :c",
        h=events[3].hash,
        c=case_id,
    )
    return Named("case", case_id, 5)


def rewrite_newest_rehashed(db: Database, case_id: int, users: dict[str, User]) -> Named:
    rehash_from(db, case_id, 5, lambda body: body.update(comment="Godkänt av nämnden"))
    return Named("case", case_id, 5)


def edit_middle_rehash_rest(db: Database, case_id: int, users: dict[str, User]) -> Named:
    def edit(body: dict[str, Any]) -> None:
        body["evidence"]["data"]["budget_owner"] = "Någon annan"

    rehash_from(db, case_id, 2, edit)
    return Named("case", case_id, 2)


def forge_and_move_head(db: Database, case_id: int, users: dict[str, User]) -> Named:
    """A sixth event, correctly chained and placed last in the log, dated back to when the
    case's real events were written, with the case's head and the log's head moved to it."""
    last = events_of(db, case_id)[-1]
    prior = json.loads(last.body)
    at = datetime.fromisoformat(prior["at"]) - timedelta(days=2)
    body = {**prior, "seq": 6, "prev_hash": last.hash, "at": at.isoformat()}
    body.update(action="transition", from_state=prior["to_state"], to_state="kravstallning")
    forged = dump(body)
    size = scalar(db, "SELECT size FROM log_head")
    with db.writer.begin() as conn:
        conn.execute(
            insert(AUDIT).values(
                case_id=case_id,
                seq=6,
                at=at,
                action="transition",
                actor_id=None,
                body=forged,
                prev_hash=last.hash,
                hash=sha(forged),
                log_index=size,
            )
        )
    execute(db, "UPDATE log_head SET size = size + 1")
    execute(
        db,
        "UPDATE cases SET audit_seq = 6, audit_head = :h, state = 'kravstallning' WHERE id = :c",
        h=sha(forged),
        c=case_id,
    )
    return Named("case", case_id, 6)


def delete_whole_case(db: Database, case_id: int, users: dict[str, User]) -> Named:
    for table in ("audit_events", "evidence", "outbox", "reminders", "findings"):
        execute(db, f"DELETE FROM {table} WHERE case_id = :c", c=case_id)
    execute(db, "DELETE FROM cases WHERE id = :c", c=case_id)
    return Named("case", case_id, 1)


def change_phase(db: Database, case_id: int, users: dict[str, User]) -> Named:
    execute(db, "UPDATE cases SET state = 'forvaltning' WHERE id = :c", c=case_id)
    return Named("case", case_id, field="state")


def change_attributes(db: Database, case_id: int, users: dict[str, User]) -> Named:
    with db.writer.begin() as conn:
        attributes = conn.execute(
            select(CASES.c.attributes).where(CASES.c.id == case_id)
        ).scalar_one()
        changed = {**attributes, "estimated_value_sek": 1}
        conn.execute(CASES.update().where(CASES.c.id == case_id).values(attributes=changed))
    return Named("case", case_id, 1, field="attributes")


def change_organisation(db: Database, case_id: int, users: dict[str, User]) -> Named:
    execute(
        db,
        "UPDATE cases SET organisation = 'kultur_och_fritidsforvaltningen' WHERE id = :c",
        c=case_id,
    )
    return Named("case", case_id, 1, field="organisation")


def change_evidence_record(db: Database, case_id: int, users: dict[str, User]) -> Named:
    with db.writer.begin() as conn:
        row = conn.execute(
            select(EVIDENCE.c.id, EVIDENCE.c.data)
            .where(EVIDENCE.c.case_id == case_id)
            .order_by(EVIDENCE.c.id)
        ).first()
        assert row is not None
        changed = {**row.data, "budget_owner": "Någon annan"}
        conn.execute(EVIDENCE.update().where(EVIDENCE.c.id == row.id).values(data=changed))
    return Named("evidence", case_id, 2, field="data", record=row.id)


def change_gate_evidence(db: Database, case_id: int, users: dict[str, User]) -> Named:
    """The evidence the gates read, kept on the case row."""
    with db.writer.begin() as conn:
        log = conn.execute(select(CASES.c.evidence_log).where(CASES.c.id == case_id)).scalar_one()
        log[0][1] = {**log[0][1], "budget_owner": "Någon annan"}
        conn.execute(CASES.update().where(CASES.c.id == case_id).values(evidence_log=log))
    return Named("case", case_id, 2, field="evidence_log")


def change_user_role(db: Database, case_id: int, users: dict[str, User]) -> Named:
    user_id = users["bestallare"].actor.user_id
    execute(db, "UPDATE users SET role = 'controller' WHERE id = :u", u=user_id)
    return Named("user", field="role", record=user_id)


def change_threshold_amount(db: Database, case_id: int, users: dict[str, User]) -> Named:
    """The amount the money rules compare a value with (LOU 19 a kap. 1 §)."""
    row = scalar(db, "SELECT id FROM threshold_amounts WHERE series = 'direct_award'")
    execute(db, "UPDATE threshold_amounts SET amount_sek = 7000000 WHERE id = :i", i=row)
    return Named("threshold", field="amount_sek", record=row)


def change_definition_rules(db: Database, case_id: int, users: dict[str, User]) -> Named:
    """A gate taken out of the loaded process definition."""
    with db.writer.begin() as conn:
        row = conn.execute(select(DEFINITIONS.c.id, DEFINITIONS.c.body)).first()
        assert row is not None
        body = json.loads(json.dumps(row.body))
        trigger = next(t for t in body["triggers"] if t.get("gates"))
        trigger["gates"] = trigger["gates"][1:]
        conn.execute(DEFINITIONS.update().where(DEFINITIONS.c.id == row.id).values(body=body))
    return Named("definition", field="body", record=row.id)


def remove_sanctioned_party(db: Database, case_id: int, users: dict[str, User]) -> Named:
    """A party taken off the loaded sanctions list, so that screening would not find it."""
    listed = scalar(db, "SELECT list_id FROM sanctions_entries ORDER BY id LIMIT 1")
    execute(db, "DELETE FROM sanctions_entries WHERE id = (SELECT min(id) FROM sanctions_entries)")
    return Named("sanctions", field="entries", record=listed)


def blind_a_match_key(db: Database, case_id: int, users: dict[str, User]) -> Named:
    entry = scalar(db, "SELECT min(id) FROM sanctions_entries")
    execute(db, "UPDATE sanctions_entries SET match_key = 'ingen' WHERE id = :i", i=entry)
    return Named("sanctions", field="match_key", record=entry)


TAMPERINGS: dict[str, Tampering] = {
    "edit_payload": edit_payload,
    "delete_middle": delete_middle,
    "delete_newest": delete_newest,
    "delete_newest_move_head": delete_newest_move_head,
    "rewrite_newest_rehashed": rewrite_newest_rehashed,
    "edit_middle_rehash_rest": edit_middle_rehash_rest,
    "forge_and_move_head": forge_and_move_head,
    "delete_whole_case": delete_whole_case,
    "change_phase": change_phase,
    "change_attributes": change_attributes,
    "change_organisation": change_organisation,
    "change_evidence_record": change_evidence_record,
    "change_gate_evidence": change_gate_evidence,
    "change_user_role": change_user_role,
    "change_threshold_amount": change_threshold_amount,
    "change_definition_rules": change_definition_rules,
    "remove_sanctioned_party": remove_sanctioned_party,
    "blind_a_match_key": blind_a_match_key,
}


@pytest.fixture
def checkpointed(db_url: str, chains: tuple[int, int]) -> tuple[int, int]:
    """The two cases, with a signed checkpoint over the whole log, as the schedule writes."""
    first = run_verify(db_url)
    assert first.exit_code == 0, first.output
    assert "Ny kontrollpunkt" in first.output
    return chains


def test_untouched_log_verifies_clean(
    db_url: str, client: TestClient, users: dict[str, User], checkpointed: tuple[int, int]
) -> None:
    again = run_verify(db_url)
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-1].startswith("OK: 2 ärenden, ")
    assert "Ny kontrollpunkt" not in again.output  # nothing new to sign
    report = json.loads(run_verify(db_url, "--json").stdout)
    assert report["ok"] is True and report["breaks"] == []
    assert [c["size"] for c in report["checkpoints"]] == [report["log_size"]]
    api = client.get("/api/audit/verify", headers=users["controller"].headers).json()
    assert api["ok"] is True and api["breaks"] == [] and api["log_size"] == report["log_size"]
    assert len(api["checkpoints"]) == 1


@pytest.mark.parametrize("how", list(TAMPERINGS))
def test_tampering_is_found_and_named(
    how: str,
    db: Database,
    db_url: str,
    client: TestClient,
    users: dict[str, User],
    checkpointed: tuple[int, int],
) -> None:
    tampered, untouched = checkpointed
    drop_guards(db)
    named = TAMPERINGS[how](db, tampered, users)

    as_json = run_verify(db_url, "--json")
    assert as_json.exit_code == 1, as_json.output
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["written"] is None  # a broken log is not signed
    assert named.among(report["breaks"]), report["breaks"]
    assert untouched not in {b["case_id"] for b in report["breaks"]}

    result = run_verify(db_url)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("FEL:")
    where = {
        "user": "ANVÄNDARE",
        "threshold": "TRÖSKELVÄRDE",
        "definition": "PROCESSDEF",
        "sanctions": "SANKTIONSLISTA",
    }.get(named.chain, f"ÄRENDE {tampered}")
    assert any(line.startswith(where) for line in lines), result.output

    api = client.get("/api/audit/verify", headers=users["controller"].headers).json()
    assert api["ok"] is False
    assert named.among(api["breaks"]), api["breaks"]


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
