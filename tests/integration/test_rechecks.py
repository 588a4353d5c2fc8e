"""Gate re-checks by the sweep on running contracts: a PUB-avtal missing in förvaltning (§ 6.2)
and a supplier on a newly loaded sanctions list (§ 10.11) become findings on the case, visible in
GET /api/cases/{id}, reminded and escalated, and closed when the gate holds again. Also the
contract deadlines of förvaltning: extension decisions and the yearly WCAG follow-up."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import (
    User,
    audit_rows,
    case_state,
    contract,
    drive,
    frozen,
    imported,
    run,
    start,
)
from upphandla.flows.commands.cases import Advance, RecordEvidence
from upphandla.flows.commands.sanctions import LoadSanctionsList
from upphandla.flows.handler import Handler
from upphandla.flows.jobs.sweep import run_sweep
from upphandla.states.clock import today
from upphandla.store.db import Database


def queued(db: Database, case_id: int) -> list[tuple[str, str, int, list[str]]]:
    with db.reader.connect() as conn:
        rows = conn.execute(
            text("SELECT template, context, recipients FROM outbox WHERE case_id = :c ORDER BY id"),
            {"c": case_id},
        ).all()
    out = []
    for template, ctx, to in rows:
        ctx = json.loads(ctx) if isinstance(ctx, str) else ctx
        to = json.loads(to) if isinstance(to, str) else to
        out.append((template, ctx["deadline"]["key"], ctx["reminder"]["threshold"], to))
    return out


def test_missing_pub_avtal_is_a_finding_until_it_is_registered__6_2(
    db: Database, users: dict[str, User], client: TestClient
) -> None:
    case_id = imported(
        db,
        users["upphandlare"],
        contract(processes_personal_data=True),
        "2026-11-02 09:00:00",
    )
    with frozen("2026-11-02 10:00:00"):
        report = run_sweep(Handler.on(db))
    assert report.findings == 1
    with frozen("2026-11-02 10:00:00"):
        case = client.get(f"/api/cases/{case_id}", headers=users["controller"].headers).json()
    [finding] = case["findings"]
    assert finding["key"] == "pub_avtal_in_forvaltning" and finding["open"] is True
    assert finding["source"] == "§ 6.2; GDPR art. 28"
    assert "PUB-avtal" in finding["message"]
    key = "finding:pub_avtal_in_forvaltning:2026-11-02"
    # The upphandlare imported it, so the case's own person is the upphandlare.
    people = ["dso@example.se", "upphandlare@example.se"]
    assert queued(db, case_id) == [("deadline_reminder", key, 0, people)]
    # Still missing two working days later (Wednesday 11-04): escalated to the kategoriledare.
    with frozen("2026-11-03 08:00:00"):
        assert run_sweep(Handler.on(db)).escalated == 0
    with frozen("2026-11-04 08:00:00"):
        assert run_sweep(Handler.on(db)).escalated == 1
    assert queued(db, case_id)[-1] == (
        "deadline_escalation",
        key,
        2,
        sorted([*people, "kategoriledare@example.se"]),
    )
    # Registered: the next sweep closes the finding, and an audit event says so.
    with frozen("2026-11-05 09:00:00"):
        run(
            db,
            RecordEvidence(
                actor=users["dso"].actor,
                case_id=case_id,
                kind="pub_avtal_signed",
                data={"signed_on": "2026-11-05", "reference": "KS 2026/7"},
            ),
        )
    with frozen("2026-11-05 09:30:00"):
        assert run_sweep(Handler.on(db)).findings_closed == 1
    with frozen("2026-11-05 09:30:00"):
        case = client.get(f"/api/cases/{case_id}", headers=users["controller"].headers).json()
    assert [f["open"] for f in case["findings"]] == [False]
    actions = [a for _, _, a in audit_rows(db, case_id)]
    assert actions.count("finding_raised") == 1 and actions.count("finding_closed") == 1


def test_a_supplier_on_a_newly_loaded_sanctions_list_is_a_finding__10_11(
    db: Database, users: dict[str, User], client: TestClient
) -> None:
    clean = imported(db, users["upphandlare"], contract(), "2026-11-02 09:00:00")
    listed = imported(
        db,
        users["upphandlare"],
        contract(supplier="Ivan Fiktivov"),
        "2026-11-02 09:00:00",
        title="Konsulttjänst",
    )
    with frozen("2026-11-02 10:00:00"):
        assert run_sweep(Handler.on(db)).findings == 0  # no list loaded yet: nothing to find
    csv = "name,identifier,country,reference\nIvan Fiktivov,,RU,EXEMPEL-1\n"
    with frozen("2026-11-10 09:00:00"):
        run(db, LoadSanctionsList(text=csv, source="lista.csv", list_date=date(2026, 11, 10)))
    with frozen("2026-11-10 09:05:00"):
        report = run_sweep(Handler.on(db))
    assert (report.cases, report.findings) == (2, 1)
    with frozen("2026-11-10 09:05:00"):
        findings = client.get(f"/api/cases/{listed}", headers=users["controller"].headers).json()[
            "findings"
        ]
        none = client.get(f"/api/cases/{clean}", headers=users["controller"].headers).json()
    assert [f["key"] for f in findings] == ["supplier_not_sanctioned"]
    assert "Ivan Fiktivov" in findings[0]["message"] and "2026-11-10" in findings[0]["message"]
    assert findings[0]["source"].startswith("§ 10.11")
    assert none["findings"] == []


def awarded_today(db: Database, users: dict[str, User], state: str) -> int:
    """A tendered case in `state`: in avtalsparr its award decision went out today, so the
    standstill still runs (the sweep does not end it); in avtalstecknande it is over."""
    case_id = start(db, users["bestallare"])
    if state == "avtalstecknande":
        drive(db, case_id, "avtalstecknande", users)
        return case_id
    drive(db, case_id, "tilldelning", users)
    sent = {"sent_on": today().isoformat(), "electronic": True, "value_sek": 4_000_000}
    up = users["upphandlare"].actor
    run(db, RecordEvidence(actor=up, case_id=case_id, kind="award_decision_sent", data=sent))
    run(db, Advance(actor=up, case_id=case_id, trigger="send_award_decision"))
    return case_id


def test_a_new_list_screens_cases_between_award_and_signing_again__10_11(
    db: Database, users: dict[str, User], client: TestClient
) -> None:
    with frozen("2026-11-02 09:00:00"):
        in_standstill = awarded_today(db, users, "avtalsparr")
        to_sign = awarded_today(db, users, "avtalstecknande")
        elsewhere = start(db, users["bestallare"], title="Annat ärende")
        drive(db, elsewhere, "utvardering", users)
    with frozen("2026-11-02 10:00:00"):
        report = run_sweep(Handler.on(db))
    assert report.findings == 0  # the parties are not on the sample list
    with frozen("2026-11-03 10:00:00"):
        assert run_sweep(Handler.on(db)).cases == 0  # nothing due
    assert case_state(db, in_standstill)[0] == "avtalsparr"

    # The supplier is listed after the award decision: loading the list makes the cases that
    # wait for signing due at once, and the sweep screens them.
    csv = "name,identifier,country,reference\nLeverantoren OOO,,RU,EXEMPEL-9\n"
    with frozen("2026-11-03 11:00:00"):
        run(db, LoadSanctionsList(text=csv, source="lista.csv", list_date=date(2026, 11, 3)))
    with frozen("2026-11-03 11:05:00"):
        report = run_sweep(Handler.on(db))
        shown = {
            case_id: client.get(f"/api/cases/{case_id}", headers=users["controller"].headers).json()
            for case_id in (in_standstill, to_sign, elsewhere)
        }
    assert (report.cases, report.findings) == (2, 2)
    for case_id in (in_standstill, to_sign):
        [finding] = shown[case_id]["findings"]
        assert finding["key"] == "sanctions_before_signing" and finding["open"] is True
        assert finding["source"] == "§ 10.11; EU-förordning 833/2014 art. 5k"
        assert (
            "Leverantören AB (100 %) finns på sanktionslistan daterad 2026-11-03"
            in (finding["message"])
        )
        assert "”Leverantoren OOO” (EXEMPEL-9)" in finding["message"]
    assert shown[elsewhere]["findings"] == []
    # ... and the delegat cannot sign.
    with frozen("2026-11-03 11:10:00"):
        refused = client.post(
            f"/api/cases/{to_sign}/transitions",
            json={"trigger": "sign_contract"},
            headers=users["delegat"].headers,
        )
    assert refused.status_code == 409
    assert "sanctions_check" in [r["gate"] for r in refused.json()["reasons"]]


def test_extension_decision_and_wcag_follow_up_are_reminded(
    db: Database, users: dict[str, User]
) -> None:
    # Imported Monday 2026-11-02; the option must be decided by 2026-12-15 (a Tuesday).
    case_id = imported(
        db,
        users["upphandlare"],
        contract(
            citizen_facing=True,
            extensions=[{"until": "2032-12-31", "decide_by": "2026-12-15"}],
        ),
        "2026-11-02 09:00:00",
    )
    with frozen("2026-11-02 10:00:00"):
        run_sweep(Handler.on(db))
    extension = "extension_decision:2032-12-31:2026-12-15"
    # 30 days before (11-15) is a Sunday: Friday 11-13.
    with frozen("2026-11-12 08:00:00"):
        run_sweep(Handler.on(db))
    assert [q[1] for q in queued(db, case_id)] == []
    with frozen("2026-11-13 08:00:00"):
        run_sweep(Handler.on(db))
    assert [(q[1], q[2]) for q in queued(db, case_id)] == [(extension, 30)]
    # Decided before the 14-day reminder: nothing more about that option.
    with frozen("2026-11-20 09:00:00"):
        run(
            db,
            RecordEvidence(
                actor=users["delegat"].actor,
                case_id=case_id,
                kind="extension_decided",
                data={"until": "2032-12-31", "extend": False, "decided_on": "2026-11-20"},
            ),
        )
    for day in ("2026-11-20", "2026-12-01", "2026-12-10", "2026-12-18"):
        with frozen(f"{day} 09:30:00"):
            run_sweep(Handler.on(db))
    assert [(q[1], q[2]) for q in queued(db, case_id)] == [(extension, 30)]
    # The yearly WCAG follow-up: a year after entering förvaltning, 30 days before is 2027-10-03
    # (a Sunday): Friday 2027-10-01.
    with frozen("2027-10-01 08:00:00"):
        run_sweep(Handler.on(db))
    wcag = [q for q in queued(db, case_id) if q[1].startswith("wcag_follow_up")]
    assert [(q[1], q[2]) for q in wcag] == [("wcag_follow_up:2027-11-02", 30)]
    assert wcag[0][3] == ["objektledare_it@example.se", "upphandlare@example.se"]


def test_an_option_without_a_decision_date_is_reminded_by_the_default_lead_time__9_1_2(
    db: Database, users: dict[str, User]
) -> None:
    """The contract gives no decision date for its option: the definition's default (six months
    before the term the option extends ends, 2027-06-30) is the date reminded of."""
    case_id = imported(
        db,
        users["upphandlare"],
        contract(end_on="2027-06-30", extensions=[{"until": "2029-06-30"}]),
        "2026-11-02 09:00:00",
    )
    extension = "extension_decision:2029-06-30:2026-12-30"
    with frozen("2026-11-27 08:00:00"):
        run_sweep(Handler.on(db))
    assert [q[1] for q in queued(db, case_id)] == []
    # 30 days before 2026-12-30 is Monday 2026-11-30.
    with frozen("2026-11-30 08:00:00"):
        run_sweep(Handler.on(db))
    assert [(q[1], q[2]) for q in queued(db, case_id)] == [(extension, 30)]
