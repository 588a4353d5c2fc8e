"""ASGI middleware: a request id on every request, and what every request must be before any
route sees it: a body no larger than the cap, of a content type the API reads (JSON, or CSV for
a requirement list), JSON no deeper than MAX_JSON_DEPTH, and a path and query string of text
without control characters (the policy of states.validation)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from upphandla.states.texts import text
from upphandla.states.validation import CONTROL_CHARACTERS, Problem, has_control_characters

_ID_HEADER = b"x-request-id"
MAX_JSON_DEPTH = 32  # arrays and objects inside each other; the API's own bodies need 5
_NOT_UTF8 = "är inte giltig UTF-8"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def readable(media: str) -> bool:
    """The content types a request body may have: JSON (also `…+json`) and CSV. A body without
    a content type is read as JSON, as FastAPI does."""
    return media in ("", "application/json", "text/csv") or (
        media.startswith("application/") and media.endswith("+json")
    )


FORM = "application/x-www-form-urlencoded"


def readable_at(path: str, media: str) -> bool:
    """What a body may be on this path: the API's types, and plain HTML forms on the web
    pages (everything outside /api)."""
    return readable(media) or (media == FORM and not path.startswith("/api/"))


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body` (brackets inside strings do not count), read
    without parsing it: so that a parser is never handed a document deep enough to exhaust the
    stack."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _decoded(raw: str) -> str | None:
    """A percent-encoded query part as text; None when it is not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def query_problems(query_string: bytes) -> list[Problem]:
    """Query parameters (names and values) that are not UTF-8 or hold control characters."""
    problems: list[Problem] = []
    for part in query_string.decode("latin-1").split("&"):
        raw_name, _, raw_value = part.partition("=")
        name, value = _decoded(raw_name), _decoded(raw_value)
        shown = name if name is not None and not has_control_characters(name) else None
        path = f"query.{shown}" if shown else "query"
        if name is None or value is None:
            problems.append(Problem(path, _NOT_UTF8))
        elif has_control_characters(name) or has_control_characters(value):
            problems.append(Problem(path, CONTROL_CHARACTERS))
    return problems


def path_problems(scope: Scope) -> list[Problem]:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        try:
            path = unquote(raw.decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            return [Problem("path", _NOT_UTF8)]
    else:
        path = scope.get("path", "")
    return [Problem("path", CONTROL_CHARACTERS)] if has_control_characters(path) else []


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(_ID_HEADER, b"").decode("latin-1")[:64]
        request_id = (
            given
            if given.replace("-", "").isascii() and given.replace("-", "").isalnum()
            else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        refuse = _Refusal(scope, send, request_id)
        problems = path_problems(scope) + query_problems(scope.get("query_string", b""))
        if problems:
            await refuse(422, "invalid_attributes", errors=problems)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await refuse(413, "body_too_large", limit=self.max_body_bytes)
            return
        # Read the body first (it is small by design) so an oversized one is refused before any
        # part of the application sees it, with or without a Content-Length.
        chunks: list[bytes] = []
        seen = 0
        more = scope["method"] not in ("GET", "HEAD", "DELETE", "OPTIONS")
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body_bytes:
                await refuse(413, "body_too_large", limit=self.max_body_bytes)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            media = media_type(headers.get(b"content-type", b"").decode("latin-1"))
            if not readable_at(scope.get("path", ""), media):
                await refuse(415, "unsupported_media_type", given=media)
                return
            if media not in ("text/csv", FORM) and json_depth(body) > MAX_JSON_DEPTH:
                await refuse(
                    422,
                    "json_too_deep",
                    errors=[Problem("body", f"är nästlad djupare än {MAX_JSON_DEPTH} nivåer")],
                    limit=MAX_JSON_DEPTH,
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        await self.app(scope, replay, send_with_id)


class _Refusal:
    """A problem answered before the application sees the request."""

    def __init__(self, scope: Scope, send: Send, request_id: str):
        self.scope, self.send, self.request_id = scope, send, request_id

    async def __call__(
        self, status: int, key: str, /, *, errors: list[Problem] | None = None, **values: Any
    ) -> None:
        title, detail = text(key, **values)
        body: dict[str, Any] = {
            "type": f"urn:upphandla:problem:{key}",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": self.scope.get("path", ""),
            "request_id": self.request_id,
        }
        if errors is not None:
            body["errors"] = [p.as_dict() for p in errors]
        payload = json.dumps(body, ensure_ascii=False).encode()
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (_ID_HEADER, self.request_id.encode()),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": payload})
