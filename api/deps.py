"""What routes are given: the command handler, the caller's token, the settings, the request id,
the If-Match and Idempotency-Key headers; and the ways a route does its work off the event
loop, in one hop to the thread pool: `read` (the token and the read model in one unit of work),
`command` (the token and the command in one unit of work) and `answer` (the token, the command
and the response it renders in one unit of work: conditional and idempotent)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from upphandla.flows.auth import AsCaller, Credential, Presented, RecordTokenUse, identify
from upphandla.flows.handler import Command, Handler, Outcome
from upphandla.flows.idempotency import Answered, IdempotentRequest, Render
from upphandla.flows.oidc import Identity, OidcVerifier, SignInWithOidc, looks_like_jwt, up_to_date
from upphandla.flows.ratelimit import FailedSignIns
from upphandla.flows.settings import Settings
from upphandla.states.errors import TooManyAttempts, Unauthenticated
from upphandla.states.preconditions import IfMatch, parse_if_match
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="Åtkomsttoken från `upphandla user add`.")


async def handler(request: Request) -> Handler:
    return request.app.state.handler  # type: ignore[no-any-return]


async def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


class SignIn:
    """What the app keeps for signing in: the failed attempts per address and, if configured,
    the identity provider's verifier (made once per app, from its settings)."""

    def __init__(self, settings: Settings) -> None:
        self.failures = FailedSignIns(
            max_failures=settings.auth_failures_max,
            window_seconds=settings.auth_failures_window_seconds,
        )
        self.oidc = OidcVerifier.from_settings(settings)

    @staticmethod
    def of(request: Request) -> SignIn:
        state = request.app.state
        sign_in = getattr(state, "sign_in", None)
        if sign_in is None:
            sign_in = state.sign_in = SignIn(state.settings)
        return sign_in  # type: ignore[no-any-return]


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "-"


def _oidc_user(handler: Handler, identity: Identity) -> int:
    """The user the identity names: a read when nothing has changed, else the sign-in command
    (first use, or a changed role or organisation)."""
    with handler.reader() as uow:
        user_id = up_to_date(uow, identity)
    return user_id if user_id is not None else handler.run(SignInWithOidc(identity)).result


async def credential_of(request: Request, presented: str) -> Credential:
    """What a presented secret proves: an access token as it is, or an ID token of the
    configured identity provider, verified and mapped to its user. One way for the API's
    bearer header and the login page (api.pages)."""
    sign_in = SignIn.of(request)
    if sign_in.oidc is not None and looks_like_jwt(presented):
        identity = sign_in.oidc.identity(presented)
        handler_: Handler = request.app.state.handler
        user_id = await run_in_threadpool(_oidc_user, handler_, identity)
        return Credential(user_id=user_id)
    return Credential(token=presented)


def refuse_if_blocked(request: Request) -> None:
    """An address with too many failed sign-ins is refused (429) before anything is looked up."""
    if (wait := SignIn.of(request).failures.blocked_for(_address(request))) is not None:
        raise TooManyAttempts(wait)


def count_failure(request: Request) -> None:
    SignIn.of(request).failures.failed(_address(request))


async def token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[Credential]:
    """The credential as sent; without one the request is refused at once (401). Whether the
    token belongs to an active user is looked up where the work is done, in the same unit of
    work. An address with too many failed attempts is refused (429) before anything is looked
    up; every refused token (unknown, revoked, expired, a JWT that does not verify) counts."""
    refuse_if_blocked(request)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated()
    try:
        yield await credential_of(request, credentials.credentials)
    except Unauthenticated:
        count_failure(request)
        raise


HandlerDep = Annotated[Handler, Depends(handler)]
RequestId = Annotated[str | None, Depends(request_id)]
SettingsDep = Annotated[Settings, Depends(settings)]
Token = Annotated[Credential, Depends(token)]


async def read_public(handler: Handler, fn: Callable[[UnitOfWork], T]) -> T:
    """`fn(uow)` in one unit of work for reading, for what needs no token."""

    def work() -> T:
        with handler.reader() as uow:
            return fn(uow)

    return await run_in_threadpool(work)


async def read(handler: Handler, token: Presented, fn: Callable[[UnitOfWork, Actor], T]) -> T:
    """`fn(uow, caller)` in one unit of work for reading, after the token is looked up in it;
    then, at most once a minute per token, a small write of when it was last used."""

    def work() -> T:
        with handler.reader() as uow:
            caller = identify(uow, token)
            result = fn(uow, caller.actor)
        if caller.use_due:
            handler.run(RecordTokenUse(caller))
        return result

    return await run_in_threadpool(work)


async def command(
    handler: Handler,
    token: Presented,
    build: Callable[[Actor], Command[T]],
    *,
    case_id: int | None = None,
) -> Outcome[T]:
    """The command `build(caller)` through the handler, the token looked up in its unit of
    work: one transaction, committed once."""
    return await run_in_threadpool(handler.run, AsCaller(token, build, case_id))


# -- conditional and idempotent writes ----------------------------------------------------------

KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"


async def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="Ärendets ETag (från GET /api/cases/{id} eller en tidigare ändring), "
            "eller `*`: ändringen görs bara om ärendet inte har ändrats sedan dess, annars "
            "412. Utan rubriken görs ändringen ändå.",
        ),
    ] = None,
) -> IfMatch | None:
    return None if value is None else parse_if_match(value)


async def idempotency(
    request: Request,
    settings: Annotated[Settings, Depends(settings)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=KEY_PATTERN,
            description="En nyckel som klienten väljer (1–255 skrivbara ASCII-tecken), t.ex. "
            "ett UUID. Skickas samma begäran igen med samma nyckel får den det första svaret "
            "utan att något görs på nytt; samma nyckel med en annan begäran ger 422. "
            "Nyckeln gäller ett dygn.",
        ),
    ] = None,
) -> IdempotentRequest | None:
    if key is None:
        return None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return IdempotentRequest.of(
        key,
        method=request.method,
        target=target,
        body=await request.body(),
        lifetime=timedelta(seconds=settings.idempotency_key_seconds),
    )


IfMatchDep = Annotated[IfMatch | None, Depends(if_match)]
IdempotencyDep = Annotated[IdempotentRequest | None, Depends(idempotency)]


async def answer(
    handler: Handler,
    token: Presented,
    build: Callable[[Actor], Command[T]],
    render: Render[T],
    *,
    case_id: int | None = None,
    if_match: IfMatch | None = None,
    idempotency: IdempotentRequest | None = None,
) -> Response:
    """The command `build(caller)` and its response `render(uow, caller, result)` in one unit
    of work, committed once, with the changed case's ETag: only if the case is at a version
    `if_match` allows (412 otherwise), and, with an Idempotency-Key, kept under it, or the
    response kept under it returned without doing the work again (flows.idempotency)."""
    answered = Answered(AsCaller(token, build, case_id, if_match), render, idempotency)
    reply = await run_in_threadpool(answered.run, handler)
    return Response(reply.body or None, status_code=reply.status, headers=reply.headers)
