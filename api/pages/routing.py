"""What every page is given, and how its refusals are answered.

`Visit` is the request as a page sees it: the session (an anonymous one with a CSRF token until
someone signs in), the form posted, if any, already checked against the session's CSRF token;
and the reads and commands of the API (api.deps), run with the session's credential, so that a
page checks nothing twice or differently. `PageRoute` answers the domain's refusals as pages:
not signed in, or the session no longer valid, sends to the login page and back; a case one may
not read is 404 like a missing one; a form without a valid CSRF token is 403."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from upphandla.api.deps import read
from upphandla.api.pages.render import render
from upphandla.api.pages.session import CSRF_FIELD, Session, Sessions, new_session
from upphandla.flows.handler import Handler
from upphandla.states.errors import DomainError, TooManyAttempts, Unauthenticated
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

T = TypeVar("T")


class LoginRequired(Exception):
    """The page needs a signed-in person and there is none."""


class CsrfRefused(Exception):
    """A form came without the session's CSRF token."""


@dataclass
class Visit:
    request: Request
    session: Session
    fresh: bool  # the session is new: its cookie must be sent
    form: dict[str, list[str]] = field(default_factory=dict)

    @property
    def handler(self) -> Handler:
        return self.request.app.state.handler  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return self.request.url.path

    def value(self, name: str) -> str:
        """The posted field's value ('' when missing), the first if sent more than once."""
        return (self.form.get(name) or [""])[0]

    def require_login(self) -> Session:
        if not self.session.signed_in:
            raise LoginRequired()
        return self.session

    async def read(self, fn: Callable[[UnitOfWork, Actor], T]) -> tuple[Actor, T]:
        """`fn(uow, actor)` for the signed-in person, as the API reads (api.deps.read)."""
        session = self.require_login()
        return await read(self.handler, session.credential, lambda uow, a: (a, fn(uow, a)))

    def page(
        self, template: str, *, actor: Actor | None, status: int = 200, **context: Any
    ) -> Response:
        response = render(
            template,
            actor=actor,
            csrf=self.session.csrf,
            path=self.path,
            status=status,
            **context,
        )
        if self.fresh:
            Sessions.of(self.request).write(response, self.session)
        return response


def _form(body: bytes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        out.setdefault(name, []).append(value)
    return out


async def visit(request: Request) -> Visit:
    """The request as a page sees it; a POST must carry the session's CSRF token."""
    found = Sessions.of(request).read(request)
    session, fresh = (found, False) if found is not None else (new_session(), True)
    form: dict[str, list[str]] = {}
    if request.method == "POST":
        form = _form(await request.body())
        if found is None or not found.accepts((form.get(CSRF_FIELD) or [""])[0] or None):
            raise CsrfRefused()
    return Visit(request, session, fresh, form)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def to_login(request: Request, *, ended: bool) -> Response:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/logga-in?nasta=" + quote(back if request.method == "GET" else "/", safe="/")
    response = see_other(target + ("&avslutad=1" if ended else ""))
    if ended:
        Sessions.of(request).clear(response)
    return response


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    session = Sessions.of(request).read(request)
    return render(
        "error.html",
        actor=None,
        csrf=session.csrf if session else "",
        path=request.url.path,
        status=status,
        title=title,
        detail=detail,
    )


_STATUS = {"not_found": 404, "forbidden": 403, "invalid": 422, "conflict": 409}


class PageRoute(APIRoute):
    """A page: refusals answered as pages (or a redirect to the login page), in Swedish."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await inner(request)
            except LoginRequired:
                return to_login(request, ended=False)
            except Unauthenticated:
                return to_login(request, ended=True)
            except CsrfRefused:
                return _error_page(
                    request,
                    403,
                    "Formuläret kunde inte tas emot",
                    "Formuläret saknade en giltig säkerhetskod (skydd mot förfalskade "
                    "förfrågningar). Inget har sparats. Gå tillbaka, ladda om sidan och "
                    "försök igen.",
                )
            except TooManyAttempts as exc:
                response = _error_page(request, 429, exc.title, exc.detail)
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            except DomainError as exc:
                status = _STATUS.get(exc.kind, 503 if exc.kind == "unavailable" else 409)
                if status == 404:
                    return _error_page(
                        request,
                        404,
                        "Sidan finns inte",
                        "Det finns ingen sida här, eller inget som du har behörighet att se.",
                    )
                return _error_page(request, status, exc.title, exc.detail)

        return handle
