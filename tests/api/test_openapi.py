"""The OpenAPI document lists the endpoints a client needs and the bearer scheme."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

REQUIRED = [
    ("get", "/health"),
    ("post", "/api/cases"),
    ("get", "/api/cases"),
    ("get", "/api/cases/{case_id}"),
    ("post", "/api/cases/{case_id}/evidence"),
    ("post", "/api/cases/{case_id}/transitions"),
    ("get", "/api/cases/{case_id}/audit"),
    ("get", "/api/audit/verify"),
    ("get", "/api/definitions"),
    ("get", "/api/definitions/{key}/{version}"),
]


@pytest.fixture
def openapi(client: TestClient) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_lists_the_required_endpoints(openapi: dict) -> None:
    missing = [(m, p) for m, p in REQUIRED if m not in openapi["paths"].get(p, {})]
    assert missing == []


def test_declares_a_bearer_scheme_used_by_the_api(openapi: dict) -> None:
    schemes = openapi["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s == {**s, "type": "http", "scheme": "bearer"}]
    assert len(bearer) == 1
    for method, path in REQUIRED:
        security = openapi["paths"][path][method].get("security", [])
        names = {name for requirement in security for name in requirement}
        if path == "/health":
            assert bearer[0] not in names
        else:
            assert bearer[0] in names, (method, path)


def test_health_answers_without_a_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "prefect": "off"}


def test_summaries_and_response_descriptions_are_swedish(openapi: dict) -> None:
    english = ("Successful Response", "Validation Error")
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            summary = operation["summary"]
            # Not FastAPI's title made from the function name ("Start Case").
            assert summary != operation["operationId"].split("_api")[0].replace("_", " ").title()
            assert summary and summary[0].isupper(), (method, path, summary)
            assert " ".join(operation["description"].split()).startswith(summary), (method, path)
            for status, response in operation["responses"].items():
                assert response["description"] not in english, (method, path, status)
    start = openapi["paths"]["/api/cases"]["post"]
    assert start["summary"] == "Starta ett ärende med dess uppgifter; reglerna hänger på dem"


def test_a_refusal_is_described_with_what_lifts_each_reason(openapi: dict) -> None:
    """409 and 404 are problem+json; a refusal's reasons carry the evidence that would lift them,
    an unknown kind lists the kinds of the phase, and each next step names its roles."""
    schemas = openapi["components"]["schemas"]
    for path in ("/api/cases/{case_id}/transitions", "/api/cases/{case_id}/evidence"):
        responses = openapi["paths"][path]["post"]["responses"]
        refused = responses["409"]["content"]["application/problem+json"]["schema"]
        assert refused == {"$ref": "#/components/schemas/RefusalProblem"}
        missing = responses["404"]["content"]["application/problem+json"]["schema"]
        assert missing == {"$ref": "#/components/schemas/NotFoundProblem"}
    assert "evidence" in schemas["ReasonOut"]["properties"]
    need = schemas["EvidenceNeedOut"]["properties"]
    assert {"kind", "roles", "fields", "values", "hint"} <= set(need)
    assert {"name", "title", "type", "required", "choices"} <= set(
        schemas["EvidenceFieldOut"]["properties"]
    )
    assert "kinds" in schemas["NotFoundProblem"]["properties"]
    assert "roles" in schemas["NextStepOut"]["properties"]
    example = schemas["RefusalProblem"]["example"]
    assert example["reasons"][0]["evidence"][0]["kind"] == "ssa_approved"
    imported = openapi["paths"]["/api/cases/{case_id}/acceptance/requirements"]["post"]
    ok = imported["responses"]["201"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/RequirementsImportOut"}
    assert "changes" in schemas["RequirementsImportOut"]["properties"]


def expected_statuses(method: str, path: str, operation: dict) -> set[str]:
    """What an operation can answer because of what it takes: a token (401), the database
    (503), a path parameter (404), a body (400 for one that is not JSON, 413, 415), and anything
    (422: a query string or path with control characters is refused before any route)."""
    expected = {"422"}
    if operation.get("security"):
        expected.add("401")
    if path != "/health":
        expected.add("503")
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        expected.add("404")
    if method in ("post", "put", "patch"):
        expected |= {"413", "415"}
        if "requestBody" in operation:
            expected.add("400")
    return expected


def test_every_operation_lists_every_status_it_can_answer_as_a_problem(openapi: dict) -> None:
    schemas = openapi["components"]["schemas"]
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            missing = expected_statuses(method, path, operation) - set(responses)
            assert not missing, (method, path, missing)
            for status, response in responses.items():
                if int(status) < 400:
                    continue
                assert list(response["content"]) == ["application/problem+json"], (path, status)
                ref = response["content"]["application/problem+json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[-1]
                assert name.endswith("Problem") or name == "ProblemOut", (path, status, ref)
                assert {"type", "title", "status", "detail"} <= set(schemas[name]["properties"])
            assert (
                "ValidationProblem"
                in responses["422"]["content"]["application/problem+json"]["schema"]["$ref"]
            )
            if "401" in responses:
                assert "WWW-Authenticate" in responses["401"]["headers"]
            if "503" in responses:
                assert "Retry-After" in responses["503"]["headers"]
    assert "HTTPValidationError" not in schemas


def test_a_started_case_links_to_what_can_be_done_with_it(openapi: dict) -> None:
    links = openapi["paths"]["/api/cases"]["post"]["responses"]["201"]["links"]
    by_id = {
        operation["operationId"]: (method, path)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    }
    targets = {by_id[link["operationId"]] for link in links.values()}
    assert {
        ("get", "/api/cases/{case_id}"),
        ("post", "/api/cases/{case_id}/evidence"),
        ("post", "/api/cases/{case_id}/transitions"),
        ("get", "/api/cases/{case_id}/audit"),
        ("get", "/api/cases/{case_id}/checklist"),
    } <= targets
    for link in links.values():
        assert link["parameters"] == {"case_id": "$response.body#/id"}


def test_a_wrong_method_names_every_method_of_the_path(client: TestClient, openapi: dict) -> None:
    """RFC 9110 § 15.5.6: 405 with an Allow header listing every method the path supports, not
    only those of the first route that matched it; the body is a problem."""
    for path, operations in openapi["paths"].items():
        allowed = {m.upper() for m in operations} | ({"HEAD"} if "get" in operations else set())
        wrong = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in allowed)
        concrete = path.replace("{case_id}", "1").replace("{key}", "x").replace("{version}", "1")
        response = client.request(wrong, concrete.replace("{secret}", "abc"))
        assert response.status_code == 405, (wrong, path)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, path
