"""Idempotent writes (the IETF httpapi Idempotency-Key draft): a POST sent again with the same
`Idempotency-Key` by the same person gets the first response back, and the work is not done
again.

`Answered` runs a command for its caller and renders the response in the command's own unit of
work, so that the response is stored in the same transaction as the change:

1. the token is looked up; with a key, the person's stored response under it is looked for:
   the same request (method, target and body, by hash) gets it back, another request is refused
   (422); an expired key is deleted and counts as new;
2. a new key is claimed (inserted) before the work, so that a second request with the same key
   waits for the first (PostgreSQL: on the unique index; SQLite: the writer lock);
3. the command runs (with its If-Match, if any), the response is rendered, with the case's new
   ETag, and stored under the key; the handler commits once.

A request the command refuses (any domain error) leaves nothing, the key included: sent again,
it is done again (and refused again unless things have changed). A response that carries a
secret shown only once (a calendar address) is not kept: the same request again answers 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from upphandla.flows.auth import AsCaller, identify, record_use
from upphandla.flows.handler import Handler, case_of
from upphandla.flows.registry import Registry
from upphandla.states.clock import now
from upphandla.states.errors import Conflict, Invalid
from upphandla.states.preconditions import etag
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.idempotency import KeyInUse, StoredResponse
from upphandla.store.uow import UnitOfWork

R = TypeVar("R")
KEY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Reply:
    """A response as it is sent and kept: status, body (JSON text, or empty) and headers."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    secret: bool = False  # carries a secret shown only once: its body is not kept


@dataclass(frozen=True)
class IdempotentRequest:
    """The key a request was sent with, and what identifies the request itself."""

    key: str
    fingerprint: str
    lifetime: timedelta

    @classmethod
    def of(
        cls, key: str, *, method: str, target: str, body: bytes, lifetime: timedelta
    ) -> IdempotentRequest:
        digest = hashlib.sha256()
        for part in (method.upper().encode(), target.encode(), body):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return cls(key, digest.hexdigest(), lifetime)


Render = Callable[[UnitOfWork, Actor, R], Reply]


@dataclass(frozen=True)
class Answered(Generic[R]):
    """`call` for its caller, its response rendered by `render(uow, actor, result)` in the same
    unit of work, with the ETag of the case it changed; kept under `idempotency`'s key, or the
    kept response returned instead of doing the work again."""

    call: AsCaller[R]
    render: Render[R]
    idempotency: IdempotentRequest | None = None

    def run(self, handler: Handler) -> Reply:
        """Through the handler; once more if another request committed the same key while this
        one was under way (PostgreSQL), which then finds that request's response."""
        try:
            return handler.run(self).result
        except KeyInUse:
            return handler.run(self).result

    def handle(self, uow: UnitOfWork, registry: Registry) -> Reply:
        caller = identify(uow, self.call.token)
        record_use(uow, caller)
        actor = caller.actor
        request, user_id = self.idempotency, actor.user_id
        key_id = None
        if request is not None and user_id is not None:
            at = now()
            stored = uow.idempotency.find(user_id, request.key)
            if stored is not None and stored.expires_at <= at:
                uow.idempotency.forget(stored.id)
                stored = None
            if stored is not None:
                return _replay(stored, request)
            key_id = uow.idempotency.claim(
                user_id,
                request.key,
                fingerprint=request.fingerprint,
                at=at,
                expires_at=at + request.lifetime,
            )
        result = self.call.handle_as(actor, uow, registry)
        reply = self.render(uow, actor, result)
        case_id = case_of(self.call, result)
        version = uow.cases.versions.get(case_id) if case_id is not None else None
        if version is not None:
            reply = replace(reply, headers={**reply.headers, "ETag": etag(version)})
        if key_id is not None:
            body = None if reply.secret else reply.body
            uow.idempotency.respond(key_id, status=reply.status, headers=reply.headers, body=body)
        return reply


def _replay(stored: StoredResponse, request: IdempotentRequest) -> Reply:
    if stored.fingerprint != request.fingerprint:
        raise Invalid(
            "idempotency_key_reused",
            [Problem(KEY_HEADER, "har redan använts för en annan begäran")],
            key=request.key,
        )
    if stored.body is None:
        raise Conflict("idempotency_response_not_kept", key=request.key)
    return Reply(stored.status, stored.body, dict(stored.headers))


@dataclass(frozen=True)
class PurgeExpiredKeys:
    """Delete the keys expired at `at` (the sweep); how many."""

    at: datetime

    def handle(self, uow: UnitOfWork, registry: Registry) -> int:
        return uow.idempotency.purge(self.at)
