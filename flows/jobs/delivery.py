"""Delivering the outbox by SMTP: at least once, and nothing lost while the server is down.

One pass (`deliver_due`):

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
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import CursorResult, func, select, update

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
from upphandla.states.errors import Conflict, NotFound
from upphandla.store.db import Database
from upphandla.store.models import OutboxRow
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.delivery")

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATES = (PENDING, SENT, DEAD)
STATE_TITLES = {PENDING: "väntar", SENT: "skickat", DEAD: "gav upp"}

UowFactory = Callable[[], UnitOfWork]
IcsFor = Callable[[str, dict[str, Any]], bytes | None]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class OutboxPage:
    items: list[OutboxRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class _Claimed:
    id: int
    template: str
    recipients: list[str]
    context: dict[str, Any]
    attempts: int
    claimed_at: datetime
    lease_until: datetime


def backoff(attempts: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2 × base, 4 × base, … at most max."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), max_seconds))


def deliver_due(
    uow_factory: UowFactory,
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
    """One delivery pass over the rows due now. `uow_factory()` gives a fresh write unit of
    work; `ics_for(template, context)` may give a calendar attachment for a row."""
    claimed = _claim(uow_factory, batch_size=batch_size, lease=timedelta(seconds=lease_seconds))
    sent = retried = dead = 0
    for index, row in enumerate(claimed):
        if now() >= row.claimed_at + timedelta(seconds=lease_seconds / 2):
            _release(uow_factory, claimed[index:])
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
            sent += _mark(uow_factory, row, state=SENT, error=note)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            error = describe_error(exc, secrets=(config.password,))
            attempts = row.attempts + 1
            final = attempts >= max_attempts
            log.warning("outbox %s attempt %s failed: %s", row.id, attempts, error)
            wait = backoff(
                attempts, base_seconds=backoff_base_seconds, max_seconds=backoff_max_seconds
            )
            marked = _mark(
                uow_factory, row, state=DEAD if final else PENDING, error=error, wait=wait
            )
            dead += marked if final else 0
            retried += 0 if final else marked
        else:
            sent += _mark(uow_factory, row, state=SENT)
    return DeliveryReport(sent=sent, retried=retried, dead=dead)


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


def deliver_with_settings(db: Database, *, batch_size: int = 100) -> DeliveryReport:
    """One delivery pass as configured: SMTP and mail domain from the environment, links to
    flows.settings' base_url, and a `frist.ics` for reminders and escalations. Raises
    SmtpConfigError before anything is claimed if the mail settings cannot be used."""
    mail, config = mail_config()
    base_url = get_settings().base_url
    return deliver_due(
        lambda: UnitOfWork(db),
        config=config,
        base_url=base_url,
        domain=mail.domain,
        batch_size=batch_size,
        max_attempts=mail.outbox_max_attempts,
        ics_for=partial(ics.ics_for, domain=mail.domain, base_url=base_url),
    )


def _claim(uow_factory: UowFactory, *, batch_size: int, lease: timedelta) -> list[_Claimed]:
    with uow_factory() as uow:
        at = now()
        query = (
            select(OutboxRow)
            .where(OutboxRow.state == PENDING, OutboxRow.next_attempt_at <= at)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            .limit(batch_size)
        )
        if not uow.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = list(uow.s.scalars(query))
        until = at + lease
        for row in rows:
            row.next_attempt_at = until
        claimed = [
            _Claimed(
                id=row.id,
                template=row.template,
                recipients=list(row.recipients),
                context=dict(row.context),
                attempts=row.attempts,
                claimed_at=at,
                lease_until=until,
            )
            for row in rows
        ]
        uow.commit()
    return claimed


def _mark(
    uow_factory: UowFactory,
    row: _Claimed,
    *,
    state: str,
    error: str | None = None,
    wait: timedelta | None = None,
) -> int:
    """Record the outcome of one attempt; 1 if this pass still held the row's lease, else 0."""
    at = now()
    values: dict[str, Any] = {"state": state, "attempts": row.attempts + 1, "last_error": error}
    if state == SENT:
        values["sent_at"] = at
        if error is None:
            values.pop("last_error")  # keep the story of earlier failures
    else:
        values["next_attempt_at"] = at + wait if wait is not None and state == PENDING else at
    with uow_factory() as uow:
        result = uow.s.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == row.id,
                OutboxRow.state == PENDING,
                OutboxRow.next_attempt_at == row.lease_until,
            )
            .values(**values)
        )
        uow.commit()
    held = cast(CursorResult[Any], result).rowcount == 1
    if not held:
        log.warning("outbox %s: lease lost before its outcome was recorded", row.id)
    return int(held)


def _release(uow_factory: UowFactory, rows: list[_Claimed]) -> None:
    """Hand unsent claimed rows back, due now, without counting an attempt."""
    at = now()
    with uow_factory() as uow:
        for row in rows:
            uow.s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row.id,
                    OutboxRow.state == PENDING,
                    OutboxRow.next_attempt_at == row.lease_until,
                )
                .values(next_attempt_at=at)
            )
        uow.commit()


def retry(uow: UnitOfWork, outbox_id: int) -> OutboxRow:
    """Put a dead message back in the queue, due now, with a fresh count of attempts. The
    caller commits."""
    query = select(OutboxRow).where(OutboxRow.id == outbox_id).with_for_update()
    row = uow.s.scalars(query).one_or_none()
    if row is None:
        raise NotFound("outbox_not_found", outbox_id=outbox_id)
    if row.state != DEAD:
        raise Conflict(
            "outbox_not_dead", outbox_id=outbox_id, state=STATE_TITLES.get(row.state, row.state)
        )
    row.state = PENDING
    row.attempts = 0
    row.next_attempt_at = now()
    uow.s.flush()
    return row


def list_outbox(
    uow: UnitOfWork, *, state: str | None = None, limit: int = 50, offset: int = 0
) -> OutboxPage:
    """Messages in the outbox, newest first, optionally in one state."""
    filters = [OutboxRow.state == state] if state is not None else []
    total = uow.s.scalar(select(func.count()).select_from(OutboxRow).where(*filters)) or 0
    items = uow.s.scalars(
        select(OutboxRow).where(*filters).order_by(OutboxRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return OutboxPage(list(items), total, limit, offset)
