"""What routes are given: the command handler, the caller's token, the settings, the request id;
and the two ways a route does its work off the event loop, in one hop to the thread pool:
`read` (the token and the read model in one unit of work) and `command` (the token and the
command in one unit of work)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from upphandla.flows.auth import AsCaller, Credential, Presented, RecordTokenUse, identify
from upphandla.flows.handler import Command, Handler, Outcome
from upphandla.flows.oidc import Identity, OidcVerifier, SignInWithOidc, looks_like_jwt, up_to_date
from upphandla.flows.ratelimit import FailedSignIns
from upphandla.flows.settings import Settings
from upphandla.states.errors import TooManyAttempts, Unauthenticated
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


async def token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[Credential]:
    """The credential as sent; without one the request is refused at once (401). Whether the
    token belongs to an active user is looked up where the work is done, in the same unit of
    work. An address with too many failed attempts is refused (429) before anything is looked
    up; every refused token (unknown, revoked, expired, a JWT that does not verify) counts."""
    sign_in = SignIn.of(request)
    address = _address(request)
    if (wait := sign_in.failures.blocked_for(address)) is not None:
        raise TooManyAttempts(wait)
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated()
    presented = credentials.credentials
    try:
        if sign_in.oidc is not None and looks_like_jwt(presented):
            identity = sign_in.oidc.identity(presented)
            handler_: Handler = request.app.state.handler
            user_id = await run_in_threadpool(_oidc_user, handler_, identity)
            yield Credential(user_id=user_id)
        else:
            yield Credential(token=presented)
    except Unauthenticated:
        sign_in.failures.failed(address)
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
