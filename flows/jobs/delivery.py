"""Delivering the outbox by SMTP: at least once, and nothing lost while the server is down.

One pass (`deliver_due`), each step a command of its own through the handler:

1. Claim: in one short transaction, take up to `batch_size` due rows (pending, next attempt
   due) and lease them by moving their next attempt `lease_seconds` ahead. On PostgreSQL the
   rows are read with FOR UPDATE SKIP LOCKED, so deliverers running at the same time never take
   the same row; on SQLite the writer's BEGIN IMMEDIATE serialises the claims.
2. Send each claimed row outside any transaction.
3. Mark each row in a short transaction of its own, right after its send: sent, or failed
   (retried after an exponential backoff, dead after `max_attempts`). The mark only applies
   while the row still carries this pass's lease.

A crash after a send and before its mark leaves the row leased; when the lease runs out it is
sent again with the same Message-ID (notifications.message), so delivery is at least once and
a repeat is recognisable. If sending a batch outlasts half the lease, the rest of the batch is
handed back unsent, so that another deliverer never takes a row this one is still sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError

from upphandla.flows.handler import Handler
from upphandla.flows.registry import Registry
from upphandla.flows.settings import get_settings
from upphandla.notifications import ics
from upphandla.notifications.message import build_message
from upphandla.notifications.render import render
from upphandla.notifications.settings import MailSettings
from upphandla.notifications.smtp import (
    RecipientsRefused,
    SmtpConfig,
    SmtpConfigError,
    describe_error,
    send,
)
from upphandla.states.clock import now
from upphandla.store.outbox import DEAD, PENDING, SENT, Claimed
from upphandla.store.records import OutboxMessage
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.delivery")

IcsFor = Callable[[str, dict[str, Any]], bytes | None]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class ClaimOutbox:
    """Take up to `limit` due messages and lease them for `lease`."""

    limit: int
    lease: timedelta

    def handle(self, uow: UnitOfWork, registry: Registry) -> list[Claimed]:
        at = now()
        return uow.outbox.claim(at=at, until=at + self.lease, limit=self.limit)


@dataclass(frozen=True)
class MarkOutbox:
    """Record the outcome of one attempt; True if the pass still held the row's lease."""

    row: Claimed
    state: str
    error: str | None = None
    wait: timedelta | None = None

    def handle(self, uow: UnitOfWork, registry: Registry) -> bool:
        at = now()
        values: dict[str, Any] = {
            "state": self.state,
            "attempts": self.row.attempts + 1,
            "last_error": self.error,
        }
        if self.state == SENT:
            values["sent_at"] = at
            if self.error is None:
                values.pop("last_error")  # keep the story of earlier failures
        else:
            pending = self.wait is not None and self.state == PENDING
            values["next_attempt_at"] = at + self.wait if pending and self.wait else at
        held = uow.outbox.mark(self.row, values)
        if not held:
            log.warning("outbox %s: lease lost before its outcome was recorded", self.row.id)
        return held


@dataclass(frozen=True)
class ReleaseOutbox:
    """Hand unsent claimed rows back, due now, without counting an attempt."""

    rows: tuple[Claimed, ...]

    def handle(self, uow: UnitOfWork, registry: Registry) -> None:
        at = now()
        for row in self.rows:
            uow.outbox.mark(row, {"next_attempt_at": at})


@dataclass(frozen=True)
class RetryOutbox:
    """Put a dead message back in the queue, due now, with a fresh count of attempts."""

    outbox_id: int

    def handle(self, uow: UnitOfWork, registry: Registry) -> OutboxMessage:
        return uow.outbox.retry(self.outbox_id, at=now())


def backoff(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 × base, 4 × base, … at most max."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def deliver_due(
    handler: Handler,
    *,
    config: SmtpConfig,
    base_url: str,
    domain: str,
    batch_size: int = 100,
    max_attempts: int = 8,
    backoff_base_seconds: float = 60,
    backoff_max_seconds: float = 6 * 3600,
    lease_seconds: float = 300,
    ics_for: IcsFor | None = None,
) -> DeliveryReport:
    """One delivery pass over the rows due now; `ics_for(template, context)` may give a
    calendar attachment for a row."""
    claimed = handler.run(
        ClaimOutbox(limit=batch_size, lease=timedelta(seconds=lease_seconds))
    ).result
    sent = retried = dead = 0
    for index, row in enumerate(claimed):
        if now() >= row.claimed_at + timedelta(seconds=lease_seconds / 2):
            handler.run(ReleaseOutbox(tuple(claimed[index:])))
            break
        try:
            rendered = render(row.template, row.context, base_url=base_url)
            message = build_message(
                row_id=row.id,
                recipients=row.recipients,
                rendered=rendered,
                sender=config.sender,
                domain=domain,
                ics=ics_for(row.template, row.context) if ics_for else None,
                date=now(),
            )
            send(config, message)
        except RecipientsRefused as exc:  # delivered to the others: sending again would repeat
            note = describe_error(exc)
            log.warning("outbox %s sent, but some recipients were refused: %s", row.id, note)
            sent += _mark(handler, row, SENT, error=note)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            error = describe_error(exc, secrets=(config.password,))
            attempts = row.attempts + 1
            final = attempts >= max_attempts
            log.warning("outbox %s attempt %s failed: %s", row.id, attempts, error)
            wait = backoff(
                attempts, base_seconds=backoff_base_seconds, max_seconds=backoff_max_seconds
            )
            marked = _mark(handler, row, DEAD if final else PENDING, error=error, wait=wait)
            dead += marked if final else 0
            retried += 0 if final else marked
        else:
            sent += _mark(handler, row, SENT)
    return DeliveryReport(sent=sent, retried=retried, dead=dead)


def _mark(
    handler: Handler,
    row: Claimed,
    state: str,
    *,
    error: str | None = None,
    wait: timedelta | None = None,
) -> int:
    return int(handler.run(MarkOutbox(row, state, error, wait)).result)


def mail_config() -> tuple[MailSettings, SmtpConfig]:
    """The mail settings and SMTP configuration from the environment (UPPHANDLA_SMTP_*).
    Raises SmtpConfigError, with a Swedish message for operators, when they cannot be used."""
    try:
        mail = MailSettings()
    except ValidationError as exc:
        fields = ", ".join(
            "UPPHANDLA_" + ".".join(str(part) for part in error["loc"]).upper()
            for error in exc.errors()
        )
        raise SmtpConfigError(f"Ogiltiga e-postinställningar: {fields}.") from None
    return mail, SmtpConfig.from_settings(mail)


def deliver_with_settings(handler: Handler, *, batch_size: int = 100) -> DeliveryReport:
    """One delivery pass as configured: SMTP and mail domain from the environment, links to
    flows.settings' base_url, and a `frist.ics` for reminders and escalations. Raises
    SmtpConfigError before anything is claimed if the mail settings cannot be used."""
    mail, config = mail_config()
    base_url = get_settings().base_url
    return deliver_due(
        handler,
        config=config,
        base_url=base_url,
        domain=mail.domain,
        batch_size=batch_size,
        max_attempts=mail.outbox_max_attempts,
        ics_for=partial(ics.ics_for, domain=mail.domain, base_url=base_url),
    )
