"""Signing in and out. The login page takes the person's access token (or, where an identity
provider is configured, its ID token) and checks it exactly as the API checks a bearer token:
api.deps.credential_of, flows.auth.identify, the same limit on failed attempts per address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from upphandla.api.deps import SignIn, count_failure, credential_of, refuse_if_blocked
from upphandla.api.pages.routing import PageRoute, Visit, see_other, visit
from upphandla.api.pages.session import Sessions, new_session
from upphandla.flows.auth import Caller, Credential, RecordTokenUse, identify
from upphandla.flows.handler import Handler
from upphandla.states.errors import Unauthenticated

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]


def safe_next(target: str) -> str:
    """Where to go after signing in: a path of this site only."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    visit: Visit, *, next_: str, error: str | None = None, ended: bool = False, status: int = 200
) -> Response:
    settings = visit.request.app.state.settings
    return visit.page(
        "login.html",
        actor=None,
        status=status,
        next=safe_next(next_),
        error=error,
        ended=ended,
        hours=settings.session_hours,
        oidc=SignIn.of(visit.request).oidc is not None,
    )


@router.get("/logga-in")
async def login_form(
    visit: VisitDep,
    nasta: Annotated[str, Query(max_length=2000)] = "/",
    avslutad: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    return _login_page(visit, next_=nasta, ended=avslutad is not None)


def _identify(handler: Handler, credential: Credential) -> Caller:
    with handler.reader() as uow:
        caller = identify(uow, credential)
    if caller.use_due:
        handler.run(RecordTokenUse(caller))
    return caller


@router.post("/logga-in")
async def login(request: Request, visit: VisitDep) -> Response:
    next_ = visit.value("nasta") or "/"
    presented = visit.value("atkomstkod").strip()
    if not presented:
        return _login_page(visit, next_=next_, error="Ange din åtkomstkod.", status=422)
    refuse_if_blocked(request)
    try:
        credential = await credential_of(request, presented)
        caller = await run_in_threadpool(_identify, visit.handler, credential)
    except Unauthenticated:
        count_failure(request)
        return _login_page(
            visit,
            next_=next_,
            error="Åtkomstkoden gäller inte: den är okänd, återkallad eller har gått ut.",
            status=401,
        )
    # A new session (and CSRF token) at every sign-in: nothing carries over from before.
    session = new_session(user_id=caller.actor.user_id, token_id=caller.token_id)
    response = see_other(safe_next(next_))
    Sessions.of(request).write(response, session)
    return response


@router.post("/logga-ut")
async def logout(request: Request, visit: VisitDep) -> Response:
    response = see_other("/logga-in")
    Sessions.of(request).clear(response)
    return response
