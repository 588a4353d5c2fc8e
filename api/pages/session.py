"""The web session: a signed, expiring cookie (itsdangerous) that names the user and the access
token they signed in with, and carries the session's CSRF token. Nothing of it is stored in the
database; every request checks the user and the token again (flows.auth.identify), so a revoked
token or a disabled user ends the session at once.

The cookie is HttpOnly and SameSite=Lax, Secure unless the app is served over plain http on
this machine (Settings.session_cookie_is_secure); it lasts Settings.session_hours from sign-in,
checked both by the browser (Max-Age) and here (the signature's timestamp)."""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from upphandla.flows.auth import Credential
from upphandla.flows.settings import Settings

COOKIE = "upphandla_session"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    csrf: str
    user_id: int | None = None
    token_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def credential(self) -> Credential:
        return Credential(user_id=self.user_id, token_id=self.token_id)

    def accepts(self, csrf: str | None) -> bool:
        return csrf is not None and hmac.compare_digest(self.csrf.encode(), csrf.encode())


def new_session(*, user_id: int | None = None, token_id: int | None = None) -> Session:
    return Session(secrets.token_urlsafe(32), user_id, token_id)


def _key(settings: Settings) -> bytes:
    """The signing key: read from its file, made once (readable by the owner only) if missing."""
    path: Path = settings.resolved_session_key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class Sessions:
    """Reads and writes the session cookie of one app."""

    def __init__(self, settings: Settings) -> None:
        self.max_age = settings.session_hours * 3600
        self.secure = settings.session_cookie_is_secure()
        self._serializer = URLSafeTimedSerializer(_key(settings), salt="upphandla.session")

    @staticmethod
    def of(request: Request) -> Sessions:
        state = request.app.state
        sessions = getattr(state, "sessions", None)
        if sessions is None:
            sessions = state.sessions = Sessions(state.settings)
        return sessions  # type: ignore[no-any-return]

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # also an expired one (SignatureExpired)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user, token = data.get("u"), data.get("t")
        return Session(
            data["c"],
            user if isinstance(user, int) else None,
            token if isinstance(token, int) else None,
        )

    def write(self, response: Response, session: Session) -> None:
        value = self._serializer.dumps(
            {"c": session.csrf, "u": session.user_id, "t": session.token_id}
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", secure=self.secure, httponly=True, samesite="lax")
