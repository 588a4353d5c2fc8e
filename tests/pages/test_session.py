"""The web session, through the app in-process: the cookie's flags, its expiry, the check of the
user and the token on every request, CSRF on every form, logging out, and links from e-mails
that come back to the case page after the login."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from helpers import User, make_client
from upphandla.api.pages.session import COOKIE
from upphandla.flows.commands.users import DisableUser, RevokeToken, list_tokens
from upphandla.flows.handler import Handler
from upphandla.notifications.ics import case_url
from upphandla.states.clock import now
from upphandla.store.db import Database


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, token: str, next_: str = "/") -> str:
    """Sign in through the login form; returns the Set-Cookie header."""
    page = client.get("/logga-in")
    answer = client.post(
        "/logga-in",
        data={"csrf": csrf_of(page.text), "atkomstkod": token, "nasta": next_},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == next_
    return answer.headers["set-cookie"]


@pytest.fixture
def web(db: Database, db_url: str, users: dict[str, User]) -> TestClient:
    with make_client(db, db_url) as client:
        yield client


def test_the_session_cookie_is_httponly_samesite_and_expiring(
    web: TestClient, users: dict[str, User]
) -> None:
    cookie = sign_in(web, users["bestallare"].token)
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie  # 8 hours by default
    assert "Secure" not in cookie  # http://127.0.0.1 only; see the next test
    assert users["bestallare"].token not in cookie


def test_the_cookie_is_secure_when_the_app_is_served_over_https() -> None:
    from upphandla.flows.settings import Settings

    assert Settings(base_url="https://upphandla.kommunen.se").session_cookie_is_secure()
    assert not Settings(base_url="http://127.0.0.1:8000").session_cookie_is_secure()


def test_a_wrong_token_is_refused_on_the_login_page_and_counts_as_a_failed_attempt(
    web: TestClient,
) -> None:
    for _ in range(10):
        page = web.get("/logga-in")
        answer = web.post("/logga-in", data={"csrf": csrf_of(page.text), "atkomstkod": "fel"})
        assert answer.status_code == 401
        assert "Åtkomstkoden gäller inte" in answer.text
    page = web.get("/logga-in")
    answer = web.post("/logga-in", data={"csrf": csrf_of(page.text), "atkomstkod": "fel"})
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


def test_the_session_ends_when_it_expires(web: TestClient, users: dict[str, User]) -> None:
    start = now()
    with freeze_time(start) as clock:
        sign_in(web, users["bestallare"].token)
        assert web.get("/", follow_redirects=False).status_code == 200
        clock.tick(timedelta(hours=8, seconds=1))
        answer = web.get("/", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/logga-in")


@pytest.mark.parametrize("how", ["token revoked", "user disabled"])
def test_revoking_the_token_or_disabling_the_user_ends_the_session(
    web: TestClient, db: Database, users: dict[str, User], how: str
) -> None:
    sign_in(web, users["bestallare"].token)
    assert web.get("/", follow_redirects=False).status_code == 200
    handler = Handler.on(db)
    email = "bestallare@example.se"
    if how == "token revoked":
        with handler.reader() as uow:
            token_id = next(t.token.id for t in list_tokens(uow) if t.email == email)
        handler.run(RevokeToken(token_id=token_id))
    else:
        handler.run(DisableUser(email=email))
    answer = web.get("/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/logga-in?nasta=/&avslutad=1"
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]


def test_every_form_needs_the_sessions_csrf_token(web: TestClient, users: dict[str, User]) -> None:
    sign_in(web, users["bestallare"].token)
    form = {"title": "X", "atgard": "starta"}
    for csrf in (None, "", "fel"):
        data = form if csrf is None else {**form, "csrf": csrf}
        answer = web.post("/arenden/ny", data=data)
        assert answer.status_code == 403
        assert "Formuläret kunde inte tas emot" in answer.text
    assert web.post("/logga-ut", data={}).status_code == 403  # logging out too
    # Without a session at all, even the login form is refused.
    assert TestClient(web.app).post("/logga-in", data={"atkomstkod": "x"}).status_code == 403


def test_logging_out_clears_the_session(web: TestClient, users: dict[str, User]) -> None:
    sign_in(web, users["bestallare"].token)
    page = web.get("/")
    answer = web.post("/logga-ut", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_link_from_an_email_opens_the_case_page_after_the_login(
    web: TestClient, users: dict[str, User]
) -> None:
    created = web.post(
        "/api/cases",
        headers=users["bestallare"].headers,
        json={
            "title": "Skrivare", "organisation": users["bestallare"].actor.organisation,
            "subcategory": "IT-hårdvara", "route": "direktupphandling",
            "estimated_value_sek": 40_000, "personal_data": False, "citizen_facing": False,
            "critical_service": False, "uses_ai": False, "cloud_service": False,
            "consultants": False, "hardware": True,
        },
    )  # fmt: skip
    case_id = created.json()["id"]
    link = case_url("http://testserver", case_id)
    answer = web.get(link, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/logga-in?nasta=/arenden/{case_id}"
    sign_in(web, users["bestallare"].token, next_=f"/arenden/{case_id}")
    page = web.get(link)
    assert page.status_code == 200
    assert "Skrivare" in page.text
