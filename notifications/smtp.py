"""Sending one message by SMTP with the standard library. `send` returns once the server has
accepted the message for at least one recipient, and raises otherwise."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import lru_cache

from upphandla.notifications.settings import MailSettings, Security

_ERROR_MAX = 300


class SmtpConfigError(ValueError):
    """The SMTP settings cannot be used as they are (the message is Swedish, for operators)."""


class RecipientsRefused(Exception):
    """The server accepted the message for some recipients and refused the others. The message
    has been delivered: sending it again would reach the accepted recipients twice."""

    def __init__(self, refused: dict[str, tuple[int, bytes]]):
        self.refused = refused
        super().__init__(", ".join(f"{addr} ({code})" for addr, (code, _) in refused.items()))


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "tls"):
            raise SmtpConfigError(
                f"Okänt värde ”{self.security}” för SMTP-säkerhet; ange none, starttls eller tls."
            )
        if self.username and self.security == "none":
            raise SmtpConfigError(
                "SMTP-inloggning kräver en krypterad förbindelse: sätt UPPHANDLA_SMTP_SECURITY "
                "till starttls eller tls."
            )

    @classmethod
    def from_settings(cls, settings: MailSettings | None = None) -> SmtpConfig:
        s = settings or MailSettings()
        return cls(
            host=s.smtp_host,
            port=s.smtp_port,
            security=s.smtp_security,
            sender=s.smtp_sender,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=s.smtp_timeout,
        )


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """The system's trust store, loaded once per process (loading it takes tens of ms)."""
    return ssl.create_default_context()


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand `message` to the server: its envelope sender is `config.sender`, its recipients
    are the message's To, Cc and Bcc. Raises RecipientsRefused if only some were accepted and
    an smtplib or socket error for anything else."""
    client: smtplib.SMTP
    if config.security == "tls":
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=_tls_context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        if config.security == "starttls":
            client.starttls(context=_tls_context())
        if config.username:
            client.login(config.username, config.password or "")
        refused = client.send_message(message, from_addr=config.sender)
    if refused:
        raise RecipientsRefused(refused)


def describe_error(exc: BaseException, *, secrets: tuple[str | None, ...] = ()) -> str:
    """A short Swedish description of a failed send for the outbox's last_error, without
    passwords (any of `secrets` is blanked out) and at most a few hundred characters."""
    if isinstance(exc, RecipientsRefused):
        text = f"Mottagare avvisades av SMTP-servern: {exc}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = ", ".join(f"{addr} ({code})" for addr, (code, _) in exc.recipients.items())
        text = f"Alla mottagare avvisades av SMTP-servern: {codes}"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"Inloggningen på SMTP-servern misslyckades (kod {exc.smtp_code})"
    elif isinstance(exc, smtplib.SMTPResponseException):
        reply = _decode(exc.smtp_error)
        text = f"SMTP-servern svarade {exc.smtp_code}: {reply}"
    elif isinstance(exc, smtplib.SMTPServerDisconnected):
        text = "SMTP-servern stängde förbindelsen"
    elif isinstance(exc, smtplib.SMTPException):
        text = f"SMTP-fel ({type(exc).__name__}): {exc}"
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        text = "Ingen kontakt med SMTP-servern inom tidsgränsen"
    elif isinstance(exc, ssl.SSLError):
        text = f"TLS-fel mot SMTP-servern ({exc.reason or type(exc).__name__})"
    elif isinstance(exc, ConnectionRefusedError):
        text = "Kunde inte ansluta till SMTP-servern: anslutningen nekades"
    elif isinstance(exc, socket.gaierror):
        text = "Kunde inte ansluta till SMTP-servern: värdnamnet hittades inte"
    elif isinstance(exc, ConnectionError):
        text = "Kunde inte ansluta till SMTP-servern: förbindelsen bröts"
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        text = f"Kunde inte ansluta till SMTP-servern: {reason}"
    else:
        text = f"Meddelandet kunde inte skickas ({type(exc).__name__}): {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_MAX else text[: _ERROR_MAX - 1] + "…"


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
