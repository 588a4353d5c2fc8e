"""The OpenAPI description in Swedish: each operation's summary is the first sentence of its
docstring (not its function name), and the descriptions FastAPI writes itself are translated.

Every operation documents every status it can answer, each error as application/problem+json
with a problem schema: what the route declares (403, 404, 409 …) and what follows from what
the operation takes (`_statuses`): a token (401, and 429 after too many failed attempts), an
If-Match header (412), a database (503), a path parameter (404), a body (400, 413, 415), and
anything at all (422: the path and query string are checked for
control characters before any route, api.middleware). The case that POST /api/cases answers
with links to what can be done with it (`_LINKS`), for clients and for stateful testing."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from upphandla.api.schemas import ProblemOut, ValidationProblem

PROBLEM_JSON = "application/problem+json"
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.S)
_DEFAULTS = {
    "Successful Response": "Lyckat svar",
    "Validation Error": "Ogiltiga uppgifter; `errors` anger fält och fel",
}
_GENERIC = {
    400: "Innehållet är inte giltig JSON",
    401: "Inloggning krävs",
    404: "Finns inte",
    413: "Innehållet är för stort",
    415: "Innehållstypen stöds inte",
    412: "Ärendet har ändrats sedan den version som `If-Match` anger; inget ändrades",
    422: "Ogiltiga uppgifter; `errors` anger fält och fel",
    429: "För många misslyckade inloggningsförsök; försök igen efter `Retry-After` sekunder",
    503: "Databasen är upptagen; försök igen efter `Retry-After` sekunder",
}
_HEADERS = {
    401: {"WWW-Authenticate": "Bearer"},
    429: {"Retry-After": "Sekunder att vänta innan ett nytt försök"},
    503: {"Retry-After": "Sekunder att vänta innan ett nytt försök"},
}
_BODY_METHODS = ("post", "put", "patch")
_NO_DATABASE = {("get", "/health")}  # answers even when the database is down
_CASE_LINKS = {
    "GetCase": ("get", "/api/cases/{case_id}"),
    "RecordEvidence": ("post", "/api/cases/{case_id}/evidence"),
    "FireTransition": ("post", "/api/cases/{case_id}/transitions"),
    "GetAudit": ("get", "/api/cases/{case_id}/audit"),
    "GetChecklist": ("get", "/api/cases/{case_id}/checklist"),
    "ImportRequirements": ("post", "/api/cases/{case_id}/acceptance/requirements"),
}
# (method, path, status) -> links to the operations that take the case it answers with
_LINKS = {
    ("post", "/api/cases", "201"): ("$response.body#/id", _CASE_LINKS),
    ("get", "/api/cases/{case_id}", "200"): ("$response.body#/id", _CASE_LINKS),
}


def summary_of(description: str) -> str:
    """The first sentence of a docstring, on one line."""
    text = " ".join(description.split())
    found = _FIRST_SENTENCE.match(text)
    return (found.group(1) if found else text).rstrip(".")


def swedish_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ProblemOut, ValidationProblem):
            _add_model(components, model)
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if operation.get("description"):
                    operation["summary"] = summary_of(operation["description"])
                responses = operation.setdefault("responses", {})
                for status, description in _statuses(method, path, operation).items():
                    responses.setdefault(str(status), {"description": description})
                for status, response in responses.items():
                    text = response.get("description")
                    response["description"] = _DEFAULTS.get(text, text)
                    _as_problem(status, response)
        _add_links(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _statuses(method: str, path: str, operation: dict[str, Any]) -> dict[int, str]:
    """What an operation can answer because of what it takes, whatever its route declares."""
    found = {422: _GENERIC[422]}
    if operation.get("security"):
        found[401] = _GENERIC[401]
        found[429] = _GENERIC[429]
    headers = {
        p.get("name", "").lower()
        for p in operation.get("parameters", [])
        if p.get("in") == "header"
    }
    if "if-match" in headers:
        found[412] = _GENERIC[412]
    if (method, path) not in _NO_DATABASE:
        found[503] = _GENERIC[503]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        found[404] = _GENERIC[404]
    if method in _BODY_METHODS:
        found[413] = _GENERIC[413]
        found[415] = _GENERIC[415]
        if "requestBody" in operation:
            found[400] = _GENERIC[400]
    return found


def _add_model(components: dict[str, Any], model: type[BaseModel]) -> None:
    found = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(found.pop("$defs", {}))
    components[model.__name__] = found


def _as_problem(status: str, response: dict[str, Any]) -> None:
    """Every error is sent as application/problem+json (api.problems): with the problem model
    the route names, else the general one (the validation problem for 422)."""
    if not status.startswith(("4", "5")):
        return
    content = response.get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    ref = content.get(PROBLEM_JSON, {}).get("schema", {}).get("$ref", ref)
    if not ref.endswith("Problem"):
        model = ValidationProblem if status == "422" else ProblemOut
        ref = f"#/components/schemas/{model.__name__}"
    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": ref}}}
    headers = _HEADERS.get(int(status)) if status.isdigit() else None
    if headers:
        response["headers"] = {
            name: {"description": description, "required": True, "schema": {"type": "string"}}
            for name, description in headers.items()
        }


def _add_links(schema: dict[str, Any]) -> None:
    paths = schema.get("paths", {})
    for (method, path, status), (expression, targets) in _LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        links: dict[str, Any] = {}
        for name, (target_method, target_path) in targets.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is not None:
                links[name] = {
                    "operationId": target["operationId"],
                    "parameters": {"case_id": expression},
                }
        response["links"] = links


def install(app: FastAPI) -> None:
    app.openapi = lambda: swedish_openapi(app)  # type: ignore[method-assign]
