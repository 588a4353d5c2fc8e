"""Bids are secret until the award decision (OSL 19 kap. 3 § andra stycket): before it, nobody
but the case's assigned upphandlare sees a bid, that one exists or how many there are, in any
answer, list, audit trail, export, calendar feed or e-mail; each read by the assigned upphandlare
is logged; afterwards the normal access policy applies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from helpers import (
    User,
    add_user,
    assert_problem,
    counts,
    drive,
    frozen,
    scalar,
    sign_checkpoint,
    start,
)
from upphandla.flows.checkpoints import Witness
from upphandla.flows.log_export import export_log, verify_export
from upphandla.flows.settings import get_settings
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

SUPPLIERS = ("Anbudsgivaren Alfa AB", "Anbudsgivaren Beta AB")
TRACES = (*SUPPLIERS, "5560001111", "5560002222", "Anbud mottaget", '"bid"', "sealed_read")


def bid(n: int) -> dict[str, Any]:
    return {
        "kind": "bid",
        "data": {
            "supplier": SUPPLIERS[n],
            "organisation_number": ("5560001111", "5560002222")[n],
            "price_sek": 3_900_000 + n,
            "documents": "Anbud.pdf",
        },
    }


def everything_seen_by(client: TestClient, user: User, case_id: int) -> str:
    """Every answer that shows a case, its trail or its deadlines, for this user, as text."""
    seen = [
        client.get(f"/api/cases/{case_id}", headers=user.headers),
        client.get("/api/cases", headers=user.headers),
        client.get(f"/api/cases/{case_id}/audit", headers=user.headers),
        client.get(f"/api/cases/{case_id}/checklist", headers=user.headers),
        client.get("/api/audit/events", headers=user.headers),
        client.get("/api/audit/events.csv", headers=user.headers),
        client.get("/api/audit/events.jsonl", headers=user.headers),
        client.get("/api/outbox", headers=user.headers),
    ]
    feed = client.post("/api/calendar", headers=user.headers)
    assert feed.status_code == 201, feed.text
    path = feed.json()["url"].split("://", 1)[1].split("/", 1)[1]
    seen.append(client.get(f"/{path}"))
    return "\n".join(r.text for r in seen)


def exported(db: Database, folder: Path) -> list[dict[str, Any]]:
    """The events of an export of the audit log (`upphandla audit export`), which verifies
    without the database."""
    with UnitOfWork(db, write=False) as uow:
        export_log(uow, Witness.of(get_settings()), folder)
    assert verify_export(folder).ok
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def test_bids_are_seen_only_by_the_assigned_upphandlare_until_the_award_decision(
    client: TestClient, db: Database, users: dict[str, User], tmp_path: Path
) -> None:
    other_upphandlare = add_user(
        db,
        name="Annan Upphandlare",
        email="annan.upphandlare@example.se",
        role="upphandlare",
        organisation="kommunstyrelsens_forvaltning",
    )
    assigned = users["upphandlare"]
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"])
        drive(db, case_id, "annonsering", users)
        # Nobody may record a bid before the kategoriledare names the case's upphandlare.
        refused = client.post(
            f"/api/cases/{case_id}/evidence", json=bid(0), headers=assigned.headers
        )
        assert assert_problem(refused, 403)["type"].endswith(":sealed_not_assigned")
        named = client.post(
            f"/api/cases/{case_id}/evidence",
            json={"kind": "case_assigned", "data": {"upphandlare": "upphandlare@example.se"}},
            headers=users["kategoriledare"].headers,
        )
        assert named.status_code == 201, named.text

        tag = client.get(f"/api/cases/{case_id}", headers=users["bestallare"].headers).headers[
            "etag"
        ]
        before = counts(db)
        for n in (0, 1):
            made = client.post(
                f"/api/cases/{case_id}/evidence", json=bid(n), headers=assigned.headers
            )
            assert made.status_code == 201, made.text
        # Another upphandlare may not record one either.
        other = client.post(
            f"/api/cases/{case_id}/evidence", json=bid(0), headers=other_upphandlare.headers
        )
        assert assert_problem(other, 403)["type"].endswith(":sealed_not_assigned")
        # The case itself did not change: same version, same chain, no message.
        after = counts(db)
        assert {k: after[k] - before[k] for k in after} == {
            "cases": 0,
            "audit_events": 0,
            "evidence": 2,
            "outbox": 0,
            "sealed_events": 2,
        }
        seen_tag = client.get(f"/api/cases/{case_id}", headers=users["bestallare"].headers)
        assert seen_tag.headers["etag"] == tag

        for who in (users["bestallare"], users["controller"], other_upphandlare):
            text = everything_seen_by(client, who, case_id)
            assert not [t for t in TRACES if t in text], who.actor.role
            view = client.get(f"/api/cases/{case_id}", headers=who.headers).json()
            assert view["sealed_evidence"] == []

        # The assigned upphandlare sees them; each such read is logged in the sealed chain.
        mine = client.get(f"/api/cases/{case_id}", headers=assigned.headers).json()
        assert sorted(e["data"]["supplier"] for e in mine["sealed_evidence"]) == list(SUPPLIERS)
        client.get(f"/api/cases/{case_id}/audit", headers=assigned.headers)
        # The second look at the trail shows the two reads before it: the case, the trail.
        trail = client.get(f"/api/cases/{case_id}/audit", headers=assigned.headers).json()
        actions = [e["action"] for e in trail["sealed_events"]]
        assert actions == ["evidence_recorded", "evidence_recorded", "sealed_read", "sealed_read"]
        reads = [e["sealed_read"] for e in trail["sealed_events"][2:]]
        assert [(r["through"], r["count"]) for r in reads] == [
            ("ärendet", 2),
            ("granskningsloggen", 2),
        ]
        assert all(e["actor"]["id"] == assigned.actor.user_id for e in trail["sealed_events"])

        # Nor does the audit log's proof endpoint show that a bid exists: its place in the
        # log answers exactly as a place that does not exist.
        assert sign_checkpoint(db).written is not None
        place = scalar(db, "SELECT min(log_index) FROM sealed_events WHERE case_id = :c", c=case_id)
        controller = users["controller"].headers
        hidden = client.get(f"/api/audit/events/{place}/proof", headers=controller)
        missing = client.get("/api/audit/events/999999/proof", headers=controller)
        assert (hidden.status_code, missing.status_code) == (404, 404), hidden.text
        assert hidden.json()["title"] == missing.json()["title"]
        # An export of the log holds the bids' places and hashes, not what they say.
        sealed = [e for e in exported(db, tmp_path / "före") if e["chain"] == "sealed"]
        assert len(sealed) == scalar(db, "SELECT count(*) FROM sealed_events") == 5
        assert all(e["body"] is None for e in sealed)  # two bids and three reads of them
        written = (tmp_path / "före" / "events.jsonl").read_text()
        assert not [t for t in (*SUPPLIERS, "5560001111", "5560002222") if t in written]

        # The award decision unseals them: the normal policy applies, and reads are not logged.
        drive(db, case_id, "avtalsparr", users)
        for who in (users["bestallare"], users["controller"], other_upphandlare):
            view = client.get(f"/api/cases/{case_id}", headers=who.headers).json()
            assert sorted(e["data"]["supplier"] for e in view["sealed_evidence"]) == list(SUPPLIERS)
            trail = client.get(f"/api/cases/{case_id}/audit", headers=who.headers).json()
            # The three early reads, and none since.
            assert [e["action"] for e in trail["sealed_events"]].count("sealed_read") == 3
        verified = client.get("/api/audit/verify", headers=users["controller"].headers).json()
        assert verified["ok"] is True, [b["text"] for b in verified["breaks"]]
        assert sign_checkpoint(db).written is not None
        shown = client.get(f"/api/audit/events/{place}/proof", headers=controller)
        assert shown.status_code == 200, shown.text
        assert shown.json()["chain"] == "sealed"
        after = [e for e in exported(db, tmp_path / "efter") if e["chain"] == "sealed"]
        bodies = " ".join(e["body"] for e in after)
        assert len(after) == 5 and all(supplier in bodies for supplier in SUPPLIERS)


def test_a_bid_is_recorded_only_while_tenders_are_open_and_with_valid_fields(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"])
        name = {"kind": "case_assigned", "data": {"upphandlare": "ingen@example.se"}}
        unknown = client.post(
            f"/api/cases/{case_id}/evidence", json=name, headers=users["kategoriledare"].headers
        )
        body = assert_problem(unknown, 422)
        assert [e["path"] for e in body["errors"]] == ["data.upphandlare"]
        name["data"]["upphandlare"] = "upphandlare@example.se"
        assert (
            client.post(
                f"/api/cases/{case_id}/evidence", json=name, headers=users["kategoriledare"].headers
            ).status_code
            == 201
        )
        before = counts(db)
        early = client.post(
            f"/api/cases/{case_id}/evidence", json=bid(0), headers=users["upphandlare"].headers
        )
        assert_problem(early, 409)  # not in behovsanalys: tenders are not open
        drive(db, case_id, "annonsering", users)
        wrong = {**bid(0), "data": {**bid(0)["data"], "price_sek": "mycket"}}
        invalid = client.post(
            f"/api/cases/{case_id}/evidence", json=wrong, headers=users["upphandlare"].headers
        )
        assert_problem(invalid, 422)
    after = counts(db)
    assert after["sealed_events"] == before["sealed_events"]
    assert json.dumps(after)  # every table counted
