"""What a fuzzer sent, and more of its kind: every request a client can make is answered with a
problem (application/problem+json, Swedish title, no stack trace) or a success, never a 500, on
SQLite and PostgreSQL; a refused request writes nothing. Control characters in free text and
query parameters are refused by one policy: NUL, C0 and C1 controls (except TAB, LF and CR) and
lone surrogates answer 422 naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import User, assert_problem, attributes, case_state, counts, drive, frozen, start
from upphandla.store.db import Database

CASE = "/api/cases/{case}"
IMPORT = f"{CASE}/acceptance/requirements"
CSV_TYPE = {"content-type": "text/csv; charset=utf-8"}
JSON_TYPE = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    return b'{"requirements": ' + b"[" * depth + b"]" * depth + b"}"


@dataclass(frozen=True)
class Nasty:
    role: str
    method: str
    path: str  # "{case}" is a case in acceptanstest
    status: int
    kwargs: dict[str, Any] = field(default_factory=dict)
    problem_type: str | None = None
    error_paths: tuple[str, ...] = ()


# fmt: off
NASTY: dict[str, Nasty] = {
    # -- the acceptance import: CSV and JSON as the fuzzer sent them
    "csv_row_wider_than_header": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id;text;level\nK1;Inloggning;ska;extra;mer\n", "headers": CSV_TYPE},
        "evidence_invalid", ("rad 2",)),
    "csv_header_only_wider_rows_comma": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id,text,level\nK1,a,ska,x\n", "headers": CSV_TYPE},
        "evidence_invalid", ("rad 2",)),
    "csv_bare_cr_line_endings": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id;text;level\rK1;Inloggning;ska\rK2;;ska\r", "headers": CSV_TYPE},
        "evidence_invalid"),
    "csv_cr_inside_header": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id;te\rxt;level\n", "headers": CSV_TYPE}, "evidence_invalid"),
    "csv_nul": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id;text;level\nK1;Inlog\x00gning;ska\n", "headers": CSV_TYPE},
        "evidence_invalid"),
    "csv_only_separators": Nasty(
        "bestallare", "POST", IMPORT, 422, {"content": b";;;\n;;;\n", "headers": CSV_TYPE},
        "evidence_invalid"),
    "csv_unterminated_quote": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b'id;text;level\nK1;"Inloggning;ska\n', "headers": CSV_TYPE},
        "evidence_invalid"),
    "csv_invalid_utf8": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"content": b"id;text;level\nK1;\xff\xfe;ska\n", "headers": CSV_TYPE}, "evidence_invalid"),
    "json_nested_1000_deep": Nasty(
        "bestallare", "POST", IMPORT, 422, {"content": nested(1000), "headers": JSON_TYPE},
        "json_too_deep"),
    "json_nested_100_000_deep": Nasty(
        "bestallare", "POST", IMPORT, 422, {"content": nested(100_000), "headers": JSON_TYPE},
        "json_too_deep"),
    "json_requirements_of_wrong_types": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"json": {"requirements": [1, "x", None, [], {"id": {"a": 1}}]}}, "evidence_invalid"),
    "json_requirement_with_nul": Nasty(
        "bestallare", "POST", IMPORT, 422,
        {"json": {"requirements": [{"id": "K1", "text": "a\x00b", "level": "ska"}]}},
        "evidence_invalid"),
    "json_import_without_content_type": Nasty(
        "bestallare", "POST", IMPORT, 422, {"content": b"\x00\x01"}, "evidence_invalid"),
    "json_import_empty_body": Nasty(
        "bestallare", "POST", IMPORT, 422, {"content": b"", "headers": JSON_TYPE},
        "evidence_invalid"),
    # -- JSON anywhere: too deep, empty, of the wrong type, not JSON at all
    "case_nested_1000_deep": Nasty(
        "bestallare", "POST", "/api/cases", 422,
        {"content": b'{"title": ' + b"[" * 1000 + b"]" * 1000 + b"}", "headers": JSON_TYPE},
        "json_too_deep"),
    "evidence_data_nested_1000_deep": Nasty(
        "bestallare", "POST", f"{CASE}/evidence", 422,
        {"content": b'{"kind": "x", "data": {"a": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
         "headers": JSON_TYPE}, "json_too_deep"),
    "case_empty_body": Nasty(
        "bestallare", "POST", "/api/cases", 422, {"content": b"", "headers": JSON_TYPE},
        "invalid_attributes"),
    "case_body_is_a_list": Nasty(
        "bestallare", "POST", "/api/cases", 422, {"json": [attributes()]}, "invalid_attributes"),
    "case_body_is_null": Nasty(
        "bestallare", "POST", "/api/cases", 422, {"content": b"null", "headers": JSON_TYPE},
        "invalid_attributes"),
    "case_body_as_text_plain": Nasty(
        "bestallare", "POST", "/api/cases", 415,
        {"content": b"title=x", "headers": {"content-type": "text/plain"}},
        "unsupported_media_type"),
    "case_body_as_form": Nasty(
        "bestallare", "POST", "/api/cases", 415,
        {"data": {"title": "x"}}, "unsupported_media_type"),
    "case_invalid_utf8": Nasty(
        "bestallare", "POST", "/api/cases", 400,
        {"content": b'{"title": "\xff\xfe"}', "headers": JSON_TYPE}, "malformed_json"),
    "case_huge_integer": Nasty(  # beyond the digits Python's JSON parser reads
        "bestallare", "POST", "/api/cases", 400,
        {"content": b'{"estimated_value_sek": 1' + b"0" * 5000 + b"}", "headers": JSON_TYPE},
        "malformed_json"),
    "case_value_beyond_int64": Nasty(
        "bestallare", "POST", "/api/cases", 422,
        {"json": attributes(estimated_value_sek=2**64)}, "invalid_attributes",
        ("estimated_value_sek",)),
    "case_duplicate_keys": Nasty(
        "bestallare", "POST", "/api/cases", 422,
        {"content": b'{"title": "a", "title": 1}', "headers": JSON_TYPE}, "invalid_attributes"),
    # -- control characters in free text
    "title_with_nul": Nasty(
        "bestallare", "POST", "/api/cases", 422, {"json": attributes(title="Ett\x00system")},
        "invalid_attributes", ("title",)),
    "title_with_c1_control": Nasty(
        "bestallare", "POST", "/api/cases", 422, {"json": attributes(title="Ett\x85system")},
        "invalid_attributes", ("title",)),
    "title_with_lone_surrogate": Nasty(
        "bestallare", "POST", "/api/cases", 422,
        {"content": b'{"title": "Ett\\ud800system"}', "headers": JSON_TYPE},
        "invalid_attributes"),
    "organisation_with_escape": Nasty(
        "bestallare", "POST", "/api/cases", 422,
        {"json": attributes(organisation="social\x1bforvaltningen")},
        "invalid_attributes", ("organisation",)),
    "comment_with_nul": Nasty(
        "upphandlare", "POST", f"{CASE}/transitions", 422,
        {"json": {"trigger": "approve_acceptance", "comment": "Godkänd\x00"}},
        "invalid_attributes", ("comment",)),
    "trigger_with_nul": Nasty(
        "upphandlare", "POST", f"{CASE}/transitions", 422,
        {"json": {"trigger": "can\x00cel", "comment": "x"}}, "invalid_attributes", ("trigger",)),
    "evidence_kind_with_nul": Nasty(
        "upphandlare", "POST", f"{CASE}/evidence", 422,
        {"json": {"kind": "supplier_\x00ready", "data": {}}}, "invalid_attributes", ("kind",)),
    "evidence_text_with_nul": Nasty(
        "objektledare_it", "POST", f"{CASE}/evidence", 422,
        {"json": {"kind": "acceptance_signoff_objektledare", "data": {"comment": "O\x00K"}}},
        "evidence_invalid", ("data.comment",)),
    "evidence_field_name_with_nul": Nasty(
        "objektledare_it", "POST", f"{CASE}/evidence", 422,
        {"json": {"kind": "acceptance_signoff_objektledare",
                  "data": {"comment": "OK", "a\x00b": "x"}}}, "evidence_invalid"),
    # -- query parameters and path parameters
    "query_with_nul": Nasty(
        "bestallare", "GET", "/api/cases", 422, {"params": {"state": "sign\x00ing"}},
        "invalid_attributes", ("query.state",)),
    "query_organisation_with_nul": Nasty(
        "bestallare", "GET", "/api/cases?organisation=%00", 422, {}, "invalid_attributes",
        ("query.organisation",)),
    "query_name_with_nul": Nasty(
        "bestallare", "GET", "/api/cases?st%00ate=x", 422, {}, "invalid_attributes"),
    "query_invalid_utf8": Nasty(
        "bestallare", "GET", "/api/cases?state=%ff%fe", 422, {}, "invalid_attributes",
        ("query.state",)),
    "query_huge_integer": Nasty(
        "bestallare", "GET", "/api/cases", 422, {"params": {"offset": "9" * 5000}},
        "invalid_attributes", ("query.offset",)),
    "path_with_nul": Nasty(
        "controller", "GET", "/api/definitions/it-upp%00handling/1", 422, {},
        "invalid_attributes", ("path",)),
    "path_negative_case": Nasty(
        "bestallare", "GET", "/api/cases/-1", 422, {}, "invalid_attributes"),
    "path_huge_case": Nasty(
        "bestallare", "GET", "/api/cases/" + "9" * 400, 422, {}, "invalid_attributes"),
    "path_version_huge": Nasty(
        "controller", "GET", "/api/definitions/it-upphandling/" + "9" * 400, 422, {},
        "invalid_attributes"),
    "path_case_not_a_number": Nasty(
        "bestallare", "GET", "/api/cases/ett", 422, {}, "invalid_attributes"),
    "calendar_secret_with_nul": Nasty(
        "bestallare", "GET", "/api/calendar/ab%00cd.ics", 422, {}, "invalid_attributes"),
    # -- headers
    "very_long_header": Nasty(
        "bestallare", "GET", "/api/cases", 200, {"headers": {"X-Filler": "a" * 60_000}}),
    "request_id_with_control_characters": Nasty(
        "bestallare", "GET", "/api/cases", 200, {"headers": {"X-Request-ID": "a\tb"}}),
}
# fmt: on


@pytest.fixture
def acceptance_case(db: Database, users: dict[str, User]) -> int:
    with frozen("2026-03-02 09:00:00"):
        case_id = start(db, users["bestallare"], personal_data=True)
        drive(db, case_id, "acceptanstest", users)
    return case_id


def send(client: TestClient, nasty: Nasty, case_id: int, users: dict[str, User]) -> Response:
    kwargs = dict(nasty.kwargs)
    headers = {**users[nasty.role].headers, **kwargs.pop("headers", {})}
    return client.request(nasty.method, nasty.path.format(case=case_id), headers=headers, **kwargs)


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_input_is_refused_with_a_problem_and_writes_nothing(
    name: str, client: TestClient, users: dict[str, User], db: Database, acceptance_case: int
) -> None:
    nasty = NASTY[name]
    before = counts(db), case_state(db, acceptance_case)

    response = send(client, nasty, acceptance_case, users)

    if nasty.status < 400:
        assert response.status_code == nasty.status, response.text
    else:
        body = assert_problem(response, nasty.status)
        if nasty.problem_type:
            assert body["type"] == f"urn:upphandla:problem:{nasty.problem_type}", body
        if nasty.error_paths:
            assert sorted(e["path"] for e in body["errors"]) == sorted(nasty.error_paths), body
            assert all(e["message"] for e in body["errors"])
    assert (counts(db), case_state(db, acceptance_case)) == before


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_a_csv_with_any_line_ending_imports(
    client: TestClient, users: dict[str, User], acceptance_case: int, newline: str
) -> None:
    body = newline.join(["id;text;level", "K1;Inloggning;ska", "K2;Mörkt läge;bör", ""])
    response = client.post(
        IMPORT.format(case=acceptance_case),
        content=body.encode(),
        headers={**users["bestallare"].headers, **CSV_TYPE},
    )
    assert response.status_code == 201, response.text
    assert [r["id"] for r in response.json()["data"]["requirements"]] == ["K1", "K2"]


def test_tab_and_line_breaks_are_text(
    client: TestClient, users: dict[str, User], acceptance_case: int
) -> None:
    """The policy refuses control characters, not the ones people write with."""
    response = client.post(
        f"/api/cases/{acceptance_case}/evidence",
        json={
            "kind": "acceptance_signoff_objektledare",
            "data": {"comment": "Rad ett\r\nRad två\tmed tabb\u2028och radavskiljare"},
        },
        headers=users["objektledare_it"].headers,
    )
    assert response.status_code == 201, response.text
