"""Personal calendar feeds: the deadlines of a person's open cases as an iCalendar feed that a
calendar program subscribes to.

The feed's address holds a secret; only its SHA-256 is stored (flows.commands.calendar). The
secret is the credential, since calendar programs cannot send a bearer token. A person's open
cases are those they started or acted on (an audit event of theirs), that they may still read
under the access policy, and that are not in a final phase. Their deadlines are those of the case view (states.deadlines) and their open findings, as
the sweep reminds of them; each is one event with the same UID as the `frist.ics` of its
reminder e-mails (notifications.ics).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from pydantic import ValidationError

from upphandla.flows.access import scope_for
from upphandla.flows.casefile import deadlines_of, evidence_of
from upphandla.flows.commands.calendar import secret_hash
from upphandla.flows.commands.users import actor_of
from upphandla.flows.registry import Registry
from upphandla.notifications.ics import calendar_bytes, deadline_event
from upphandla.notifications.settings import MailSettings
from upphandla.states.clock import local_date, now
from upphandla.states.deadlines import Deadline
from upphandla.states.definition import Definition
from upphandla.states.errors import NotFound
from upphandla.states.rechecks import Finding, finding_deadline
from upphandla.store.records import StoredCase, StoredFinding
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.calendar")

SECRET_MAX_LENGTH = 128  # longer is never a secret of ours
SECRET_PATTERN = r"^[A-Za-z0-9_-]+$"
_SECRET = re.compile(SECRET_PATTERN)


def feed_user(uow: UnitOfWork, secret: str) -> int | None:
    """The (active) user whose active feed has this secret, or None."""
    if not (0 < len(secret) <= SECRET_MAX_LENGTH and _SECRET.match(secret)):
        return None
    return uow.calendar.user_for(secret_hash(secret))


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
) -> list[tuple[StoredCase, Deadline]]:
    """(case, deadline) for every deadline of the user's open cases, by due date and case."""
    user = uow.users.get(user_id)
    if user is None:
        return []
    scope = scope_for(uow, registry, actor_of(user))
    open_cases: list[tuple[StoredCase, Definition]] = []
    for case in uow.cases.of_user(user_id, scope):
        definition, _ = registry.get(uow, case.definition_key, case.definition_version)
        if not definition.phase[case.state].final:
            open_cases.append((case, definition))
    ids = [case.id for case, _ in open_cases]
    evidence = uow.evidence.of_cases(ids)
    findings = uow.findings.open_of_cases(ids)
    found = [
        (case, deadline)
        for case, definition in open_cases
        for deadline in [
            *deadlines_of(definition, case, evidence_of(evidence.get(case.id, []))),
            *(_finding_deadline(case, f) for f in findings.get(case.id, [])),
        ]
    ]
    found.sort(key=lambda item: (item[1].due_on, item[0].id, item[1].key))
    return found


def _finding_deadline(case: StoredCase, row: StoredFinding) -> Deadline:
    """An open finding as the sweep reminds of it: due the day it was found, same key."""
    finding = Finding(row.key, row.title, row.message, row.source)
    return finding_deadline(case.state, finding, local_date(row.opened_at))


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
