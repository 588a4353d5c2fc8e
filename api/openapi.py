"""The OpenAPI description in Swedish: each operation's summary is the first sentence of its
docstring (not its function name), and the descriptions FastAPI writes itself are translated."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_JSON = "application/problem+json"
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(\s|$)", re.S)
_DEFAULTS = {
    "Successful Response": "Lyckat svar",
    "Validation Error": "Ogiltiga uppgifter; `errors` anger fält och fel",
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
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if operation.get("description"):
                    operation["summary"] = summary_of(operation["description"])
                for status, response in operation.get("responses", {}).items():
                    text = response.get("description")
                    response["description"] = _DEFAULTS.get(text, text)
                    _as_problem(status, response)
        app.openapi_schema = schema
    return app.openapi_schema


def _as_problem(status: str, response: dict[str, Any]) -> None:
    """An error documented with one of our problem models is sent as application/problem+json
    (api.problems), not as the application/json FastAPI assumes."""
    content = response.get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    if status.startswith(("4", "5")) and ref.endswith("Problem"):
        content[PROBLEM_JSON] = content.pop("application/json")


def install(app: FastAPI) -> None:
    app.openapi = lambda: swedish_openapi(app)  # type: ignore[method-assign]
