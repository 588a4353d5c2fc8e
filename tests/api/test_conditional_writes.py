"""Conditional writes: a case's ETag is its row version; a write with If-Match is made only if
the case is still at that version (412 and nothing written otherwise), and every write on a case
answers with the case's new ETag."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    User,
    assert_problem,
    attributes,
    audit_rows,
    case_state,
    counts,
    drive,
    evidence_data,
    frozen,
    start,
)
from upphandla.states.preconditions import IfMatch, parse_if_match
from upphandla.store.db import Database

CSV = "id;text;level\nK1;Inloggning med tvåfaktor;ska\nK2;Export av all data;ska\n"


def etag_of(client: TestClient, case_id: int, by: User) -> str:
    got = client.get(f"/api/cases/{case_id}", headers=by.headers)
    assert got.status_code == 200, got.text
    return got.headers["ETag"]


def record(client: TestClient, case_id: int, by: User, if_match: str | None = None) -> Response:
    """Record that the needs analysis is done (the beställare and the upphandlare may)."""
    headers = by.headers | ({"If-Match": if_match} if if_match is not None else {})
    body = {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}
    return client.post(f"/api/cases/{case_id}/evidence", json=body, headers=headers)


def fire(client: TestClient, case_id: int, by: User, trigger: str, **headers: str) -> Response:
    body: dict[str, Any] = {"trigger": trigger, "comment": "Behovet täcks på annat sätt."}
    return client.post(f"/api/cases/{case_id}/transitions", json=body, headers=by.headers | headers)


def nothing_written(db: Database, case_id: int) -> tuple[Any, ...]:
    return counts(db), case_state(db, case_id), audit_rows(db, case_id)


def test_a_case_carries_a_strong_etag_that_every_write_moves_on(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    bestallare = users["bestallare"]
    started = client.post("/api/cases", json=attributes(), headers=bestallare.headers)
    assert started.status_code == 201, started.text
    case_id = started.json()["id"]
    assert started.headers["ETag"] == '"1"'
    assert etag_of(client, case_id, bestallare) == '"1"'

    recorded = record(client, case_id, bestallare, if_match='"1"')
    assert recorded.status_code == 201, recorded.text
    assert recorded.headers["ETag"] == '"2"' == etag_of(client, case_id, bestallare)
    assert case_state(db, case_id)[1] == 2

    moved = fire(client, case_id, bestallare, "complete_behovsanalys", **{"If-Match": '"2"'})
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == '"3"' == etag_of(client, case_id, bestallare)
    assert case_state(db, case_id)[:2] == ("forstudie", 3)


def test_without_if_match_a_write_is_made_as_before_and_answers_the_new_etag(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    case_id = start(db, users["bestallare"])
    recorded = record(client, case_id, users["bestallare"])
    assert recorded.status_code == 201, recorded.text
    assert recorded.headers["ETag"] == '"2"'


@pytest.mark.parametrize(
    "if_match",
    [
        '"1"',  # the version before the change someone else made
        '"1", "7"',
        'W/"2"',  # weak: never matches a strong comparison
        "2",  # not an entity tag
        '"2',
        '"2" "3"',
        '"abc"',
        "",
    ],
)
def test_a_stale_or_malformed_if_match_gets_412_and_writes_nothing(
    client: TestClient, db: Database, users: dict[str, User], if_match: str
) -> None:
    bestallare = users["bestallare"]
    case_id = start(db, bestallare)
    assert record(client, case_id, users["upphandlare"]).status_code == 201  # now version 2
    before = nothing_written(db, case_id)

    refused = record(client, case_id, bestallare, if_match=if_match)
    body = assert_problem(refused, 412)
    assert body["type"] == "urn:upphandla:problem:precondition_failed"
    assert body["title"] == "Ärendet har ändrats"
    assert nothing_written(db, case_id) == before

    refused = fire(client, case_id, bestallare, "cancel", **{"If-Match": if_match})
    assert_problem(refused, 412)
    assert nothing_written(db, case_id) == before


@pytest.mark.parametrize("if_match", ['"2"', "*", '"9", "2"', ' W/"1" , "2" '])
def test_a_current_if_match_or_a_star_lets_the_write_through(
    client: TestClient, db: Database, users: dict[str, User], if_match: str
) -> None:
    case_id = start(db, users["bestallare"])
    assert record(client, case_id, users["upphandlare"]).status_code == 201  # now version 2
    moved = fire(client, case_id, users["bestallare"], "cancel", **{"If-Match": if_match})
    assert moved.status_code == 200, moved.text
    assert moved.headers["ETag"] == '"3"'
    assert case_state(db, case_id)[:2] == ("avbruten", 3)


def test_if_match_on_a_case_that_does_not_exist_answers_404_not_412(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    missing = record(client, 999, users["bestallare"], if_match='"1"')
    assert_problem(missing, 404)
    star = fire(client, 999, users["bestallare"], "cancel", **{"If-Match": "*"})
    assert_problem(star, 404)


def test_a_stale_if_match_is_412_even_where_the_gates_would_refuse(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    """The check is made where the command reads the case for its change: a stale If-Match on
    an existing case is 412 even for a request the gates would also refuse."""
    case_id = start(db, users["bestallare"])
    before = nothing_written(db, case_id)
    refused = fire(
        client, case_id, users["bestallare"], "complete_behovsanalys", **{"If-Match": '"5"'}
    )
    assert_problem(refused, 412)
    assert nothing_written(db, case_id) == before


def test_an_acceptance_import_is_conditional_and_answers_the_new_etag(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "acceptanstest", users)
    path = f"/api/cases/{case_id}/acceptance/requirements"
    current = etag_of(client, case_id, users["bestallare"])
    headers = users["bestallare"].headers | {"Content-Type": "text/csv; charset=utf-8"}
    before = nothing_written(db, case_id)

    stale = client.post(path, content=CSV.encode(), headers=headers | {"If-Match": '"1"'})
    assert_problem(stale, 412)
    assert nothing_written(db, case_id) == before

    imported = client.post(path, content=CSV.encode(), headers=headers | {"If-Match": current})
    assert imported.status_code == 201, imported.text
    assert imported.headers["ETag"] == etag_of(client, case_id, users["bestallare"])
    assert imported.headers["ETag"] != current


def test_the_if_match_header_is_read_as_rfc_9110_says() -> None:
    assert parse_if_match("*") == IfMatch(any_version=True)
    assert parse_if_match('"3"') == IfMatch(versions=frozenset({3}))
    assert parse_if_match('"3",,"4" ,') == IfMatch(versions=frozenset({3, 4}))
    assert parse_if_match('W/"3"').holds(3) is False
    assert parse_if_match('"a,b", "5"') == IfMatch(versions=frozenset({5}))
    for malformed in ('"3" x', "3", '"3', "**", '"3";"4"', '"' + "9" * 40 + '"'):
        assert not any(parse_if_match(malformed).holds(v) for v in (3, 4, 9)), malformed
