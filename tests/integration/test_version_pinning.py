"""A case keeps the definition version it was started on. A new version changes new cases only;
a loaded version is never changed in place."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import User, assert_problem, attributes, counts, evidence_data, run, scalar, v1_body
from upphandla.flows.commands.definitions import LoadDefinition
from upphandla.states.errors import Conflict
from upphandla.store.db import Database

NEW_KIND = "kompetens_internt_provad"
NEW_GATE = "kompetens_internt_provad"


def v2_body() -> dict[str, Any]:
    """v1 with version 2, one more evidence kind and one more gate, for every case, on leaving
    behovsanalys (v1 asks about internal competence only before buying consultants, § 5.4.4)."""
    body = v1_body()
    body["version"] = 2
    body["evidence_kinds"].append(
        {
            "id": NEW_KIND,
            "title": "Digitaliseringsavdelningen tillfrågad om intern kompetens",
            "roles": ["bestallare"],
            "phases": ["behovsanalys"],
            "fields": [{"name": "answer", "title": "Svar", "type": "text"}],
        }
    )
    trigger = next(t for t in body["triggers"] if t["id"] == "complete_behovsanalys")
    trigger["gates"].append(
        {
            "id": NEW_GATE,
            "title": "Intern kompetens prövad",
            "check": "evidence_recorded",
            "params": {"kind": NEW_KIND},
            "message": "Digitaliseringsavdelningen ska ha tillfrågats om kompetensen finns internt.",
            "source": "§ 5.4.4",
        }
    )
    return body


def load(db: Database, body: dict[str, Any]) -> bool:
    return run(db, LoadDefinition(body)).added


def start_via_api(client: TestClient, user: User, title: str) -> int:
    response = client.post("/api/cases", json=attributes(title=title), headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def gates_of(client: TestClient, user: User, case_id: int, trigger: str) -> list[str]:
    case = client.get(f"/api/cases/{case_id}", headers=user.headers).json()
    step = next(s for s in case["next_steps"] if s["trigger"] == trigger)
    return [g["gate"] for g in step["gates"]]


def test_old_case_keeps_v1_and_new_case_gets_v2(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    anna = users["bestallare"]
    old = start_via_api(client, anna, "Startat på version 1")
    assert load(db, v2_body()) is True
    new = start_via_api(client, anna, "Startat på version 2")

    old_case = client.get(f"/api/cases/{old}", headers=anna.headers).json()
    new_case = client.get(f"/api/cases/{new}", headers=anna.headers).json()
    assert old_case["definition"] == {"key": "it-upphandling", "version": 1}
    assert new_case["definition"] == {"key": "it-upphandling", "version": 2}
    v1_gates = ["behovsanalys_done", "internal_competence_first", "ai_assessment"]
    assert gates_of(client, anna, old, "complete_behovsanalys") == v1_gates
    assert gates_of(client, anna, new, "complete_behovsanalys") == [*v1_gates, NEW_GATE]

    for case_id in (old, new):
        recorded = client.post(
            f"/api/cases/{case_id}/evidence",
            json={"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")},
            headers=anna.headers,
        )
        assert recorded.status_code == 201

    # The old case moves on under v1's rules; v2's extra gate stops the new one.
    moved = client.post(
        f"/api/cases/{old}/transitions",
        json={"trigger": "complete_behovsanalys"},
        headers=anna.headers,
    )
    assert moved.status_code == 200, moved.text
    before = counts(db)
    refused = client.post(
        f"/api/cases/{new}/transitions",
        json={"trigger": "complete_behovsanalys"},
        headers=anna.headers,
    )
    body = assert_problem(refused, 409)
    assert [(r["gate"], r["source"]) for r in body["reasons"]] == [(NEW_GATE, "§ 5.4.4")]
    assert counts(db) == before

    # v2's evidence kind does not exist for a v1 case.
    unknown = client.post(
        f"/api/cases/{old}/evidence",
        json={"kind": NEW_KIND, "data": {"answer": "Nej"}},
        headers=anna.headers,
    )
    assert assert_problem(unknown, 404)["type"].endswith(":unknown_evidence_kind")
    known = client.post(
        f"/api/cases/{new}/evidence",
        json={"kind": NEW_KIND, "data": {"answer": "Nej"}},
        headers=anna.headers,
    )
    assert known.status_code == 201
    again = client.post(
        f"/api/cases/{new}/transitions",
        json={"trigger": "complete_behovsanalys"},
        headers=anna.headers,
    )
    assert again.status_code == 200, again.text

    # The audit trail names the version each event was decided under.
    for case_id, version in ((old, 1), (new, 2)):
        events = client.get(f"/api/cases/{case_id}/audit", headers=anna.headers).json()["events"]
        assert {e["definition"]["version"] for e in events} == {version}


def test_definitions_are_listed_and_readable_per_version(
    client: TestClient, users: dict[str, User], db: Database
) -> None:
    load(db, v2_body())
    reader = users["controller"]
    listed = client.get("/api/definitions", headers=reader.headers).json()
    assert [(d["key"], d["version"]) for d in listed] == [
        ("it-upphandling", 1),
        ("it-upphandling", 2),
    ]
    assert listed[0]["checksum"] != listed[1]["checksum"]
    v2 = client.get("/api/definitions/it-upphandling/2", headers=reader.headers).json()
    assert v2["version"] == 2
    assert NEW_KIND in {k["id"] for k in v2["evidence_kinds"]}
    v1 = client.get("/api/definitions/it-upphandling/1", headers=reader.headers).json()
    assert NEW_KIND not in {k["id"] for k in v1["evidence_kinds"]}


def test_same_body_again_is_a_no_op(users: dict[str, User], db: Database) -> None:
    assert load(db, v2_body()) is True
    checksum = scalar(db, "SELECT checksum FROM definitions WHERE version = 2")
    assert load(db, v2_body()) is False
    assert load(db, v1_body()) is False
    assert scalar(db, "SELECT count(*) FROM definitions") == 2
    assert scalar(db, "SELECT checksum FROM definitions WHERE version = 2") == checksum


def test_other_body_under_a_loaded_version_is_refused(users: dict[str, User], db: Database) -> None:
    load(db, v2_body())
    checksum = scalar(db, "SELECT checksum FROM definitions WHERE version = 2")
    changed = v2_body()
    changed["triggers"][0]["gates"].pop()  # the same version without the new gate

    with pytest.raises(Conflict) as refused:
        load(db, changed)

    assert refused.value.key == "definition_changed"
    assert "Version 2 av it-upphandling" in refused.value.detail
    assert scalar(db, "SELECT count(*) FROM definitions") == 2
    assert scalar(db, "SELECT checksum FROM definitions WHERE version = 2") == checksum
