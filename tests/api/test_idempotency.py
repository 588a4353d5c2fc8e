"""Idempotent POSTs (the IETF httpapi Idempotency-Key draft): the same key and request by the same
person get the first response back without the work being done again; the same key with another
request is refused (422); keys expire after a day; the response is kept in the transaction of
the change, so that two requests with the same key at once still make one case."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    User,
    assert_problem,
    attributes,
    case_state,
    counts,
    evidence_data,
    frozen,
    scalar,
)
from upphandla.flows.auth import AsCaller
from upphandla.flows.commands.cases import CaseRef, StartCase
from upphandla.flows.handler import Handler
from upphandla.flows.idempotency import Answered, IdempotentRequest, Reply
from upphandla.flows.jobs.sweep import run_sweep
from upphandla.states.roles import Actor
from upphandla.store.db import Database
from upphandla.store.uow import UnitOfWork

KEY = "5f0c6f0e-3a43-4f4e-9d1b-1c2f7a3e9b10"
NOON = "2026-03-02 12:00:00"


def start_case(client: TestClient, by: User, key: str | None = KEY, **overrides: Any) -> Response:
    headers = by.headers | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/api/cases", json=attributes(**overrides), headers=headers)


def kept_keys(db: Database) -> int:
    return int(scalar(db, "SELECT count(*) FROM idempotency_keys"))


def same_response(first: Response, again: Response) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    for header in ("Location", "ETag", "Content-Type"):
        assert again.headers.get(header) == first.headers.get(header), header


def test_a_retried_post_with_the_same_key_starts_one_case_and_answers_the_first_response(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    first = start_case(client, users["bestallare"])
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == f"/api/cases/{first.json()['id']}"
    after_first = counts(db)
    assert after_first["cases"] == 1

    for _ in range(2):
        same_response(first, start_case(client, users["bestallare"]))
    assert counts(db) == after_first

    # The case moves on; a retry still gets the first response, not the case as it is now.
    case_id = first.json()["id"]
    body = {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}
    changed = client.post(
        f"/api/cases/{case_id}/evidence", json=body, headers=users["bestallare"].headers
    )
    assert changed.status_code == 201, changed.text
    same_response(first, start_case(client, users["bestallare"]))
    assert counts(db)["cases"] == 1


def test_the_same_key_with_another_request_is_refused_and_writes_nothing(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    first = start_case(client, users["bestallare"])
    assert first.status_code == 201, first.text
    before = counts(db), kept_keys(db)

    other_body = start_case(client, users["bestallare"], title="Ett annat system")
    problem = assert_problem(other_body, 422)
    assert problem["type"] == "urn:upphandla:problem:idempotency_key_reused"
    assert problem["errors"][0]["path"] == "Idempotency-Key"

    case_id = first.json()["id"]
    body = {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}
    headers = users["bestallare"].headers | {"Idempotency-Key": KEY}
    other_path = client.post(f"/api/cases/{case_id}/evidence", json=body, headers=headers)
    assert_problem(other_path, 422)
    assert (counts(db), kept_keys(db)) == before


def test_keys_are_per_person(client: TestClient, db: Database, users: dict[str, User]) -> None:
    mine = start_case(client, users["bestallare"])
    theirs = start_case(client, users["upphandlare"])
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert counts(db)["cases"] == 2


def test_a_key_expires_after_a_day_and_the_sweep_purges_it(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    with frozen(NOON) as clock:
        first = start_case(client, users["bestallare"])
        assert first.status_code == 201, first.text
        clock.tick(timedelta(days=1) - timedelta(seconds=1))
        same_response(first, start_case(client, users["bestallare"]))
        assert counts(db)["cases"] == 1

        clock.tick(timedelta(seconds=1))
        assert run_sweep(Handler.on(db)).idempotency_keys_purged == 1
        assert kept_keys(db) == 0
        again = start_case(client, users["bestallare"])
        assert again.status_code == 201, again.text
        assert again.json()["id"] != first.json()["id"]
        assert counts(db)["cases"] == 2

        # Expired and not yet purged: the key is new again, for any request.
        clock.tick(timedelta(days=1))
        other = start_case(client, users["bestallare"], title="Ett annat system")
        assert other.status_code == 201, other.text
        assert counts(db)["cases"] == 3
        assert kept_keys(db) == 1


def test_a_refused_request_is_not_kept_and_its_retry_is_refused_again(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    before = counts(db)
    for _ in range(2):  # the controller may not start a case
        assert_problem(start_case(client, users["controller"]), 403)
    assert (counts(db), kept_keys(db)) == (before, 0)


def test_a_refusal_by_the_gates_is_not_kept_and_the_retry_succeeds_once_they_hold(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    """A refusal leaves no trace, the key included: the retry is done again."""
    case_id = start_case(client, users["bestallare"], key=None).json()["id"]
    headers = users["bestallare"].headers | {"Idempotency-Key": KEY}
    advance = {"trigger": "complete_behovsanalys"}
    path = f"/api/cases/{case_id}/transitions"
    before = counts(db), case_state(db, case_id)
    assert_problem(client.post(path, json=advance, headers=headers), 409)
    assert (counts(db), case_state(db, case_id), kept_keys(db)) == (*before, 0)

    body = {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}
    client.post(f"/api/cases/{case_id}/evidence", json=body, headers=users["bestallare"].headers)
    moved = client.post(path, json=advance, headers=headers)
    assert moved.status_code == 200, moved.text
    assert case_state(db, case_id)[0] == "forstudie"


def test_a_replayed_change_answers_its_first_response_even_with_an_if_match_now_stale(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    """The client sent If-Match, the change was made but the response lost; the retry with the
    same key and the same If-Match gets the response instead of 412."""
    started = start_case(client, users["bestallare"], key=None)
    case_id = started.json()["id"]
    headers = users["bestallare"].headers | {
        "Idempotency-Key": KEY,
        "If-Match": started.headers["ETag"],
    }
    body = {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}
    path = f"/api/cases/{case_id}/evidence"
    first = client.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    after = counts(db), case_state(db, case_id)
    same_response(first, client.post(path, json=body, headers=headers))
    assert (counts(db), case_state(db, case_id)) == after
    # Without the key the same stale If-Match is refused.
    stale = client.post(path, json=body, headers=headers | {"Idempotency-Key": "en annan"})
    assert_problem(stale, 412)


@pytest.mark.parametrize(
    "key",
    ["", " ", "x" * 256, "nyckel-å".encode(), "a\x01b"],
    ids=["empty", "blank", "too-long", "not-ascii", "control"],
)
def test_a_malformed_key_is_refused(
    client: TestClient, db: Database, users: dict[str, User], key: str | bytes
) -> None:
    headers: dict[str, Any] = users["bestallare"].headers | {"Idempotency-Key": key}
    refused = client.post("/api/cases", json=attributes(), headers=headers)
    problem = assert_problem(refused, 422)
    assert any("Idempotency-Key" in str(e["path"]) for e in problem["errors"]), problem
    assert counts(db)["cases"] == 0


def test_a_key_of_255_printable_characters_is_accepted(
    client: TestClient, users: dict[str, User]
) -> None:
    key = ("a b~!" * 51)[:255]
    first = start_case(client, users["bestallare"], key=key)
    assert first.status_code == 201, first.text
    same_response(first, start_case(client, users["bestallare"], key=key))


def test_a_calendar_address_is_not_kept_and_a_replay_answers_409(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    headers = users["bestallare"].headers | {"Idempotency-Key": KEY}
    first = client.post("/api/calendar", headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["url"].rsplit("/", 1)[-1].removesuffix(".ics")
    assert scalar(db, "SELECT count(*) FROM idempotency_keys WHERE body IS NULL") == 1
    assert secret not in json.dumps(scalar(db, "SELECT headers FROM idempotency_keys"))

    again = client.post("/api/calendar", headers=headers)
    assert assert_problem(again, 409)["type"].endswith(":idempotency_response_not_kept")
    assert scalar(db, "SELECT count(*) FROM calendar_feeds WHERE revoked_at IS NULL") == 1
    assert client.get(first.json()["url"].removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_concurrent_requests_with_the_same_key_start_one_case(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    barrier = threading.Barrier(4)

    def send(_: int) -> Response:
        barrier.wait(timeout=30)
        return start_case(client, users["bestallare"])

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(send, range(4)))
    for response in responses:
        assert response.status_code == 201, response.text
        same_response(responses[0], response)
    assert counts(db)["cases"] == 1
    assert kept_keys(db) == 1


def test_a_second_unit_of_work_with_the_key_waits_for_the_first_and_answers_its_response(
    db: Database, users: dict[str, User], backend: str
) -> None:
    """The first request has claimed the key and started its case but not committed when the
    second arrives: the second waits (PostgreSQL: on the key's unique index, then tries once
    more; SQLite: on the writer lock) and answers the first's response."""
    handler = CountingHandler.on(db)
    request = IdempotentRequest.of(
        KEY, method="POST", target="/api/cases", body=b"{}", lifetime=timedelta(days=1)
    )
    claimed, go = threading.Event(), threading.Event()

    def build(actor: Actor) -> StartCase:
        return StartCase(actor=actor, attributes=attributes(), definition_key="it-upphandling")

    def render(wait: bool) -> Any:
        def reply(uow: UnitOfWork, actor: Actor, ref: CaseRef) -> Reply:
            if wait:
                claimed.set()
                assert go.wait(timeout=30)
            return Reply(201, json.dumps({"id": ref.case_id}), {"Location": f"/{ref.case_id}"})

        return reply

    def answer(wait: bool) -> Reply:
        token = users["bestallare"].token
        return Answered(AsCaller(token, build), render(wait), request).run(handler)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(answer, True)
        assert claimed.wait(timeout=30)
        second = pool.submit(answer, False)
        if backend == "postgresql":
            _until_a_backend_waits_on_a_lock(db)
        go.set()
        replies = first.result(timeout=60), second.result(timeout=60)
    assert replies[0] == replies[1]
    assert replies[0].headers["ETag"] == '"1"'
    assert counts(db)["cases"] == 1
    # PostgreSQL: the second waits on a row the first holds (the token's last use, or the key's
    # unique index); in the second case its claim fails once it can go on and it tries again.
    assert handler.runs in ((2, 3) if backend == "postgresql" else (2,))


class CountingHandler(Handler):
    runs = 0
    _lock = threading.Lock()

    def run(self, command: Any) -> Any:
        with self._lock:
            self.runs += 1
        return super().run(command)


def _until_a_backend_waits_on_a_lock(db: Database) -> None:
    """Until a connection waits on a lock (the second's insert of the key, on PostgreSQL)."""
    waiting = threading.Event()
    for _ in range(3000):
        if scalar(db, "SELECT count(*) FROM pg_locks WHERE NOT granted"):
            return
        waiting.wait(0.01)
    raise AssertionError("the second unit of work never waited for the first")
