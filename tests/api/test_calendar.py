"""Personal calendar feeds: created with a token, read without one (the secret in the address is
the credential), one all-day event per deadline of the caller's open cases, replaced by a new
feed, closed by DELETE, and a Swedish problem for any other address."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from helpers import (
    User,
    assert_problem,
    attributes,
    drive,
    execute,
    frozen,
    orm_session,
    record,
    run,
    scalar,
    start,
)
from upphandla.flows.commands.cases import Cancel
from upphandla.states.calendar import period_end
from upphandla.store.db import Database
from upphandla.store.models import FindingRow

DOMAIN = "testkommunen.se"
BASE_URL = "http://127.0.0.1:8000"  # the default of flows.settings, as the test app runs
DAY = date(2026, 3, 2)
TITLE = attributes()["title"]


@pytest.fixture(autouse=True)
def mail_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPPHANDLA_MAIL_DOMAIN", DOMAIN)


@pytest.fixture
def cases_of_the_bestallare(db: Database, users: dict[str, User]) -> dict[str, int]:
    """Three cases the beställare started on 2 March 2026: one in behovsanalys, one in förstudie
    where the upphandlare has recorded evidence, and one the upphandlare cancelled."""
    with frozen("2026-03-02 09:00:00"):
        early = start(db, users["bestallare"])
        studied = start(db, users["bestallare"], title="Ärendehantering för bygglov")
        drive(db, studied, "forstudie", users)
        record(db, studied, "forstudie_done", users["upphandlare"])
        cancelled = start(db, users["bestallare"], title="Inställd upphandling")
        run(
            db,
            Cancel(
                actor=users["upphandlare"].actor,
                case_id=cancelled,
                reason="Behovet täcks av regionen.",
            ),
        )
    return {"early": early, "studied": studied, "cancelled": cancelled}


def new_feed(client: TestClient, user: User) -> str:
    """POST /api/calendar; returns the feed's path."""
    response = client.post("/api/calendar", headers=user.headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    url = response.json()["url"]
    assert url.startswith(f"{BASE_URL}/api/calendar/")
    assert url.endswith(".ics")
    return url.removeprefix(BASE_URL)


def fetch(client: TestClient, path: str) -> icalendar.Calendar:
    response = client.get(path)  # no Authorization header
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["method"]) == "PUBLISH"
    return calendar


def events(calendar: icalendar.Calendar) -> dict[str, Any]:
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def secret_of(path: str) -> str:
    return path.removeprefix("/api/calendar/").removesuffix(".ics")


def assert_not_found(response: Response) -> None:
    body = assert_problem(response, 404)
    assert body["type"] == "urn:upphandla:problem:calendar_not_found"
    assert body["title"] == "Kalendern finns inte"


# -- what a feed holds ------------------------------------------------------------------------------


def test_a_feed_holds_one_all_day_event_per_deadline_of_the_callers_open_cases(
    client: TestClient,
    db: Database,
    users: dict[str, User],
    cases_of_the_bestallare: dict[str, int],
) -> None:
    early, studied = cases_of_the_bestallare["early"], cases_of_the_bestallare["studied"]
    path = new_feed(client, users["bestallare"])
    found = events(fetch(client, path))

    early_uid = f"case-{early}-phase-behovsanalys-2026-03-02@{DOMAIN}"
    studied_uid = f"case-{studied}-phase-forstudie-2026-03-02@{DOMAIN}"
    assert set(found) == {early_uid, studied_uid}  # the cancelled case has no deadlines left
    first = found[early_uid]
    assert first.decoded("dtstart") == period_end(DAY, 60)
    assert not isinstance(first.decoded("dtstart"), datetime)
    assert first.decoded("dtend") == date.fromordinal(period_end(DAY, 60).toordinal() + 1)
    assert str(first["summary"]) == f"Behovsanalys ska vara klar – ärende {early} {TITLE}"
    assert str(first["url"]) == f"{BASE_URL}/arenden/{early}"
    description = str(first["description"])
    assert "Att göra: Gör klart det som krävs för att lämna fasen Behovsanalys." in description
    assert "Varför: Kommunens mål är att fasen Behovsanalys är klar inom 60 dagar." in description
    assert "Källa: Processdefinitionens måltider" in description
    [alarm] = first.walk("VALARM")
    assert str(alarm["action"]) == "DISPLAY"
    second = found[studied_uid]
    assert second.decoded("dtstart") == period_end(DAY, 90)
    assert str(second["summary"]).endswith(f"ärende {studied} Ärendehantering för bygglov")
    dates = [e.decoded("dtstart") for e in fetch(client, path).walk("VEVENT")]
    assert dates == sorted(dates)

    # the upphandlare acted on the förstudie (and cancelled the third): only the open one counts
    theirs = events(fetch(client, new_feed(client, users["upphandlare"])))
    assert set(theirs) == {studied_uid}


def add_finding(db: Database, case_id: int, key: str, *, closed: bool = False) -> None:
    at = datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc)
    with orm_session(db) as session:
        session.add(
            FindingRow(
                case_id=case_id,
                key=key,
                kind="recheck",
                title="PUB-avtal saknas",
                message="Leverantören behandlar personuppgifter utan PUB-avtal.",
                source="GDPR art. 28",
                details={"state": "forstudie"},
                opened_at=at,
                closed_at=at if closed else None,
            )
        )


def test_open_findings_are_events_on_the_day_they_were_found(
    client: TestClient,
    db: Database,
    users: dict[str, User],
    cases_of_the_bestallare: dict[str, int],
) -> None:
    studied = cases_of_the_bestallare["studied"]
    add_finding(db, studied, "pub_avtal")
    add_finding(db, studied, "sanktioner", closed=True)
    found = events(fetch(client, new_feed(client, users["upphandlare"])))
    uid = f"case-{studied}-finding-pub_avtal-2026-03-10@{DOMAIN}"
    assert set(found) == {f"case-{studied}-phase-forstudie-2026-03-02@{DOMAIN}", uid}
    assert found[uid].decoded("dtstart") == date(2026, 3, 10)
    assert str(found[uid]["summary"]) == (
        f"PUB-avtal saknas – ärende {studied} Ärendehantering för bygglov"
    )
    assert "Källa: GDPR art. 28" in str(found[uid]["description"])


def test_only_the_secrets_hash_is_stored(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    secret = secret_of(new_feed(client, users["bestallare"]))
    assert len(secret) >= 43
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert scalar(db, "SELECT count(*) FROM calendar_feeds WHERE secret_hash = :h", h=digest) == 1
    stored = scalar(db, "SELECT count(*) FROM calendar_feeds WHERE secret_hash = :s", s=secret)
    assert stored == 0


def test_a_person_without_cases_gets_an_empty_but_valid_calendar(
    client: TestClient, users: dict[str, User], cases_of_the_bestallare: dict[str, int]
) -> None:
    calendar = fetch(client, new_feed(client, users["controller"]))
    assert calendar.walk("VEVENT") == []
    assert "upphandla" in str(calendar["prodid"])
    assert str(calendar["x-wr-calname"]) == "Upphandla – mina frister"


# -- replacing and closing ----------------------------------------------------------------------------


def test_a_new_feed_replaces_the_old_one_and_delete_closes_it(
    client: TestClient, users: dict[str, User], cases_of_the_bestallare: dict[str, int]
) -> None:
    owner, other = users["bestallare"], users["upphandlare"]
    first = new_feed(client, owner)
    others = new_feed(client, other)
    second = new_feed(client, owner)
    assert second != first
    assert_not_found(client.get(first))
    assert len(fetch(client, second).walk("VEVENT")) == 2

    closed = client.delete("/api/calendar", headers=owner.headers)
    assert closed.status_code == 204
    assert closed.content == b""
    assert_not_found(client.get(second))
    assert client.delete("/api/calendar", headers=owner.headers).status_code == 204
    fetch(client, others)  # another person's feed is untouched

    third = new_feed(client, owner)
    assert len(fetch(client, third).walk("VEVENT")) == 2


def test_the_feed_of_a_deactivated_person_is_gone(
    client: TestClient, db: Database, users: dict[str, User]
) -> None:
    path = new_feed(client, users["bestallare"])
    fetch(client, path)
    execute(
        db,
        "UPDATE users SET active = :no WHERE id = :id",
        no=False,
        id=users["bestallare"].actor.user_id,
    )
    assert_not_found(client.get(path))


# -- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "A" * 43,  # the shape of a secret, but none of ours
        "x",
        "inte.en.hemlighet",
        "%C3%A5%C3%A4%C3%B6",
    ],
)
def test_an_unknown_secret_is_a_swedish_404(
    client: TestClient, users: dict[str, User], secret: str
) -> None:
    new_feed(client, users["bestallare"])
    assert_not_found(client.get(f"/api/calendar/{secret}.ics"))


def test_a_secret_with_a_control_character_is_refused_like_any_path(
    client: TestClient, users: dict[str, User]
) -> None:
    """NUL in a path is refused before any route by the one policy for control characters."""
    new_feed(client, users["bestallare"])
    body = assert_problem(client.get("/api/calendar/a%00b.ics"), 422)
    assert body["errors"] == [{"path": "path", "message": "innehåller otillåtna styrtecken"}]


@pytest.mark.parametrize("length", [129, 5000])
def test_a_too_long_secret_is_a_problem_never_a_server_error(
    client: TestClient, users: dict[str, User], length: int
) -> None:
    response = client.get(f"/api/calendar/{'a' * length}.ics")
    assert_problem(response, (404, 422))


def test_creating_and_closing_need_a_token_and_reading_needs_none(
    client: TestClient, users: dict[str, User]
) -> None:
    assert_problem(client.post("/api/calendar"), 401)
    assert_problem(client.delete("/api/calendar"), 401)
    assert_problem(client.post("/api/calendar", headers={"Authorization": "Bearer fel"}), 401)
    assert_problem(client.get("/api/calendar"), 405)
    for role in ("delegat", "controller", "admin", "dso"):
        new_feed(client, users[role])  # any role may have a calendar


def test_the_openapi_description_lists_the_calendar_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    create, close = paths["/api/calendar"]["post"], paths["/api/calendar"]["delete"]
    read = paths["/api/calendar/{secret}.ics"]["get"]
    assert create["tags"] == close["tags"] == read["tags"] == ["kalender"]
    assert create["security"] and close["security"]
    assert "security" not in read
    assert "text/calendar" in read["responses"]["200"]["content"]
    assert {"201", "401"} <= set(create["responses"])
    assert "404" in read["responses"]
    [secret] = read["parameters"]
    assert secret["schema"]["maxLength"] == 128
