"""Mail settings, from environment variables prefixed UPPHANDLA_ (like flows.settings).

UPPHANDLA_SMTP_HOST, _SMTP_PORT, _SMTP_SECURITY (none, starttls or tls), _SMTP_USERNAME,
_SMTP_PASSWORD, _SMTP_SENDER, _SMTP_TIMEOUT, UPPHANDLA_MAIL_DOMAIN (the right-hand side of
Message-IDs; the sender's domain when unset) and UPPHANDLA_OUTBOX_MAX_ATTEMPTS.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Security = Literal["none", "starttls", "tls"]


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPPHANDLA_", extra="ignore")

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Security = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "upphandla@localhost"
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_domain: str | None = None
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)

    @property
    def domain(self) -> str:
        """The domain of Message-IDs: UPPHANDLA_MAIL_DOMAIN, else the sender's domain."""
        if self.mail_domain:
            return self.mail_domain
        _, at, domain = self.smtp_sender.rpartition("@")
        return domain.strip(" >") if at and domain.strip(" >") else "localhost"
