"""Users and their named tokens from the command line, and what the API makes of a token: a
revoked or expired token, or one of a disabled user, answers 401 at once; when a token was last
used is recorded at most once a minute; failed attempts from one address are refused with 429."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from alembic import command
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from helpers import (
    User,
    add_user,
    assert_problem,
    bearer,
    execute,
    frozen,
    load_seeds,
    make_client,
    scalar,
)
from upphandla.cli.main import app
from upphandla.flows.settings import Settings, get_settings
from upphandla.store.db import Database
from upphandla.store.migrate import alembic_config, upgrade

ORG = "socialforvaltningen"


def cli(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            app, list(args), env={"UPPHANDLA_DATABASE_URL": db_url, **(env or {})}
        )
    finally:
        get_settings.cache_clear()


def add(db_url: str, email: str, role: str = "upphandlare", *extra: str) -> str:
    """`user add`; the token on its last line."""
    result = cli(
        db_url,
        "user", "add", "--name", f"Namn {role}", "--email", email, "--role", role, "--org", ORG,
        *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def status(client: TestClient, token: str) -> int:
    return client.get("/api/cases", headers=bearer(token)).status_code


# -- the command line ----------------------------------------------------------------------------


def test_user_add_takes_a_mandate_from_the_delegation_order(db: Database, db_url: str) -> None:
    load_seeds(db)
    add(db_url, "delegat@example.se", "delegat", "--mandate", "forvaltningschef")
    assert scalar(db, "SELECT mandate FROM users") == "forvaltningschef"

    refused = cli(
        db_url,
        "user", "add", "--name", "X", "--email", "x@example.se", "--role", "delegat",
        "--org", ORG, "--mandate", "kung",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "mandate: okänt mandat" in refused.stderr
    assert "forvaltningschef" in refused.stderr  # names the known ones
    assert scalar(db, "SELECT count(*) FROM users") == 1

    twice = cli(
        db_url,
        "user", "add", "--name", "Y", "--email", "delegat@example.se", "--role", "delegat",
        "--org", ORG,
    )  # fmt: skip
    assert twice.exit_code == 2
    assert "Användaren finns redan" in twice.stderr


def test_user_list_shows_everyone_and_no_secret(db: Database, db_url: str) -> None:
    token = add(db_url, "olle@example.se", "upphandlare")
    add(db_url, "dora@example.se", "delegat", "--mandate", "kommundirektor")
    assert cli(db_url, "user", "disable", "olle@example.se").exit_code == 0

    listed = cli(db_url, "user", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["id", "namn", "e-post", "roll", "organisation", "mandat", "aktiv"]
    olle = next(line for line in lines if "olle@example.se" in line)
    dora = next(line for line in lines if "dora@example.se" in line)
    assert olle.split()[-1] == "nej" and "upphandlare" in olle and ORG in olle
    assert dora.split()[-1] == "ja" and "kommundirektor" in dora
    assert token not in listed.stdout


def test_token_create_list_and_revoke(db: Database, db_url: str) -> None:
    load_seeds(db)
    first = add(db_url, "olle@example.se")
    with frozen("2026-03-02 10:00:00"):
        created = cli(
            db_url, "token", "create", "olle@example.se", "--name", "integration", "--days", "7"
        )
    assert created.exit_code == 0, created.output
    second = created.stdout.strip().splitlines()[-1]
    assert len(second) >= 32 and second != first
    assert "gäller till 2026-03-09" in created.stdout
    digest = hashlib.sha256(second.encode()).hexdigest()
    assert scalar(db, "SELECT name FROM tokens WHERE token_hash = :h", h=digest) == "integration"

    listed = cli(db_url, "token", "list", "olle@example.se")
    assert listed.exit_code == 0, listed.output
    assert first not in listed.stdout and second not in listed.stdout
    assert digest not in listed.stdout
    rows = listed.stdout.splitlines()[1:]
    assert [r.split()[2] for r in rows] == ["standard", "integration"]

    token_id = scalar(db, "SELECT id FROM tokens WHERE name = 'integration'")
    with make_client(db, db_url) as client, frozen("2026-03-03 10:00:00"):
        assert status(client, first) == 200
        assert status(client, second) == 200
        assert cli(db_url, "token", "revoke", str(token_id)).exit_code == 0
        body = assert_problem(client.get("/api/cases", headers=bearer(second)), 401)
        assert body["type"] == "urn:upphandla:problem:token_revoked"
        assert status(client, first) == 200  # the user's other token still works
    again = cli(db_url, "token", "revoke", str(token_id))
    assert again.exit_code == 0 and "redan återkallad" in again.stdout
    unknown = cli(db_url, "token", "revoke", "9999")
    assert unknown.exit_code == 2 and "Åtkomsttoken finns inte" in unknown.stderr
    states = cli(db_url, "token", "list").stdout
    assert "återkallad" in states and "giltig" in states


def test_token_create_refuses_unknown_and_disabled_users(db: Database, db_url: str) -> None:
    add(db_url, "olle@example.se")
    missing = cli(db_url, "token", "create", "ingen@example.se", "--name", "x")
    assert missing.exit_code == 2 and "Användaren finns inte" in missing.stderr
    assert cli(db_url, "user", "disable", "olle@example.se").exit_code == 0
    disabled = cli(db_url, "token", "create", "olle@example.se", "--name", "x")
    assert disabled.exit_code == 2 and "avstängd" in disabled.stderr
    bad_days = cli(db_url, "token", "create", "olle@example.se", "--name", "x", "--days", "0")
    assert bad_days.exit_code == 2
    assert scalar(db, "SELECT count(*) FROM tokens") == 1


# -- the API: expiry, revocation, disabled users -------------------------------------------------


def test_an_expired_token_answers_401_at_once(db: Database, db_url: str) -> None:
    load_seeds(db)
    with frozen("2026-01-10 09:00:00"):
        user = add_user(db, name="Olle", email="olle@example.se", role="upphandlare", organisation=ORG, days=30)  # fmt: skip
    with make_client(db, db_url) as client:
        with frozen("2026-02-09 08:59:59"):
            assert status(client, user.token) == 200
        with frozen("2026-02-09 09:00:00"):
            body = assert_problem(client.get("/api/cases", headers=user.headers), 401)
    assert body["type"] == "urn:upphandla:problem:token_expired"
    assert body["title"] == "Åtkomsttoken har gått ut"


def test_the_default_lifetime_comes_from_the_settings(db: Database, db_url: str) -> None:
    with frozen("2026-01-10 09:00:00"):
        add(db_url, "olle@example.se")
        result = cli(
            db_url,
            "token", "create", "olle@example.se", "--name", "kort",
            env={"UPPHANDLA_TOKEN_DAYS": "3"},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "gäller till 2026-01-13" in result.stdout
    assert Settings().token_days == 90


def test_a_disabled_user_loses_every_token_and_calendar(
    db: Database, db_url: str, client: TestClient, users: dict[str, User]
) -> None:
    user = users["upphandlare"]
    feed = client.post("/api/calendar", headers=user.headers)
    assert feed.status_code == 201, feed.text
    path = feed.json()["url"].split("/api/calendar/")[1]
    assert client.get(f"/api/calendar/{path}").status_code == 200
    second = cli(db_url, "token", "create", "upphandlare@example.se", "--name", "andra")
    other = second.stdout.strip().splitlines()[-1]
    assert status(client, other) == 200

    result = cli(db_url, "user", "disable", "upphandlare@example.se")
    assert result.exit_code == 0, result.output
    assert "2 token återkallade, 1 kalendrar stängda" in result.stdout

    for token in (user.token, other):
        body = assert_problem(client.get("/api/cases", headers=bearer(token)), 401)
        assert body["type"] == "urn:upphandla:problem:token_revoked"
    closed = assert_problem(client.get(f"/api/calendar/{path}"), 404)
    assert closed["type"] == "urn:upphandla:problem:calendar_not_found"
    assert scalar(db, "SELECT active FROM users WHERE email = 'upphandlare@example.se'") in (
        False,
        0,
    )
    assert status(client, users["bestallare"].token) == 200  # nobody else is touched
    again = cli(db_url, "user", "disable", "upphandlare@example.se")
    assert again.exit_code == 0 and "redan avstängd" in again.stdout


def test_a_disabled_users_feed_closes_even_if_left_open(
    db: Database, db_url: str, client: TestClient, users: dict[str, User]
) -> None:
    """A feed is read without a token: it answers as a revoked one as soon as its user is
    inactive, whatever state the feed row is in."""
    feed = client.post("/api/calendar", headers=users["dso"].headers).json()["url"]
    path = "/api/calendar/" + feed.split("/api/calendar/")[1]
    execute(db, "UPDATE users SET active = :f WHERE email = 'dso@example.se'", f=False)
    assert_problem(client.get(path), 404)


# -- last use ----------------------------------------------------------------------------------


def last_used(db: Database, token: str) -> datetime | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    value = scalar(db, "SELECT last_used_at FROM tokens WHERE token_hash = :h", h=digest)
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def test_last_use_is_recorded_at_most_once_a_minute(
    db: Database, db_url: str, client: TestClient, users: dict[str, User]
) -> None:
    token = users["controller"].token
    assert last_used(db, token) is None
    start = datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)
    with frozen(start) as clock:
        assert status(client, token) == 200  # a read
        assert last_used(db, token) == start
        clock.tick(30)
        assert status(client, token) == 200
        assert last_used(db, token) == start  # not again within the minute
        clock.tick(31)
        assert client.post("/api/calendar", headers=bearer(token)).status_code == 201  # a write
        assert last_used(db, token) == start + timedelta(seconds=61)


# -- failed attempts -----------------------------------------------------------------------------


def test_failed_attempts_from_one_address_are_refused_with_429(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    settings = Settings(database_url=db_url, auth_failures_max=3, auth_failures_window_seconds=60)
    from upphandla.api.app import create_app

    good = users["bestallare"].token
    with frozen("2026-05-04 10:00:00") as clock:
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            for _ in range(5):  # successful requests are not counted
                assert status(client, good) == 200
            for wrong in ("fel-1", "fel-2", good[:-1]):
                assert_problem(client.get("/api/cases", headers=bearer(wrong)), 401)
                clock.tick(10)
            # three failures at 0 s, 10 s and 20 s; now it is 30 s
            refused = client.get("/api/cases", headers=bearer(good))
            body = assert_problem(refused, 429)
            assert refused.headers["retry-after"] == "30"
            assert body["type"] == "urn:upphandla:problem:too_many_attempts"
            assert "30 sekunder" in body["detail"]
            clock.tick(29)
            assert_problem(client.get("/api/cases", headers=bearer(good)), 429)
            clock.tick(1)  # the first failure has left the window
            assert status(client, good) == 200
            assert status(client, "fel-4") == 401
            assert status(client, "fel-5") == 429  # three failures in the window again


def test_a_blocked_address_is_refused_before_the_token_is_looked_up(
    db: Database, db_url: str, users: dict[str, User]
) -> None:
    settings = Settings(database_url=db_url, auth_failures_max=1, auth_failures_window_seconds=60)
    from upphandla.api.app import create_app

    token = users["controller"].token
    with frozen("2026-05-04 10:00:00"):
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            assert status(client, "fel") == 401
            assert status(client, token) == 429
    assert last_used(db, token) is None  # never looked up, so never recorded


# -- the migration -------------------------------------------------------------------------------


def test_existing_tokens_move_into_the_tokens_table(db: Database, db_url: str) -> None:
    """A database of schema 0005 with a user's token in users.token_hash: after the upgrade the
    token is the user's "standard" token, expiring the default lifetime after the upgrade."""
    cfg = alembic_config(db)
    with db.writer.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    token = "gammal-token-" + "x" * 30
    execute(
        db,
        "INSERT INTO users (id, name, email, role, organisation, token_hash, active, created_at)"
        " VALUES (7, 'Olle', 'olle@example.se', 'upphandlare', :org, :h, :a, CURRENT_TIMESTAMP)",
        org=ORG,
        h=hashlib.sha256(token.encode()).hexdigest(),
        a=True,
    )
    execute(
        db,
        "INSERT INTO users (id, name, email, role, organisation, token_hash, active, created_at)"
        " VALUES (8, 'Eva', 'eva@example.se', 'upphandlare', :org, :h, :a, CURRENT_TIMESTAMP)",
        org=ORG,
        h="e" * 64,
        a=False,
    )
    upgrade(db)
    assert scalar(db, "SELECT count(*) FROM tokens") == 2
    assert scalar(db, "SELECT name FROM tokens WHERE user_id = 7") == "standard"
    assert scalar(db, "SELECT count(*) FROM tokens WHERE revoked_at IS NULL") == 1
    load_seeds(db)
    with make_client(db, db_url) as client:
        assert status(client, token) == 200
    listed = cli(db_url, "token", "list", "olle@example.se")
    expires = listed.stdout.splitlines()[1].split()[5]  # "går ut" date
    assert expires == (datetime.now(timezone.utc) + timedelta(days=90)).date().isoformat()
