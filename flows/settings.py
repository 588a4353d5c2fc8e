"""One Settings object, from environment variables prefixed UPPHANDLA_."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from upphandla.store.db import sqlite_file


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPPHANDLA_", extra="ignore")

    database_url: str = "sqlite:///./upphandla.db"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    default_definition: str = "it-upphandling"
    base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_048_576

    # Schedules and Prefect (flows.orchestration, cli.supervisor)
    data_dir: Path | None = None  # None: see resolved_data_dir()
    sweep_interval_seconds: int = Field(default=900, ge=1)
    delivery_interval_seconds: int = Field(default=60, ge=1)
    prefect_host: str = "127.0.0.1"
    prefect_port: int = Field(default=4200, ge=1, le=65535)

    # Access tokens and failed sign-ins (flows.auth, flows.ratelimit)
    token_days: int = Field(default=90, ge=1, le=3650)  # a new token's lifetime by default
    auth_failures_max: int = Field(default=10, ge=1)  # failed attempts per address and window
    auth_failures_window_seconds: int = Field(default=300, ge=1)

    # Optional sign-in with an OIDC identity provider (flows.oidc); off unless an issuer is set.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None  # a local file path or inline JSON (a JWK set)
    oidc_jwks_url: str | None = None  # fetched and cached when no local set is given
    oidc_jwks_cache_seconds: int = Field(default=3600, ge=1)
    oidc_email_claim: str = "email"
    oidc_role_claim: str = "upphandla_roll"
    oidc_organisation_claim: str = "upphandla_organisation"
    # Web pages (api.pages): how long a session lasts, the key that signs its cookie (None: a
    # key generated once into the data folder) and whether the cookie is sent only over HTTPS
    # (None: unless base_url is plain http on this machine, as in the browser tests).
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    session_key_file: Path | None = None
    session_cookie_secure: bool | None = None
    # The accessibility statement (lag 2018:1937): who runs the service, where to report a
    # shortcoming (an e-mail address or web address), and when it was last assessed.
    web_owner: str = "Kommunen"
    web_contact: str | None = None
    accessibility_assessed_on: str = "2026-11-30"
    # How long the response to a POST with an Idempotency-Key is kept (flows.idempotency)
    idempotency_key_seconds: int = Field(default=86_400, ge=1)

    # Signed checkpoints of the audit log, kept outside the database (flows.checkpoints). None:
    # in the folder `granskning` of the data folder (resolved_data_dir); keep them elsewhere.
    audit_key_file: Path | None = None
    checkpoint_dir: Path | None = None
    log_origin: str = Field(default="upphandla/granskningslogg", min_length=1, max_length=200)
    checkpoint_interval_seconds: int = Field(default=3600, ge=60)
    checkpoint_mail: bool = True  # mail each scheduled checkpoint to the controllers

    def resolved_data_dir(self) -> Path:
        """Where the embedded Prefect server keeps its home and SQLite database: `data_dir`
        if set, else the folder `upphandla-data` next to the SQLite file (in the working
        directory when the database is not a SQLite file)."""
        if self.data_dir is not None:
            return self.data_dir.expanduser().resolve()
        path = sqlite_file(self.database_url)
        if path is not None:
            return path.resolve().parent / "upphandla-data"
        return Path("upphandla-data").resolve()

    def resolved_audit_key_file(self) -> Path:
        if self.audit_key_file is not None:
            return self.audit_key_file.expanduser().resolve()
        return self.resolved_data_dir() / "granskning" / "signeringsnyckel.pem"

    def resolved_session_key_file(self) -> Path:
        if self.session_key_file is not None:
            return self.session_key_file.expanduser().resolve()
        return self.resolved_data_dir() / "webb" / "sessionsnyckel"

    def session_cookie_is_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return not self.base_url.startswith(("http://127.0.0.1", "http://localhost"))

    def resolved_checkpoint_dir(self) -> Path:
        if self.checkpoint_dir is not None:
            return self.checkpoint_dir.expanduser().resolve()
        return self.resolved_data_dir() / "granskning" / "kontrollpunkter"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
