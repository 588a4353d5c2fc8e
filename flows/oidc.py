"""Optional sign-in with an OIDC identity provider (off unless settings.oidc_issuer is set).

A bearer token that is a JWT is checked against the configured issuer: signature by one of the
issuer's keys (RS256 or ES256 only; `none` and shared-secret algorithms are refused), `iss`,
`aud`, `exp` (required) and `nbf`. Its e-mail claim names the user; one not known yet is created
on first use with the role and organisation the provider's claims name (both must be known here),
and that is recorded in the system chain. A known user whose role or organisation the provider
now names differently is changed to match, and that is recorded too.

The JWT checks use joserfc, the JOSE library of the Authlib project (Authlib's own `jose`
module now points to it). The issuer's key set is read from a local file or inline JSON
(`oidc_jwks`), or fetched from `oidc_jwks_url` and kept for `oidc_jwks_cache_seconds`."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from upphandla.flows.commands.users import add_user, user_data, valid_user
from upphandla.flows.organisations import organisations
from upphandla.flows.registry import Registry
from upphandla.flows.settings import Settings
from upphandla.states.clock import now
from upphandla.states.errors import Forbidden, Invalid, Unauthenticated
from upphandla.states.roles import ROLES, Actor
from upphandla.store.uow import UnitOfWork

ALGORITHMS = ("RS256", "ES256")
REFETCH_AFTER_SECONDS = 60  # an unknown key id fetches the set again, at most this often


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


@dataclass(frozen=True)
class Identity:
    """What a verified token says about the person."""

    email: str
    name: str
    role: str
    organisation: str
    issuer: str
    subject: str | None


class KeySource:
    """The issuer's JWK set: local (file or inline JSON) or fetched and cached."""

    def __init__(self, settings: Settings) -> None:
        self._local = settings.oidc_jwks
        self._url = settings.oidc_jwks_url
        self._ttl = settings.oidc_jwks_cache_seconds
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._local is not None:
                if self._keys is None:
                    self._keys = KeySet.import_key_set(_local_set(self._local))
                return self._keys
            if self._url is None:
                raise Unauthenticated("oidc_invalid", reason="inga nycklar är inställda")
            age = time.time() - self._fetched_at
            if self._keys is None or age >= self._ttl or (refresh and age >= REFETCH_AFTER_SECONDS):
                self._keys = KeySet.import_key_set(_fetch(self._url))
                self._fetched_at = time.time()
            return self._keys


def _local_set(value: str) -> Any:
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    return json.loads(text)


def _fetch(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (configured URL)
            return json.loads(response.read())
    except (OSError, ValueError):
        raise Unauthenticated(
            "oidc_invalid", reason="identitetsleverantörens nycklar kunde inte hämtas"
        ) from None


@dataclass
class OidcVerifier:
    settings: Settings
    source: KeySource = field(init=False)

    def __post_init__(self) -> None:
        self.source = KeySource(self.settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcVerifier | None:
        return cls(settings) if settings.oidc_issuer else None

    def identity(self, token: str) -> Identity:
        """The verified token's identity; Unauthenticated naming what is wrong otherwise."""
        claims = self._claims(token)
        s = self.settings
        email = claims.get(s.oidc_email_claim)
        if not isinstance(email, str) or not email:
            raise Unauthenticated("oidc_invalid", reason=f"anspråket {s.oidc_email_claim} saknas")
        role = claims.get(s.oidc_role_claim)
        if not isinstance(role, str) or role not in ROLES:
            raise Forbidden(
                "oidc_unknown_role",
                role=role if isinstance(role, str) else "",
                claim=s.oidc_role_claim,
                known=", ".join(sorted(ROLES)),
            )
        org = claims.get(s.oidc_organisation_claim)
        if not isinstance(org, str) or organisations().get(org) is None:
            raise Forbidden(
                "oidc_unknown_organisation",
                organisation=org if isinstance(org, str) else "",
                claim=s.oidc_organisation_claim,
            )
        name = claims.get("name")
        subject = claims.get("sub")
        return Identity(
            email=email,
            name=name if isinstance(name, str) and name.strip() else email,
            role=role,
            organisation=org,
            issuer=str(claims["iss"]),
            subject=subject if isinstance(subject, str) else None,
        )

    def _claims(self, token: str) -> dict[str, Any]:
        s = self.settings
        try:
            try:
                decoded = jwt.decode(token, self.source.keys(), algorithms=list(ALGORITHMS))
            except JoseError as exc:
                if "key" not in type(exc).__name__.lower():
                    raise
                decoded = jwt.decode(
                    token, self.source.keys(refresh=True), algorithms=list(ALGORITHMS)
                )
            registry = JWTClaimsRegistry(
                iss={"essential": True, "value": s.oidc_issuer or ""},
                aud={"essential": True, "value": s.oidc_audience}
                if s.oidc_audience
                else {"essential": True},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise Unauthenticated("oidc_invalid", reason=_reason(exc)) from None
        except ValueError:
            raise Unauthenticated("oidc_invalid", reason="token är inte en giltig JWT") from None
        return dict(decoded.claims)


def _reason(exc: JoseError) -> str:
    name = type(exc).__name__
    claim = getattr(exc, "claim", None)
    if name == "InvalidClaimError" and claim in ("nbf", "iat"):
        return f"den gäller inte ännu ({claim})"
    reasons = {
        "ExpiredTokenError": "den har gått ut (exp)",
        "BadSignatureError": "signaturen stämmer inte",
        "MissingClaimError": f"det obligatoriska anspråket {claim} saknas",
        "InvalidClaimError": f"anspråket {claim} har fel värde",
        "UnsupportedAlgorithmError": "signaturalgoritmen tillåts inte (bara RS256 och ES256)",
        "MissingKeyError": "nyckeln finns inte hos utfärdaren",
        "InvalidKeyIdError": "nyckeln (kid) finns inte hos utfärdaren",
    }
    return reasons.get(name, "den är inte en giltig JWT")


@dataclass(frozen=True)
class SignInWithOidc:
    """The user the identity names: found by e-mail address, or created on first use (and
    recorded in the system chain); a changed role or organisation is applied and recorded.
    The result is the user's id; a disabled user is refused (401)."""

    identity: Identity

    def handle(self, uow: UnitOfWork, registry: Registry) -> int:
        ident = self.identity
        actor = Actor(user_id=None, name=f"Identitetsleverantören {ident.issuer}", role="system")
        user = uow.users.by_email(ident.email)
        origin = {"issuer": ident.issuer, "subject": ident.subject}
        if user is None:
            try:
                new = valid_user(
                    name=ident.name[:200],
                    email=ident.email,
                    role=ident.role,
                    organisation=ident.organisation,
                )
            except Invalid:
                raise Unauthenticated(
                    "oidc_invalid", reason="namn eller e-postadress i token är inte giltiga"
                ) from None
            stored = add_user(
                uow, new, mandate=None, actor=actor, action="user.provisioned", extra=origin
            )
            return stored.id
        if not user.active:
            raise Unauthenticated("token_revoked")
        if (user.role, user.organisation) != (ident.role, ident.organisation):
            uow.users.lock(user.id)
            uow.users.change(user.id, role=ident.role, organisation=ident.organisation)
            changed = uow.users.get(user.id)
            assert changed is not None
            uow.system_audit.append(
                "user.changed",
                {
                    **user_data(changed),
                    "before": {"role": user.role, "organisation": user.organisation},
                    **origin,
                },
                actor=actor,
                at=now(),
            )
        return user.id


def up_to_date(uow: UnitOfWork, identity: Identity) -> int | None:
    """The id of the active user the identity names if nothing needs to be written (known,
    same role and organisation); None if SignInWithOidc has work to do."""
    user = uow.users.by_email(identity.email)
    if user is None or not user.active:
        return None
    if (user.role, user.organisation) != (identity.role, identity.organisation):
        return None
    return user.id
