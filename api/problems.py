"""RFC 9457 problem details, mapped once at the edge. Titles and details are Swedish; no stack
trace ever reaches a client."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from upphandla.states.definition import DefinitionError
from upphandla.states.errors import DomainError
from upphandla.states.texts import text
from upphandla.states.validation import problems_from_errors

log = logging.getLogger("upphandla.api")

PROBLEM_JSON = "application/problem+json"
_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "invalid": 422,
    "conflict": 409,
    "unavailable": 503,
    "unauthenticated": 401,
    "rate_limited": 429,
    "precondition_failed": 412,
}
_HEADERS = {503: {"Retry-After": "2"}, 401: {"WWW-Authenticate": "Bearer"}}


def problem(
    status: int,
    key: str,
    /,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    **values: Any,
) -> JSONResponse:
    title, detail = text(key, **values)
    body: dict[str, Any] = {
        "type": f"urn:upphandla:problem:{key}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = _STATUS[exc.kind]
    body = {
        "type": f"urn:upphandla:problem:{exc.key}",
        "title": exc.title,
        "status": status,
        "detail": exc.detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **exc.extra(),
    }
    headers = _HEADERS.get(status)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _definition(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DefinitionError)
    errors = [p.as_dict() for p in exc.problems]
    return problem(422, "invalid_attributes", request=request, extra={"errors": errors})


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") in ("json_invalid", "json_type") for e in errors):
        return problem(400, "malformed_json", request=request)
    for e in errors:  # the body is the subject of the request; name its fields directly
        loc = tuple(e.get("loc", ()))
        e["loc"] = loc[1:] if loc[:1] == ("body",) and len(loc) > 1 else loc
    problems = problems_from_errors(errors)
    return problem(
        422,
        "invalid_attributes",
        request=request,
        extra={"errors": [p.as_dict() for p in problems]},
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return problem(404, "not_found", request=request, path=request.url.path)
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request)) or (exc.headers or {}).get("Allow", "")
        return problem(
            405,
            "method_not_allowed",
            request=request,
            headers={"Allow": allow} if allow else None,
            method=request.method,
            path=request.url.path,
        )
    if exc.status_code == 401:
        return problem(
            401, "unauthenticated", request=request, headers={"WWW-Authenticate": "Bearer"}
        )
    if exc.status_code == 400:
        return problem(400, "malformed_json", request=request)
    return problem(exc.status_code, "internal_error", request=request, request_id="-")


def allowed_methods(request: Request) -> list[str]:
    """Every method the API answers on this path (RFC 9110 § 10.2.1), read from the OpenAPI
    description: not only those of the first route that matched the path, as Starlette's own
    Allow header has it (GET and POST of /api/cases are two routes)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _path_pattern(template).fullmatch(request.scope.get("path", "")):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


@lru_cache(maxsize=256)
def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    rid = getattr(request.state, "request_id", "-")
    log.exception("unexpected error, request %s", rid)
    return problem(500, "internal_error", request=request, request_id=rid)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(DefinitionError, _definition)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
