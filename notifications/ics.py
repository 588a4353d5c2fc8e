"""Deadlines as iCalendar (RFC 5545), with the `icalendar` library, without side effects.

One all-day event per deadline: DTSTART is the due date (a DATE), DTEND the day after. Its UID
is `case-<case id>-<deadline key>@<domain>`, the same in a reminder's `frist.ics` attachment and
in a personal calendar feed, so a calendar that already holds the deadline updates that event
instead of adding a second one. Each event carries an alarm at 09:00 the day before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import icalendar

from upphandla.states.clock import now

PRODID = "-//upphandla//Frister i IT-upphandlingar//SV"
DEADLINE_TEMPLATES = frozenset({"deadline_reminder", "deadline_escalation"})
# All-day events are floating dates: 15 hours before midnight is 09:00 the day before, local time.
ALARM_BEFORE = timedelta(hours=15)
FEED_NAME = "Upphandla – mina frister"
FEED_REFRESH = timedelta(hours=1)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def event_uid(case_id: int, deadline_key: str, *, domain: str) -> str:
    """The stable UID of a case's deadline: `case-12-phase-ssa-2026-11-02@kommunen.se`."""
    key = _UNSAFE.sub("-", deadline_key).strip("-") or "frist"
    return f"case-{case_id}-{key}@{domain}"


def case_url(base_url: str, case_id: int) -> str:
    return f"{base_url.rstrip('/')}/arenden/{case_id}"


def deadline_event(
    *,
    case_id: int,
    case_title: str,
    deadline: Mapping[str, Any],
    domain: str,
    base_url: str,
    blocking: Sequence[Mapping[str, Any]] = (),
    stamp: datetime | None = None,
) -> icalendar.Event:
    """The event of one deadline (a `Deadline.as_dict()`, or the `deadline` of a reminder's
    context): what is due, what must be done, why, and a link to the case."""
    due_on = date.fromisoformat(str(deadline["due_on"]))
    url = case_url(base_url, case_id)
    summary = f"{deadline['title']} – ärende {case_id} {case_title}"
    event = icalendar.Event()
    event.add("uid", event_uid(case_id, str(deadline["key"]), domain=domain))
    event.add("dtstamp", stamp or now())
    event.add("dtstart", due_on)
    event.add("dtend", due_on + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", _description(case_id, case_title, deadline, blocking, url))
    event.add("url", url)
    event.add("transp", "TRANSPARENT")  # a deadline does not make the day busy
    event.add("categories", ["Upphandla"])
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"I morgon: {summary}")
    alarm.add("trigger", -ALARM_BEFORE)
    event.add_component(alarm)
    return event


def _description(
    case_id: int,
    case_title: str,
    deadline: Mapping[str, Any],
    blocking: Sequence[Mapping[str, Any]],
    url: str,
) -> str:
    lines = [f"Ärende {case_id}: {case_title}", f"Frist: {deadline['title']}"]
    if deadline.get("action"):
        lines.append(f"Att göra: {deadline['action']}")
    for item in blocking:
        lines.append(f"– {item['message']} ({item['source']})")
    if deadline.get("rule"):
        lines.append(f"Varför: {deadline['rule']}")
    if deadline.get("source"):
        lines.append(f"Källa: {deadline['source']}")
    lines.append(f"Ärendet: {url}")
    return "\n".join(lines)


def calendar_bytes(events: Iterable[icalendar.Event], *, feed: bool = False) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) holding `events`; a feed also gets a name and a refresh
    interval for the calendar programs that subscribe to it."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if feed:
        calendar.add("name", FEED_NAME)
        calendar.add("x-wr-calname", FEED_NAME)
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def deadline_ics(context: Mapping[str, Any], *, domain: str, base_url: str) -> bytes:
    """The `frist.ics` of a reminder or escalation e-mail: one event for its deadline."""
    event = deadline_event(
        case_id=int(context["case_id"]),
        case_title=str(context["case_title"]),
        deadline=context["deadline"],
        blocking=context.get("blocking") or (),
        domain=domain,
        base_url=base_url,
    )
    return calendar_bytes([event])


def ics_for(
    template: str, context: Mapping[str, Any], *, domain: str, base_url: str
) -> bytes | None:
    """The calendar attachment of an outbox row: the deadline's event for the reminder and
    escalation templates, nothing for the others."""
    if template not in DEADLINE_TEMPLATES:
        return None
    return deadline_ics(context, domain=domain, base_url=base_url)
