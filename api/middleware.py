"""ASGI middleware: a request id on every request, and a cap on the size of request bodies."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from upphandla.states.texts import text

_ID_HEADER = b"x-request-id"


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
        request_id = given if given.replace("-", "").isalnum() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await self._reject(scope, send, request_id)
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
                await self._reject(scope, send, request_id)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
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

    async def _reject(self, scope: Scope, send: Send, request_id: str) -> None:
        title, detail = text("body_too_large", limit=self.max_body_bytes)
        body: dict[str, Any] = {
            "type": "urn:upphandla:problem:body_too_large",
            "title": title,
            "status": 413,
            "detail": detail,
            "instance": scope.get("path", ""),
            "request_id": request_id,
        }
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (_ID_HEADER, request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
