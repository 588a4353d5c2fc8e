"""A new user's first tour through the API: start a case, see what blocks it and why, record the
evidence, move on, read the audit trail and verify it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from helpers import GENESIS, User, attributes, counts, event_hash, evidence_data, v1_gate
from upphandla.store.db import Database


def step(case: dict[str, Any], trigger: str) -> dict[str, Any]:
    found = [s for s in case["next_steps"] if s["trigger"] == trigger]
    assert len(found) == 1, [s["trigger"] for s in case["next_steps"]]
    return found[0]


def test_start_see_blockers_record_advance_and_audit(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    anna = users["bestallare"]
    attrs = attributes(personal_data=True, citizen_facing=True)

    created = client.post(
        "/api/cases", json=attrs, headers={**anna.headers, "X-Request-ID": "tour-start-1"}
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    assert created.headers["Location"] == f"/api/cases/{case_id}"
    assert created.headers["x-request-id"] == "tour-start-1"

    # The Location leads to the case, on v1, in its first phase, with what blocks it and why.
    case = client.get(created.headers["Location"], headers=anna.headers).json()
    assert case["id"] == case_id
    assert case["state"] == "behovsanalys"
    assert case["state_title"] == "Behovsanalys"
    assert case["definition"] == {"key": "it-upphandling", "version": 1}
    assert case["attributes"] == {**attrs, "recurring": False}  # defaults are stated
    assert case["evidence"] == []
    assert {s["trigger"] for s in case["next_steps"]} == {"complete_behovsanalys", "cancel"}

    nxt = step(case, "complete_behovsanalys")
    assert nxt["to_state"] == "forstudie"
    assert nxt["roles"] == ["bestallare", "upphandlare"]
    assert nxt["role_allowed"] is True
    assert nxt["ready"] is False
    written = v1_gate("complete_behovsanalys", "behovsanalys_done")
    # No consultants and no AI: those two gates are listed, but do not apply to this case.
    assert nxt["gates"] == [
        {
            "gate": "behovsanalys_done",
            "title": written["title"],
            "applies": True,
            "ok": False,
            "reasons": [
                {
                    "gate": "behovsanalys_done",
                    "message": written["message"],
                    "source": "§ 5.4.2, § 9.2.4 a",
                    # What to do about it: record this, as one of these roles, with these fields.
                    "evidence": [
                        {
                            "kind": "behovsanalys_done",
                            "title": "Behovsanalys genomförd",
                            "roles": ["bestallare", "upphandlare"],
                            "fields": [
                                {
                                    "name": name,
                                    "title": title,
                                    "type": "text",
                                    "required": True,
                                    "choices": None,
                                    "items": None,
                                }
                                for name, title in (
                                    ("need", "Behov"),
                                    ("current_state", "Nulägesanalys"),
                                    ("budget_owner", "Budgetansvarig som godkänt behovet"),
                                )
                            ],
                            "values": {},
                            "hint": "Registrera ”Behovsanalys genomförd” (behovsanalys_done). "
                            "Får registreras av Beställare, Upphandlare.",
                        }
                    ],
                }
            ],
            "source": "§ 5.4.2, § 9.2.4 a",
            "notes": [],
        },
        {
            "gate": "internal_competence_first",
            "title": v1_gate("complete_behovsanalys", "internal_competence_first")["title"],
            "applies": False,
            "ok": True,
            "reasons": [],
            "source": "§ 5.4.4",
            "notes": [],
        },
        {
            "gate": "ai_assessment",
            "title": v1_gate("complete_behovsanalys", "ai_assessment")["title"],
            "applies": False,
            "ok": True,
            "reasons": [],
            "source": "§ 5.4.3, § 9.2.3 c",
            "notes": [],
        },
    ]
    cancel = step(case, "cancel")
    assert cancel["requires_comment"] is True
    assert cancel["gates"] == []

    # Record the need analysis: the gate opens.
    recorded = client.post(
        f"/api/cases/{case_id}/evidence",
        json={"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")},
        headers=anna.headers,
    )
    assert recorded.status_code == 201, recorded.text
    ev = recorded.json()
    assert ev["kind"] == "behovsanalys_done"
    assert ev["title"] == "Behovsanalys genomförd"
    assert ev["data"] == evidence_data("behovsanalys_done")
    assert ev["phase"] == "behovsanalys"
    assert ev["recorded_by"] == anna.actor.name
    assert ev["role"] == "bestallare"

    case = client.get(f"/api/cases/{case_id}", headers=anna.headers).json()
    assert [e["kind"] for e in case["evidence"]] == ["behovsanalys_done"]
    nxt = step(case, "complete_behovsanalys")
    assert nxt["ready"] is True
    assert [(g["gate"], g["ok"], g["reasons"]) for g in nxt["gates"]] == [
        ("behovsanalys_done", True, []),
        ("internal_competence_first", True, []),
        ("ai_assessment", True, []),
    ]

    # Advance.
    moved = client.post(
        f"/api/cases/{case_id}/transitions",
        json={"trigger": "complete_behovsanalys"},
        headers=anna.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["from_state"] == "behovsanalys"
    assert moved.json()["to_state"] == "forstudie"
    assert moved.json()["gates"][0]["ok"] is True

    case = client.get(f"/api/cases/{case_id}", headers=anna.headers).json()
    assert case["state"] == "forstudie"
    # The next step is the upphandlare's; the beställare sees it, but may not fire it.
    nxt = step(case, "complete_forstudie")
    assert nxt["role_allowed"] is False
    assert [(r["gate"], r["source"]) for g in nxt["gates"] for r in g["reasons"]] == [
        ("forstudie_done", "§ 5.4.2, § 5.4.7, § 5.4.8"),
        ("objektledare_involved", "§ 5.4.2"),
        ("lots_considered", "§ 5.4.8"),
    ]
    assert counts(db)["audit_events"] == 3

    # The audit trail: every event, oldest first, each hash covering the event and the previous.
    trail = client.get(f"/api/cases/{case_id}/audit", headers=anna.headers)
    assert trail.status_code == 200
    events = trail.json()["events"]
    assert [(e["seq"], e["action"]) for e in events] == [
        (1, "case_started"),
        (2, "evidence_recorded"),
        (3, "transition"),
    ]
    assert events[0]["request_id"] == "tour-start-1"
    assert events[0]["attributes"] == {**attrs, "recurring": False}
    assert events[1]["evidence"] == {
        "kind": "behovsanalys_done",
        "data": evidence_data("behovsanalys_done"),
    }
    assert (events[2]["from_state"], events[2]["to_state"]) == ("behovsanalys", "forstudie")
    assert events[2]["trigger"] == "complete_behovsanalys"
    assert all(e["case_id"] == case_id for e in events)
    assert all(e["actor"] == {"id": anna.actor.user_id, "name": anna.actor.name} for e in events)
    prev = GENESIS
    for e in events:
        assert e["prev_hash"] == prev
        assert e["hash"] == event_hash(e)
        prev = e["hash"]

    # Verifying the whole log is for those who may read every case, such as a controller.
    assert client.get("/api/audit/verify", headers=anna.headers).status_code == 403
    verified = client.get("/api/audit/verify", headers=users["controller"].headers)
    assert verified.status_code == 200
    report = verified.json()
    assert (report["ok"], report["cases"], report["breaks"]) == (True, 1, [])
    assert report["events"] == report["log_size"]  # every event has its place in the log


def test_post_response_is_the_case_as_get_shows_it(
    client: TestClient, users: dict[str, User]
) -> None:
    anna = users["bestallare"]
    created = client.post("/api/cases", json=attributes(), headers=anna.headers)
    assert created.status_code == 201
    fetched = client.get(created.headers["Location"], headers=anna.headers)
    posted, got = created.json(), fetched.json()
    for key in ("id", "state", "definition", "attributes", "evidence", "next_steps", "deadlines"):
        assert posted[key] == got[key], key
    # The same instants, whatever offset each is written with.
    for key in ("next_due_at", "created_at", "updated_at"):
        assert datetime.fromisoformat(posted[key]) == datetime.fromisoformat(got[key]), key


def test_a_read_only_role_sees_the_case_but_not_as_its_own_step(
    client: TestClient, users: dict[str, User]
) -> None:
    created = client.post("/api/cases", json=attributes(), headers=users["upphandlare"].headers)
    assert created.status_code == 201
    controller = users["controller"]
    seen = client.get(created.headers["Location"], headers=controller.headers)
    assert seen.status_code == 200
    assert client.get("/api/cases", headers=controller.headers).json()["total"] == 1
    assert all(s["role_allowed"] is False for s in seen.json()["next_steps"])
    assert step(seen.json(), "complete_behovsanalys")["ready"] is False
