"""Personal calendar feeds: the deadlines of a person's open cases as an iCalendar feed that a
calendar program subscribes to.

The feed's address holds a secret (`secrets.token_urlsafe(32)`); only its SHA-256 is stored.
The secret is the credential, since calendar programs cannot send a bearer token: a new feed
revokes the person's earlier ones, and revoking makes the address answer "not found". A
person's open cases are those they started or acted on (an audit event of theirs) and that
are not in a final phase. Their deadlines are those of the case view (states.deadlines) and
their open findings, as the sweep reminds of them; each is one event with the same UID as the
`frist.ics` of its reminder e-mails (notifications.ics).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import ColumnElement, CursorResult, or_, select, update

from upphandla.flows.casefile import deadlines_of, evidence_of
from upphandla.flows.registry import Registry
from upphandla.notifications.ics import calendar_bytes, deadline_event
from upphandla.notifications.settings import MailSettings
from upphandla.states.clock import local_date, now
from upphandla.states.deadlines import Deadline
from upphandla.states.definition import Definition
from upphandla.states.errors import NotFound
from upphandla.states.rechecks import Finding, finding_deadline
from upphandla.store.models import (
    AuditEventRow,
    CalendarFeedRow,
    CaseRow,
    EvidenceRow,
    FindingRow,
    UserRow,
)
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.calendar")

SECRET_BYTES = 32  # token_urlsafe(32): 43 characters
SECRET_MAX_LENGTH = 128  # longer is never a secret of ours
SECRET_PATTERN = r"^[A-Za-z0-9_-]+$"
_SECRET = re.compile(SECRET_PATTERN)
_Row = TypeVar("_Row", EvidenceRow, FindingRow)
_CHUNK = 500  # case ids per query


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_feed(uow: UnitOfWork, user_id: int) -> str:
    """A new feed for the user, replacing (revoking) any earlier one. Returns the secret, which
    is not stored and cannot be shown again. The caller commits."""
    lock = select(UserRow.id).where(UserRow.id == user_id)
    if not uow.is_sqlite:  # two requests at once still leave one feed (SQLite: BEGIN IMMEDIATE)
        uow.s.execute(lock.with_for_update())
    revoke_feeds(uow, user_id)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    uow.s.add(
        CalendarFeedRow(
            user_id=user_id, secret_hash=secret_hash(secret), created_at=now(), revoked_at=None
        )
    )
    uow.s.flush()
    return secret


def revoke_feeds(uow: UnitOfWork, user_id: int) -> int:
    """Revoke the user's feeds; returns how many were still active. The caller commits."""
    result = uow.s.execute(
        update(CalendarFeedRow)
        .where(CalendarFeedRow.user_id == user_id, CalendarFeedRow.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def feed_user(uow: UnitOfWork, secret: str) -> int | None:
    """The (active) user whose active feed has this secret, or None."""
    if not (0 < len(secret) <= SECRET_MAX_LENGTH and _SECRET.match(secret)):
        return None
    return uow.s.scalar(
        select(CalendarFeedRow.user_id)
        .join(UserRow, UserRow.id == CalendarFeedRow.user_id)
        .where(
            CalendarFeedRow.secret_hash == secret_hash(secret),
            CalendarFeedRow.revoked_at.is_(None),
            UserRow.active.is_(True),
        )
    )


def feed_for_secret(
    uow: UnitOfWork, secret: str, *, registry: Registry, domain: str, base_url: str
) -> bytes:
    """The calendar of the feed with this secret: one all-day event per deadline of the user's
    open cases. NotFound for an unknown or revoked secret."""
    user_id = feed_user(uow, secret)
    if user_id is None:
        raise NotFound("calendar_not_found")
    stamp = now()
    events = [
        deadline_event(
            case_id=case.id,
            case_title=case.title,
            deadline=deadline.as_dict(),
            domain=domain,
            base_url=base_url,
            stamp=stamp,
        )
        for case, deadline in open_deadlines(uow, user_id, registry=registry)
    ]
    return calendar_bytes(events, feed=True)


def open_deadlines(
    uow: UnitOfWork, user_id: int, *, registry: Registry
) -> list[tuple[CaseRow, Deadline]]:
    """(case, deadline) for every deadline of the user's open cases, by due date and case."""
    acted_on = select(AuditEventRow.case_id).where(AuditEventRow.actor_id == user_id)
    rows = uow.s.scalars(
        select(CaseRow)
        .where(or_(CaseRow.created_by == user_id, CaseRow.id.in_(acted_on)))
        .order_by(CaseRow.id)
    ).all()
    open_cases: list[tuple[CaseRow, Definition]] = []
    for row in rows:
        definition, _ = registry.get(uow, row.definition_key, row.definition_version)
        if not definition.phase[row.state].final:
            open_cases.append((row, definition))
    ids = [row.id for row, _ in open_cases]
    evidence = _by_case(uow, EvidenceRow, ids)
    findings = _by_case(uow, FindingRow, ids, FindingRow.closed_at.is_(None))
    found = [
        (row, deadline)
        for row, definition in open_cases
        for deadline in [
            *deadlines_of(definition, row, evidence_of(evidence.get(row.id, []))),
            *(_finding_deadline(row, f) for f in findings.get(row.id, [])),
        ]
    ]
    found.sort(key=lambda item: (item[1].due_on, item[0].id, item[1].key))
    return found


def _by_case(
    uow: UnitOfWork, model: type[_Row], case_ids: list[int], *where: ColumnElement[bool]
) -> dict[int, list[_Row]]:
    """The rows of `model` (evidence, findings) of these cases, by case, in the order written."""
    by_case: dict[int, list[_Row]] = defaultdict(list)
    for chunk in _chunks(case_ids, _CHUNK):
        query = select(model).where(model.case_id.in_(chunk), *where).order_by(model.id)
        for row in uow.s.scalars(query):
            by_case[row.case_id].append(row)
    return by_case


def _finding_deadline(case: CaseRow, row: FindingRow) -> Deadline:
    """An open finding as the sweep reminds of it: due the day it was found, same key."""
    finding = Finding(row.key, row.title, row.message, row.source)
    return finding_deadline(case.state, finding, local_date(row.opened_at))


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def event_domain(base_url: str) -> str:
    """The right-hand side of event UIDs: the mail domain, as in the e-mails' `frist.ics`, so
    both name a deadline alike; the host of `base_url` when the mail settings are unusable."""
    try:
        return MailSettings().domain
    except ValidationError:
        log.warning("mail settings unusable; calendar UIDs use the host of the base URL")
        return urlsplit(base_url).hostname or "localhost"


def feed_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/api/calendar/{secret}.ics"
