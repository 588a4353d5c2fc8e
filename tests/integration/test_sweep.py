"""The sweep (flows.sweep) on SQLite and PostgreSQL: travelling with freezegun across a case's
deadlines, exactly which reminders and escalations are queued, to whom and when; idempotence;
the standstill timer; findings from re-checks."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from helpers import (
    User,
    audit_rows,
    case_in,
    case_state,
    frozen,
    orm_session,
    run,
    scalar,
    start,
    v1_body,
)
from upphandla.flows.commands.cases import Advance, RecordEvidence
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.sweep import SweepReport, run_sweep
from upphandla.flows.registry import Registry
from upphandla.states.definition import Definition, DefinitionError
from upphandla.states.machine import Lifecycle
from upphandla.states.parse import parse_definition
from upphandla.store.db import Database
from upphandla.store.models import DefinitionRow


def outbox_since(db: Database, after_id: int) -> list[dict[str, Any]]:
    """The messages about cases queued after `after_id` (not the weekly notice that a threshold
    amount is due to be entered: tests/integration/test_thresholds.py)."""
    with db.reader.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, template, recipients, context, dedupe_key FROM outbox "
                "WHERE id > :a AND case_id IS NOT NULL ORDER BY id"
            ),
            {"a": after_id},
        ).all()
    out = []
    for r in rows:
        recipients = json.loads(r[2]) if isinstance(r[2], str) else r[2]
        context = json.loads(r[3]) if isinstance(r[3], str) else r[3]
        out.append({"id": r[0], "template": r[1], "to": recipients, "ctx": context, "key": r[4]})
    return out


def last_outbox_id(db: Database) -> int:
    return int(scalar(db, "SELECT coalesce(max(id), 0) FROM outbox"))


def emails(users: dict[str, User], *roles: str) -> list[str]:
    return sorted(f"{role}@example.se" for role in roles)


def travel(db: Database, first: date, last: date, at: str = "06:30:00") -> list[tuple]:
    """Sweep once a day from `first` to `last` (06:30 UTC: 07:30 in Stockholm in winter) and
    return (day, template, threshold, recipients) for every message queued."""
    seen = []
    day = first
    handler = Handler.on(db)
    while day <= last:
        before = last_outbox_id(db)
        with frozen(f"{day.isoformat()} {at}"):
            run_sweep(handler)
        for m in outbox_since(db, before):
            if m["template"].startswith("deadline_"):
                reminder = m["ctx"]["reminder"]
                seen.append((day.isoformat(), m["template"], reminder["threshold"], m["to"]))
        day += timedelta(days=1)
    return seen


def test_phase_deadline_reminders_across_a_weekend_and_christmas(
    db: Database, users: dict[str, User]
) -> None:
    # Behovsanalys has 60 days: entered Saturday 2026-10-24, due Wednesday 2026-12-23.
    with frozen("2026-10-24 08:00:00"):
        case_id = start(db, users["bestallare"])
    seen = travel(db, date(2026, 10, 24), date(2027, 1, 8))
    people = emails(users, "bestallare", "upphandlare")
    assert seen == [
        ("2026-12-09", "deadline_reminder", 14, people),
        # 3 days before is Sunday 12-20: the working day before.
        ("2026-12-18", "deadline_reminder", 3, people),
        # Overdue: julafton, juldagen, annandag jul and a weekend are no working days; the
        # second working day after the due date is Tuesday 12-29.
        (
            "2026-12-29",
            "deadline_escalation",
            2,
            emails(users, "bestallare", "upphandlare", "kategoriledare"),
        ),
    ]
    state, _, _ = case_state(db, case_id)
    assert state == "behovsanalys"
    actions = [a for _, _, a in audit_rows(db, case_id)]
    assert actions.count("reminders_queued") == 3


def test_a_reminder_waits_for_seven_in_the_morning(db: Database, users: dict[str, User]) -> None:
    with frozen("2026-10-24 08:00:00"):
        start(db, users["bestallare"])
    with frozen("2026-10-24 09:00:00"):
        run_sweep(Handler.on(db))
    before = last_outbox_id(db)
    with frozen("2026-12-09 05:59:00"):  # 06:59 in Stockholm
        # (The weekly notice that the EU threshold for 2026 is not entered is not a reminder.)
        assert replace(run_sweep(Handler.on(db)), threshold_notices=0) == SweepReport()
    assert outbox_since(db, before) == []
    with frozen("2026-12-09 06:00:00"):  # 07:00
        report = run_sweep(Handler.on(db))
    assert (report.cases, report.enqueued, report.escalated) == (1, 1, 0)


def test_the_reminder_says_what_blocks_and_why(db: Database, users: dict[str, User]) -> None:
    with frozen("2026-10-24 08:00:00"):
        case_id = start(db, users["bestallare"])
    before = last_outbox_id(db)
    with frozen("2026-12-09 08:00:00"):
        run_sweep(Handler.on(db))
    [message] = outbox_since(db, before)
    ctx = message["ctx"]
    assert ctx["case_id"] == case_id
    assert ctx["deadline"]["due_on"] == "2026-12-23"
    assert ctx["deadline"]["phase_title"] == "Behovsanalys"
    assert ctx["reminder"] == {
        "kind": "reminder",
        "threshold": 14,
        "planned_on": "2026-12-09",
        "days_left": 14,
    }
    gates = {b["gate"] for b in ctx["blocking"]}
    assert "behovsanalys_done" in gates
    assert all(b["source"] for b in ctx["blocking"])
    assert message["key"] == f"reminder:{case_id}:{ctx['deadline']['key']}:reminder:14"


def test_sweeping_again_queues_nothing_twice(db: Database, users: dict[str, User]) -> None:
    for n in range(3):
        with frozen(f"2026-10-{20 + n} 08:00:00"):
            start(db, users["bestallare"], title=f"Ärende {n}")
    with frozen("2027-01-20 08:00:00"):
        first = run_sweep(Handler.on(db))
        before = last_outbox_id(db)
        second = run_sweep(Handler.on(db))
    assert first.escalated == 3 and first.cases == 3
    # A late escalation says how late it really is, counted from the day it goes out.
    for message in outbox_since(db, 0):
        due_on = date.fromisoformat(message["ctx"]["deadline"]["due_on"])
        assert message["ctx"]["reminder"]["days_left"] == (due_on - date(2027, 1, 20)).days < -20
    assert second == SweepReport()
    assert outbox_since(db, before) == []
    # Even when every case is made due again by hand, the unique keys hold.
    with db.writer.begin() as conn:
        conn.execute(text("UPDATE cases SET next_sweep_at = created_at"))
    with frozen("2027-01-20 09:00:00"):
        third = run_sweep(Handler.on(db))
    assert (third.cases, third.enqueued, third.escalated) == (3, 0, 0)
    assert outbox_since(db, before) == []


def test_standstill_end_moves_the_case_on_by_itself_not_a_day_early(
    db: Database, users: dict[str, User]
) -> None:
    case_id = case_in(db, users, "tilldelning", before="2026-12-21")
    with frozen("2026-12-21 09:00:00"):
        run(
            db,
            RecordEvidence(
                actor=users["upphandlare"].actor,
                case_id=case_id,
                kind="award_decision_sent",
                data={"sent_on": "2026-12-21", "electronic": True, "value_sek": 4_000_000},
            ),
        )
        run(
            db,
            Advance(
                actor=users["upphandlare"].actor,
                case_id=case_id,
                trigger="send_award_decision",
            ),
        )
    # Ten days from 12-21 end on 12-31, nyårsafton: the standstill runs to Monday 2027-01-04.
    # Three days before is 01-01, a holiday after nyårsafton: the reminder goes out on 12-30.
    with frozen("2026-12-21 10:00:00"):
        run_sweep(Handler.on(db))
    planned = scalar(db, "SELECT next_sweep_at FROM cases WHERE id = :id", id=case_id)
    assert str(planned).startswith("2026-12-30 06:00:00")  # 07:00 in Stockholm
    before = last_outbox_id(db)
    with frozen("2026-12-30 08:00:00"):
        run_sweep(Handler.on(db))
    [reminder] = outbox_since(db, before)
    assert reminder["ctx"]["deadline"]["kind"] == "standstill_end"
    assert reminder["ctx"]["deadline"]["due_on"] == "2027-01-04"
    assert reminder["to"] == emails(users, "bestallare", "upphandlare", "delegat")
    planned = scalar(db, "SELECT next_sweep_at FROM cases WHERE id = :id", id=case_id)
    assert str(planned).startswith("2027-01-04 23:00:00")  # 00:00 on 01-05 in Stockholm
    # Due anyway on the last day (as if evidence had just been recorded): still no transition.
    with db.writer.begin() as conn:
        conn.execute(text("UPDATE cases SET next_sweep_at = created_at"))
    with frozen("2027-01-04 22:59:00"):  # 23:59 in Stockholm on the last day
        report = run_sweep(Handler.on(db))
    assert (report.cases, report.transitions) == (1, 0)
    assert case_state(db, case_id)[0] == "avtalsparr"
    with frozen("2027-01-04 23:01:00"):  # 00:01 on 2027-01-05 in Stockholm
        report = run_sweep(Handler.on(db))
    assert report.transitions == 1
    assert case_state(db, case_id)[0] == "avtalstecknande"
    with db.reader.connect() as conn:
        actor_id, body = conn.execute(
            text(
                "SELECT actor_id, body FROM audit_events WHERE case_id = :c AND action = "
                "'transition' ORDER BY seq DESC LIMIT 1"
            ),
            {"c": case_id},
        ).one()
    event = json.loads(body)
    assert actor_id is None
    assert event["role"] == "system" and event["actor"]["name"] == "Systemet"
    assert event["trigger"] == "end_standstill"
    assert event["to_state"] == "avtalstecknande"
    with frozen("2027-01-05 08:00:00"):
        assert run_sweep(Handler.on(db)).transitions == 0


def test_two_sweeps_at_once_queue_each_reminder_once(db: Database, users: dict[str, User]) -> None:
    cases_ = 12
    for n in range(cases_):
        with frozen("2026-10-24 08:00:00"):
            start(db, users["bestallare"], title=f"Ärende {n}")
    barrier = threading.Barrier(2)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            reports.append(run_sweep(Handler.on(db), batch_size=5))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    with frozen("2027-01-20 08:00:00"):
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    assert sum(r.escalated for r in reports) == cases_
    assert sum(r.cases for r in reports) == cases_
    assert scalar(db, "SELECT count(*) FROM outbox WHERE template = 'deadline_escalation'") == (
        cases_
    )
    assert scalar(db, "SELECT count(DISTINCT dedupe_key) FROM outbox") == scalar(
        db, "SELECT count(*) FROM outbox"
    )
    assert scalar(db, "SELECT count(*) FROM reminders WHERE kind = 'escalation'") == cases_


def test_the_unique_key_refuses_a_second_reminder_row(db: Database, users: dict[str, User]) -> None:
    with frozen("2026-10-24 08:00:00"):
        case_id = start(db, users["bestallare"])
    with frozen("2027-01-20 08:00:00"):
        run_sweep(Handler.on(db))
    columns = "case_id, deadline_key, kind, threshold, due_on, planned_on, status, recipients"
    row = (
        f"SELECT {columns}, created_at FROM reminders WHERE case_id = {case_id} AND "
        "kind = 'escalation'"
    )
    with pytest.raises(IntegrityError), db.writer.begin() as conn:
        conn.execute(text(f"INSERT INTO reminders ({columns}, created_at) {row}"))


def test_a_timer_refused_by_something_other_than_a_gate_leaves_the_reminders_going(
    db: Database, users: dict[str, User]
) -> None:
    """A definition loaded before the definition check refused such timers (stored behind the
    engine's back here): end_standstill may fire only for DIS cases, so for this case the timer
    is refused by the trigger's condition, not by a gate. The sweep must still send what is due
    (here the escalation of the phase deadline) and move on, not abort the case's sweep."""
    body = v1_body()
    body["version"] = 2
    for phase in body["phases"]:
        if phase["id"] == "avtalsparr":
            phase["deadline_days"] = 5
    timer = next(t for t in body["triggers"] if t["id"] == "end_standstill")
    timer["available_when"] = {"fact": "route", "eq": "dis"}
    with pytest.raises(DefinitionError) as refused:  # what the check says of it today
        parse_definition(body)
    assert [p.path for p in refused.value.problems] == [
        f"triggers[{body['triggers'].index(timer)}].available_when"
    ]
    unchecked = Definition.model_validate({k: v for k, v in body.items() if not k.startswith("x-")})
    with orm_session(db) as session:
        session.add(
            DefinitionRow(
                key=unchecked.key,
                version=2,
                title=unchecked.title,
                checksum=unchecked.checksum(),
                body=unchecked.model_dump(mode="json", by_alias=True, exclude_none=True),
                loaded_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            )
        )
    registry = Registry()
    registry._cache[(unchecked.key, 2)] = (unchecked, Lifecycle(unchecked))
    handler = Handler.on(db, registry=registry)

    case_id = case_in(db, users, "tilldelning", before="2026-12-21", handler=handler)
    with frozen("2026-12-21 09:00:00"):
        award = RecordEvidence(
            actor=users["upphandlare"].actor,
            case_id=case_id,
            kind="award_decision_sent",
            data={"sent_on": "2026-12-21", "electronic": True, "value_sek": 4_000_000},
        )
        handler.run(award)
        handler.run(
            Advance(
                actor=users["upphandlare"].actor, case_id=case_id, trigger="send_award_decision"
            )
        )
    assert case_state(db, case_id)[0] == "avtalsparr"
    # The phase is due 2026-12-28 (five days run to Monday after annandag jul); it escalates on
    # the second working day after, 2026-12-30. The standstill ended on 2027-01-04.
    before = last_outbox_id(db)
    with frozen("2027-01-05 08:00:00"):
        report = run_sweep(handler)
    assert (report.cases, report.transitions, report.escalated, report.errors) == (1, 0, 1, 0)
    [escalation] = outbox_since(db, before)
    assert escalation["template"] == "deadline_escalation"
    assert escalation["ctx"]["deadline"]["kind"] == "phase"
    assert case_state(db, case_id)[0] == "avtalsparr"
    assert audit_rows(db, case_id)[-1][2] == "reminders_queued"
