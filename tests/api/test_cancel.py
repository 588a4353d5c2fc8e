"""Cancelling: a reason is required and kept in the audit trail; a cancelled case is closed; a
signed case can no longer be cancelled."""

from __future__ import annotations

from fastapi.testclient import TestClient

from helpers import (
    User,
    assert_problem,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    start,
)
from upphandla.store.db import Database

REASON = "Behovet täcks av samordnad upphandling i regionen."


def cancel(client: TestClient, case_id: int, by: User, comment: str | None = REASON):
    body = {"trigger": "cancel"} | ({"comment": comment} if comment is not None else {})
    return client.post(f"/api/cases/{case_id}/transitions", json=body, headers=by.headers)


def test_cancel_needs_a_reason_and_the_reason_is_audited(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = start(db, users["bestallare"])
    drive(db, case_id, "forstudie", users)
    before = counts(db), case_state(db, case_id)

    for missing in (None, "", " \n\t "):
        refused = cancel(client, case_id, users["upphandlare"], missing)
        assert assert_problem(refused, 422)["type"].endswith(":comment_required")
    assert (counts(db), case_state(db, case_id)) == before

    done = cancel(client, case_id, users["upphandlare"])
    assert done.status_code == 200, done.text
    assert (done.json()["from_state"], done.json()["to_state"]) == ("forstudie", "avbruten")

    events = client.get(f"/api/cases/{case_id}/audit", headers=users["controller"].headers)
    last = events.json()["events"][-1]
    assert last["action"] == "cancelled"
    assert last["trigger"] == "cancel"
    assert last["comment"] == REASON
    assert (last["from_state"], last["to_state"]) == ("forstudie", "avbruten")
    assert last["role"] == "upphandlare"
    assert last["actor"]["id"] == users["upphandlare"].actor.user_id

    case = client.get(f"/api/cases/{case_id}", headers=users["bestallare"].headers).json()
    assert case["state"] == "avbruten"
    assert case["state_title"] == "Avbrutet"
    assert case["next_steps"] == []


def test_a_cancelled_case_refuses_transitions_and_evidence(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = start(db, users["bestallare"])
    assert cancel(client, case_id, users["bestallare"]).status_code == 200
    before = counts(db), case_state(db, case_id)

    attempts = [
        client.post(
            f"/api/cases/{case_id}/transitions",
            json={"trigger": "complete_behovsanalys"},
            headers=users["bestallare"].headers,
        ),
        cancel(client, case_id, users["kategoriledare"], "En gång till"),
        client.post(
            f"/api/cases/{case_id}/evidence",
            json={"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")},
            headers=users["bestallare"].headers,
        ),
        client.post(
            f"/api/cases/{case_id}/evidence",
            json={"kind": "pub_avtal_signed", "data": evidence_data("pub_avtal_signed")},
            headers=users["upphandlare"].headers,
        ),
    ]
    for response in attempts:
        assert_problem(response, 409)
    # The dataskyddsombud never took part and a cancelled case needs nobody: it is not theirs
    # to see (the access policy).
    by_dso = client.post(
        f"/api/cases/{case_id}/evidence",
        json={"kind": "pub_avtal_signed", "data": evidence_data("pub_avtal_signed")},
        headers=users["dso"].headers,
    )
    assert_problem(by_dso, 404)
    assert (counts(db), case_state(db, case_id)) == before


def test_only_some_roles_may_cancel(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    case_id = start(db, users["bestallare"])
    before = counts(db), case_state(db, case_id)
    # The controller reads every case and changes none; a delegat and the dataskyddsombud have
    # nothing to do in behovsanalys, so the case is not theirs to see.
    assert_problem(cancel(client, case_id, users["controller"]), 403)
    for role in ("delegat", "dso"):
        assert_problem(cancel(client, case_id, users[role]), 404)
    assert (counts(db), case_state(db, case_id)) == before
    assert cancel(client, case_id, users["kategoriledare"]).status_code == 200


def test_a_signed_case_can_no_longer_be_cancelled(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "acceptanstest", users)
    before = counts(db), case_state(db, case_id)
    refused = cancel(client, case_id, users["upphandlare"])
    assert assert_problem(refused, 409)["type"].endswith(":trigger_not_available")
    assert (counts(db), case_state(db, case_id)) == before
    case = client.get(f"/api/cases/{case_id}", headers=users["upphandlare"].headers).json()
    assert "cancel" not in {s["trigger"] for s in case["next_steps"]}
