"""Optional sign-in with an OIDC identity provider, against keys made here (no network): a JWT
signed by the configured issuer's key maps to a user, created on first use with the role and
organisation its claims name (recorded in the system chain); anything else is refused."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from helpers import assert_problem, bearer, frozen, load_seeds, make_client, scalar
from upphandla.api.app import create_app
from upphandla.flows.handler import Handler
from upphandla.flows.settings import Settings
from upphandla.flows.system_chain import system_events
from upphandla.store.db import Database

ISSUER = "https://login.example.se/realms/kommunen"
AUDIENCE = "upphandla"
NOW = 1_780_000_000  # 2026-05-28
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
STRANGER = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})  # same kid, another key
PUBLIC_SET = KeySet([RSA, EC]).as_dict(private=False)


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "a1b2c3",
        "email": "karin@example.se",
        "name": "Karin Kommun",
        "upphandla_roll": "upphandlare",
        "upphandla_organisation": "socialforvaltningen",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(key: Any = RSA, alg: str = "RS256", **overrides: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims(**overrides), key)


def unsigned(**overrides: Any) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(**overrides))}."


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks=json.dumps(PUBLIC_SET),
    )


@pytest.fixture
def oidc(db: Database, settings: Settings) -> Iterator[TestClient]:
    load_seeds(db)
    with frozen("2026-05-28 12:00:00") as clock:
        clock.move_to(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW)))
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            yield client


def actions(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with Handler.on(db).reader() as uow:
        return [(e.action, e.data) for e in system_events(uow) if e.action.startswith("user.")]


def test_a_first_sign_in_creates_the_user_with_the_claimed_role(
    db: Database, oidc: TestClient
) -> None:
    response = oidc.get("/api/cases", headers=bearer(signed()))
    assert response.status_code == 200, response.text
    assert scalar(db, "SELECT count(*) FROM users") == 1
    assert scalar(db, "SELECT role FROM users WHERE email = 'karin@example.se'") == "upphandlare"
    assert scalar(db, "SELECT name FROM users") == "Karin Kommun"
    [(action, data)] = actions(db)
    assert action == "user.provisioned"
    assert data["issuer"] == ISSUER and data["subject"] == "a1b2c3"
    assert data["organisation"] == "socialforvaltningen"

    again = oidc.get("/api/cases", headers=bearer(signed(EC, "ES256")))  # the other key
    assert again.status_code == 200, again.text
    assert scalar(db, "SELECT count(*) FROM users") == 1
    assert len(actions(db)) == 1  # nothing new to record
    assert scalar(db, "SELECT count(*) FROM tokens") == 0  # no token of ours is made


def test_a_known_user_is_found_by_address_and_a_changed_role_is_recorded(
    db: Database, oidc: TestClient
) -> None:
    assert oidc.get("/api/cases", headers=bearer(signed())).status_code == 200
    org = "kultur_och_fritidsforvaltningen"
    changed = signed(upphandla_roll="controller", upphandla_organisation=org)
    response = oidc.get("/api/cases", headers=bearer(changed))
    assert response.status_code == 200, response.text
    assert scalar(db, "SELECT count(*) FROM users") == 1
    assert scalar(db, "SELECT role FROM users") == "controller"
    assert scalar(db, "SELECT organisation FROM users") == org
    action, data = actions(db)[-1]
    assert action == "user.changed"
    assert data["before"] == {"role": "upphandlare", "organisation": "socialforvaltningen"}
    assert data["role"] == "controller" and data["organisation"] == org


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: signed(exp=NOW - 1), "gått ut"),
        (lambda: signed(nbf=NOW + 600), "gäller inte ännu"),
        (lambda: signed(iss="https://annan.example.se"), "iss"),
        (lambda: signed(aud="någon-annan"), "aud"),
        (lambda: signed(exp=None), "exp"),
        (lambda: signed(STRANGER), "signaturen"),
        (lambda: unsigned(), "algoritmen"),
        (lambda: jwt.encode({"alg": "HS256"}, claims(), OctKey.generate_key(256)), "algoritmen"),
        (lambda: "inte.en.jwt", "JWT"),
    ],
    ids=[
        "expired",
        "not_yet",
        "issuer",
        "audience",
        "no_exp",
        "wrong_key",
        "none",
        "hs256",
        "junk",
    ],
)
def test_a_token_that_does_not_verify_is_refused(
    db: Database, oidc: TestClient, token: Any, reason: str
) -> None:
    response = oidc.get("/api/cases", headers=bearer(token()))
    body = assert_problem(response, 401)
    assert body["type"] == "urn:upphandla:problem:oidc_invalid", body
    assert reason in body["detail"], body["detail"]
    assert scalar(db, "SELECT count(*) FROM users") == 0


def test_an_unknown_role_or_organisation_is_refused_with_403(
    db: Database, oidc: TestClient
) -> None:
    role = assert_problem(
        oidc.get("/api/cases", headers=bearer(signed(upphandla_roll="chef"))), 403
    )
    assert role["type"] == "urn:upphandla:problem:oidc_unknown_role"
    assert "”chef”" in role["detail"] and "upphandla_roll" in role["detail"]
    org = assert_problem(
        oidc.get("/api/cases", headers=bearer(signed(upphandla_organisation="okänd"))), 403
    )
    assert org["type"] == "urn:upphandla:problem:oidc_unknown_organisation"
    missing = assert_problem(oidc.get("/api/cases", headers=bearer(signed(email=None))), 401)
    assert "email" in missing["detail"]
    assert scalar(db, "SELECT count(*) FROM users") == 0
    assert actions(db) == []


def test_a_disabled_user_is_refused_even_with_a_valid_token(
    db: Database, oidc: TestClient, db_url: str
) -> None:
    from upphandla.flows.commands.users import DisableUser

    assert oidc.get("/api/cases", headers=bearer(signed())).status_code == 200
    Handler.on(db).run(DisableUser(email="karin@example.se"))
    body = assert_problem(oidc.get("/api/cases", headers=bearer(signed())), 401)
    assert body["type"] == "urn:upphandla:problem:token_revoked"


def test_keys_can_be_read_from_a_file(db: Database, db_url: str, tmp_path: Path) -> None:
    load_seeds(db)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(PUBLIC_SET), encoding="utf-8")
    settings = Settings(
        database_url=db_url, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(path)
    )
    with frozen("2026-05-28 12:00:00") as clock:
        clock.move_to(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW)))
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            assert client.get("/api/cases", headers=bearer(signed())).status_code == 200


def test_oidc_is_off_by_default(db: Database, db_url: str) -> None:
    assert Settings().oidc_issuer is None
    load_seeds(db)
    with make_client(db, db_url) as client:  # the default settings
        body = assert_problem(client.get("/api/cases", headers=bearer(signed())), 401)
    assert body["type"] == "urn:upphandla:problem:unauthenticated"
    assert scalar(db, "SELECT count(*) FROM users") == 0
