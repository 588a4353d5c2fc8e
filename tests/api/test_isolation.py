"""Two organisations side by side: a beställare of one sees nothing of the other's cases in any
list, count, read, write, audit trail, audit search or export, calendar feed or outbox view, and
a foreign case's id answers exactly as an id that does not exist (apart from the request id)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from helpers import (
    User,
    assert_problem,
    attributes,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    people_of,
    start,
)
from upphandla.store.db import Database

OTHER = "vard_och_omsorgsforvaltningen"
MISSING = 10**9


def test_a_bestallare_sees_nothing_of_another_organisations_cases(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    mine, theirs = users, people_of(db, users, OTHER)
    with frozen("2026-03-02 09:00:00"):
        own = start(db, mine["bestallare"], title="Vårt system")
        foreign = start(db, theirs["bestallare"], title="Deras system", organisation=OTHER)
        drive(db, foreign, "ssa", theirs)  # events, evidence and messages of their own
        drive(db, own, "forstudie", mine)
    me, them = mine["bestallare"], theirs["bestallare"]

    for who, own_id, other_id in ((me, own, foreign), (them, foreign, own)):
        listed = client.get("/api/cases", headers=who.headers).json()
        assert [c["id"] for c in listed["items"]] == [own_id] and listed["total"] == 1
        for params in ({"organisation": OTHER}, {"organisation": "socialforvaltningen"}):
            filtered = client.get("/api/cases", params=params, headers=who.headers).json()
            assert other_id not in [c["id"] for c in filtered["items"]]

        # A foreign id answers exactly as a missing one, apart from the request id and the id.
        for suffix in ("", "/audit", "/checklist"):
            foreign_answer = client.get(f"/api/cases/{other_id}{suffix}", headers=who.headers)
            missing_answer = client.get(f"/api/cases/{MISSING}{suffix}", headers=who.headers)
            assert_problem(foreign_answer, 404)
            assert_problem(missing_answer, 404)
            assert _normalised(foreign_answer, other_id) == _normalised(missing_answer, MISSING)

        # Writes on a foreign case are refused as for a missing one, and write nothing.
        before = counts(db), case_state(db, other_id)
        attempts = [
            client.post(
                f"/api/cases/{other_id}/evidence",
                json={"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")},
                headers=who.headers,
            ),
            client.post(
                f"/api/cases/{other_id}/transitions",
                json={"trigger": "cancel", "comment": "Inte vårt"},
                headers=who.headers,
            ),
            # A stale version of a foreign case is not a precondition that failed: it is not
            # there at all.
            client.post(
                f"/api/cases/{other_id}/transitions",
                json={"trigger": "cancel", "comment": "Inte vårt"},
                headers={**who.headers, "If-Match": '"999"'},
            ),
            client.post(
                f"/api/cases/{other_id}/acceptance/requirements",
                content="id;text;level\nK1;Inloggning med e-legitimation;ska\n",
                headers={**who.headers, "Content-Type": "text/csv"},
            ),
        ]
        for answer in attempts:
            assert_problem(answer, 404)
        assert (counts(db), case_state(db, other_id)) == before

        # Audit search and its exports show only one's own case.
        events = client.get("/api/audit/events", params={"limit": 500}, headers=who.headers)
        assert {e["case_id"] for e in events.json()["items"]} == {own_id}
        by_case = client.get(
            "/api/audit/events", params={"case_id": other_id}, headers=who.headers
        ).json()
        assert by_case["items"] == []
        csv_text = client.get("/api/audit/events.csv", headers=who.headers).text
        jsonl = client.get("/api/audit/events.jsonl", headers=who.headers).text
        title = "Deras system" if who is me else "Vårt system"
        assert title not in csv_text and title not in jsonl
        assert jsonl.count("\n") == len(events.json()["items"])

        # The calendar feed holds only one's own case.
        feed = client.post("/api/calendar", headers=who.headers).json()["url"]
        ics = client.get("/" + feed.split("://", 1)[1].split("/", 1)[1]).text
        assert f"/arenden/{other_id}" not in ics and title not in ics

        # The outbox is not a beställare's to read.
        assert_problem(client.get("/api/outbox", headers=who.headers), 403)

    # Starting a case in another organisation's name is refused, and writes nothing.
    before = counts(db)
    body = {**_attributes(), "organisation": OTHER}
    assert_problem(client.post("/api/cases", json=body, headers=me.headers), 403)
    assert counts(db) == before
    # The upphandlare, who works for every organisation, may.
    made = client.post("/api/cases", json=body, headers=mine["upphandlare"].headers)
    assert made.status_code == 201 and made.json()["organisation"] == OTHER


def _normalised(answer: Any, case_id: int) -> dict[str, Any]:
    body = {k: v for k, v in answer.json().items() if k != "request_id"}
    return {k: v.replace(str(case_id), "N") if isinstance(v, str) else v for k, v in body.items()}


def _attributes() -> dict[str, Any]:
    return attributes(title="Ett system till")
