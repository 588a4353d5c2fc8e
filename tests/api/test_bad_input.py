"""Bad requests: each is answered with application/problem+json, a Swedish title, the right
status and no stack trace, and changes nothing in the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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
    drive,
    evidence_data,
    start,
)
from upphandla.store.db import Database

MIB = 1024 * 1024


@dataclass(frozen=True)
class Bad:
    """One bad request: who sends it, what, the status, and what the problem must say."""

    role: str | None  # None: no Authorization header
    method: str
    path: str  # "{case}" is the case in ssa
    status: int | tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    problem_type: str | None = None
    error_paths: tuple[str, ...] = ()


def _ssa_evidence(**data: Any) -> dict[str, Any]:
    return {"json": {"kind": "ssa_approved", "data": {**evidence_data("ssa_approved"), **data}}}


def _chunks() -> Iterator[bytes]:
    for _ in range(20):
        yield b" " * 100_000


J = {"content-type": "application/json"}
CASE = "/api/cases/{case}"

# fmt: off
BAD: dict[str, Bad] = {
    "malformed_json": Bad(
        "bestallare", "POST", "/api/cases", 400,
        {"content": b'{"title": "x",', "headers": J}, "malformed_json"),
    "malformed_json_evidence": Bad(
        "informationssakerhet", "POST", f"{CASE}/evidence", 400,
        {"content": b"{kind: ssa_approved}", "headers": J}, "malformed_json"),
    "unknown_trigger": Bad(
        "upphandlare", "POST", f"{CASE}/transitions", 404,
        {"json": {"trigger": "skip_to_the_end"}}, "unknown_trigger"),
    "unknown_case_get": Bad("bestallare", "GET", "/api/cases/987654", 404, {}, "case_not_found"),
    "unknown_case_transition": Bad(
        "bestallare", "POST", "/api/cases/987654/transitions", 404,
        {"json": {"trigger": "cancel", "comment": "x"}}, "case_not_found"),
    "unknown_case_audit": Bad(
        "controller", "GET", "/api/cases/987654/audit", 404, {}, "case_not_found"),
    # No case has an id beyond the database's integer range: not found, or refused as invalid.
    "case_id_beyond_any_id": Bad(
        "bestallare", "GET", "/api/cases/99999999999999999999", (404, 422)),
    "trigger_not_for_role": Bad(
        "bestallare", "POST", f"{CASE}/transitions", 403,
        {"json": {"trigger": "complete_ssa"}}, "role_not_allowed"),
    "evidence_not_for_role": Bad(
        "bestallare", "POST", f"{CASE}/evidence", 403, _ssa_evidence(), "role_not_allowed"),
    "start_not_for_role": Bad(
        "controller", "POST", "/api/cases", 403, {"json": attributes()}, "forbidden_role"),
    "unknown_attribute": Bad(
        "bestallare", "POST", "/api/cases", 422, {"json": {**attributes(), "budget": 5}},
        "invalid_attributes", ("budget",)),
    "value_as_string": Bad(
        "bestallare", "POST", "/api/cases", 422,
        {"json": attributes(estimated_value_sek="4000000")},
        "invalid_attributes", ("estimated_value_sek",)),
    "bool_as_string": Bad(
        "bestallare", "POST", "/api/cases", 422, {"json": attributes(personal_data="true")},
        "invalid_attributes", ("personal_data",)),
    "unknown_subcategory": Bad(
        "bestallare", "POST", "/api/cases", 422, {"json": attributes(subcategory="Möbler")},
        "invalid_attributes", ("subcategory",)),
    "missing_attribute": Bad(
        "bestallare", "POST", "/api/cases", 422,
        {"json": {k: v for k, v in attributes().items() if k != "route"}},
        "invalid_attributes", ("route",)),
    "too_large": Bad(
        "bestallare", "POST", "/api/cases", 413,
        {"content": b" " * (MIB + 1), "headers": J}, "body_too_large"),
    "too_large_without_length": Bad(
        "bestallare", "POST", "/api/cases", 413,
        {"content": _chunks, "headers": J}, "body_too_large"),
    "no_token": Bad(None, "POST", "/api/cases", 401, {"json": attributes()}, "unauthenticated"),
    "invalid_token": Bad(
        None, "GET", "/api/cases", 401, {"headers": {"Authorization": "Bearer not-a-token"}},
        "unauthenticated"),
    "not_bearer": Bad(
        None, "GET", "/api/cases", 401, {"headers": {"Authorization": "Basic dXNlcjpwdw=="}},
        "unauthenticated"),
    "wrong_method": Bad("bestallare", "DELETE", CASE, 405, {}, "method_not_allowed"),
    "unknown_path": Bad("bestallare", "GET", "/api/arenden", 404, {}, "not_found"),
    "cancel_without_comment": Bad(
        "upphandlare", "POST", f"{CASE}/transitions", 422,
        {"json": {"trigger": "cancel"}}, "comment_required"),
    "cancel_with_blank_comment": Bad(
        "upphandlare", "POST", f"{CASE}/transitions", 422,
        {"json": {"trigger": "cancel", "comment": "   "}}, "comment_required"),
    "unknown_evidence_kind": Bad(
        "upphandlare", "POST", f"{CASE}/evidence", 404,
        {"json": {"kind": "magkansla", "data": {}}}, "unknown_evidence_kind"),
    "evidence_wrong_types": Bad(
        "informationssakerhet", "POST", f"{CASE}/evidence", 422,
        _ssa_evidence(nis_scope="ja", information_class=3),
        "evidence_invalid", ("data.information_class", "data.nis_scope")),
    "evidence_unknown_field": Bad(
        "informationssakerhet", "POST", f"{CASE}/evidence", 422,
        _ssa_evidence(colour="blå"), "evidence_invalid", ("data.colour",)),
    "evidence_not_in_phase": Bad(
        "bestallare", "POST", f"{CASE}/evidence", 409,
        {"json": {"kind": "behovsanalys_done", "data": evidence_data("behovsanalys_done")}},
        "evidence_not_in_phase"),
    "limit_zero": Bad(
        "bestallare", "GET", "/api/cases", 422, {"params": {"limit": 0}},
        "invalid_attributes", ("query.limit",)),
    "limit_too_high": Bad(
        "bestallare", "GET", "/api/cases", 422, {"params": {"limit": 10_000}},
        "invalid_attributes", ("query.limit",)),
    "negative_offset": Bad(
        "bestallare", "GET", "/api/cases", 422, {"params": {"offset": -1}},
        "invalid_attributes", ("query.offset",)),
    "unknown_definition_version": Bad(
        "controller", "GET", "/api/definitions/it-upphandling/99", 404, {},
        "definition_not_found"),
}
# fmt: on


@pytest.fixture
def ssa_case(db: Database, users: dict[str, User]) -> int:
    case_id = start(db, users["bestallare"])
    drive(db, case_id, "ssa", users)
    return case_id


def send(client: TestClient, bad: Bad, case_id: int, users: dict[str, User]) -> Response:
    kwargs = dict(bad.kwargs)
    headers = dict(kwargs.pop("headers", {}))
    if bad.role is not None:
        headers.update(users[bad.role].headers)
    if callable(kwargs.get("content")):
        kwargs["content"] = kwargs["content"]()  # a fresh generator: sent chunked, no length
    path = bad.path.format(case=case_id)
    return client.request(bad.method, path, headers=headers, **kwargs)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_request_is_a_problem_and_changes_nothing(
    name: str, client: TestClient, users: dict[str, User], db: Database, ssa_case: int
) -> None:
    bad = BAD[name]
    before = counts(db), case_state(db, ssa_case)

    response = send(client, bad, ssa_case, users)

    body = assert_problem(response, bad.status)
    if bad.problem_type:
        assert body["type"] == f"urn:upphandla:problem:{bad.problem_type}"
    if bad.error_paths:
        assert sorted(e["path"] for e in body["errors"]) == sorted(bad.error_paths)
        assert all(e["message"] for e in body["errors"])
    if bad.status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert (counts(db), case_state(db, ssa_case)) == before


def test_problem_names_the_request(client: TestClient, users: dict[str, User]) -> None:
    response = client.get(
        "/api/cases/987654", headers={**users["controller"].headers, "X-Request-ID": "abc-123"}
    )
    body = assert_problem(response, 404)
    assert body["instance"] == "/api/cases/987654"
    assert body["request_id"] == "abc-123"
    assert response.headers["x-request-id"] == "abc-123"


def test_wrong_method_names_the_allowed_ones(client: TestClient, users: dict[str, User]) -> None:
    """RFC 9110 § 15.5.6: a 405 response carries an Allow header naming what the resource
    supports."""
    headers = users["bestallare"].headers
    evidence = client.get("/api/cases/1/evidence", headers=headers)
    assert_problem(evidence, 405)
    assert evidence.headers.get("allow", "").strip() == "POST"
    cases = client.delete("/api/cases", headers=headers)
    assert_problem(cases, 405)
    allowed = {m.strip() for m in cases.headers.get("allow", "").split(",")} - {""}
    assert allowed and allowed <= {"GET", "HEAD", "POST"}
