"""Audit review: the events of every case a person may read, searched by case, actor, action and
time, oldest first, a page at a time; and the same search read in chunks for an export.

Order: by event id, the order the events were written. Oldest first, as a case's own trail and
its hash chain read, and so that a walk page by page also reaches the events written while it
walks, none twice. The cursor is opaque to clients: the id of the last event handed out.

What a person may read is the store's query predicate for their read scope
(store.scope.visible_events), in the WHERE of every query: a controller sees every case's
events, a beställare those of their organisation's cases, an administrator none.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal, get_args

from upphandla.flows.access import scope_for
from upphandla.flows.registry import Registry
from upphandla.states.access import CaseScope
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.audit import EventQuery, FoundEvent
from upphandla.store.uow import UnitOfWork

log = logging.getLogger("upphandla.audit")

# Every action an audit event can have (states.events); a test keeps the two in step.
AuditAction = Literal[
    "case_started",
    "contract_imported",
    "evidence_recorded",
    "transition",
    "cancelled",
    "reminders_queued",
    "finding_raised",
    "finding_closed",
]
ACTIONS: tuple[str, ...] = get_args(AuditAction)

MAX_LIMIT = 500
EXPORT_CHUNK = 500
_CURSOR = re.compile(r"^e([1-9][0-9]{0,17})$")
_TIME_FORMAT = "ska vara en tidpunkt enligt ISO 8601 med tidszon, t.ex. 2026-03-02T09:00:00+01:00"


def cursor_of(event_id: int) -> str:
    """The opaque cursor after an event: base64url, without padding, of "e<id>"."""
    return base64.urlsafe_b64encode(f"e{event_id}".encode()).decode().rstrip("=")


def _after_id(cursor: str) -> int | None:
    """The event id a cursor stands for; None for anything not made by `cursor_of`."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    found = _CURSOR.match(raw.decode("ascii", errors="replace"))
    return int(found.group(1)) if found else None


def _instant(name: str, value: str, problems: list[Problem]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.upper())  # RFC 3339 allows "t" and "z"
    except ValueError:
        problems.append(Problem(name, _TIME_FORMAT))
        return None
    if parsed.tzinfo is None:
        problems.append(Problem(name, f"saknar tidszon; {_TIME_FORMAT}"))
        return None
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        problems.append(Problem(name, "ligger utanför de tidpunkter som kan sökas"))
        return None


@dataclass(frozen=True)
class EventFilters:
    """A search as asked for, validated: the query and where a page starts."""

    query: EventQuery
    after_id: int | None = None


def event_filters(
    *,
    case_id: int | None = None,
    actor_id: int | None = None,
    actions: tuple[str, ...] = (),
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
) -> EventFilters:
    """The filters of a search, checked; Invalid naming every bad one (422)."""
    problems: list[Problem] = []
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        problems.append(
            Problem("action", f"okänd händelsetyp ”{unknown[0]}”; kända: {', '.join(ACTIONS)}")
        )
    start = _instant("since", since, problems) if since is not None else None
    end = _instant("until", until, problems) if until is not None else None
    if start is not None and end is not None and start > end:
        problems.append(Problem("since", "ligger efter until"))
    after = None
    if cursor is not None:
        after = _after_id(cursor)
        if after is None:
            problems.append(
                Problem("cursor", "är ingen giltig markör; använd next_cursor från förra sidan")
            )
    if problems:
        raise Invalid("invalid_attributes", problems)
    query = EventQuery(case_id, actor_id, tuple(actions), start, end)
    return EventFilters(query, after)


@dataclass(frozen=True)
class EventPage:
    items: list[FoundEvent]
    next_cursor: str | None  # None: nothing after this page (yet)


def search_events(
    uow: UnitOfWork, *, registry: Registry, actor: Actor, filters: EventFilters, limit: int
) -> EventPage:
    """One page of the events the actor may read that match the filters, oldest first."""
    scope = scope_for(uow, registry, actor)
    found = uow.audit.search(filters.query, scope, limit=limit + 1, after_id=filters.after_id)
    items = found[:limit]
    more = len(found) > limit
    return EventPage(items, cursor_of(items[-1].id) if more and items else None)


@dataclass(frozen=True)
class Export:
    """An export under way: whose scope, up to which event (the latest when it began, so that
    it ends and shows the log as it was then) and its first chunk."""

    scope: CaseScope
    query: EventQuery
    up_to_id: int
    first: list[FoundEvent]


def start_export(
    uow: UnitOfWork, *, registry: Registry, actor: Actor, filters: EventFilters, fmt: str
) -> Export:
    """Begin an export: the scope, the last event it will include, and the first chunk. The
    export is logged with who asked for it and what it asked for."""
    scope = scope_for(uow, registry, actor)
    up_to = uow.audit.last_id()
    first = uow.audit.search(filters.query, scope, limit=EXPORT_CHUNK, up_to_id=up_to)
    q = filters.query
    log.info(
        "audit export (%s) by user %s (%s): case=%s actor=%s actions=%s since=%s until=%s, "
        "events up to id %s",
        fmt,
        actor.user_id,
        actor.role,
        q.case_id,
        q.actor_id,
        ",".join(q.actions) or "-",
        q.since.isoformat() if q.since else "-",
        q.until.isoformat() if q.until else "-",
        up_to,
    )
    return Export(scope, q, up_to, first)


def export_chunk(uow: UnitOfWork, export: Export, after_id: int) -> list[FoundEvent]:
    """The next chunk of an export, after the event `after_id`."""
    return uow.audit.search(
        export.query, export.scope, limit=EXPORT_CHUNK, after_id=after_id, up_to_id=export.up_to_id
    )
