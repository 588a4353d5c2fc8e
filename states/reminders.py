"""When reminders and escalations go out for a deadline, and to whom: pure planning on the legal
calendar, from the definition's reminder policy.

- A reminder goes out `before_days` calendar days before the due date; when that day is not a
  working day (lag 1930:173), on the working day before it, so that it is never late.
- An overdue deadline escalates on the `escalate_after_working_days`-th working day after its
  due date, to `escalate_to` and to the people the reminders went to.
- Catching up (a case that was registered late, or a sweep that did not run for a while): of the
  reminders whose day has come, only the latest is sent, and only while the deadline has not
  passed; the others are recorded as skipped, so nobody receives a burst of stale reminders.
  An escalation whose day has come is always sent.

Every planned item has a key (case, deadline key, kind, threshold). The store keeps the key of
every item sent or skipped under a unique constraint; that is what makes the sweep idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from upphandla.states.calendar import add_working_days, is_working_day
from upphandla.states.clock import STOCKHOLM
from upphandla.states.deadlines import Deadline
from upphandla.states.definition import ReminderPolicy

REMINDER = "reminder"
ESCALATION = "escalation"
QUEUED, SKIPPED, NO_RECIPIENTS = "queued", "skipped", "no_recipients"
SEND_HOUR = 7  # reminders for a day go out from 07:00 Stockholm time

ItemKey = tuple[str, str, int]  # (deadline key, kind, threshold)


@dataclass(frozen=True, slots=True)
class Planned:
    deadline: Deadline
    kind: str  # REMINDER or ESCALATION
    threshold: int  # days before the due date; working days after it for an escalation
    on: date  # the day it goes out
    notify: tuple[str, ...]  # roles, or "creator"
    escalate_to: tuple[str, ...]

    @property
    def key(self) -> ItemKey:
        return (self.deadline.key, self.kind, self.threshold)


def working_day_on_or_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def send_time(day: date) -> datetime:
    """The moment a reminder planned for `day` is due: 07:00 Stockholm time."""
    return datetime.combine(day, time(SEND_HOUR), tzinfo=STOCKHOLM)


def plan(policy: ReminderPolicy, deadline: Deadline) -> list[Planned]:
    """Every reminder and escalation the policy gives one deadline, earliest first."""
    notify = tuple(policy.notify)
    out = [
        Planned(
            deadline,
            REMINDER,
            days,
            working_day_on_or_before(deadline.due_on - timedelta(days=days)),
            notify,
            (),
        )
        for days in policy.before_days
    ]
    if policy.escalate_after_working_days is not None:
        n = policy.escalate_after_working_days
        out.append(
            Planned(
                deadline,
                ESCALATION,
                n,
                add_working_days(deadline.due_on, n),
                notify,
                tuple(policy.escalate_to),
            )
        )
    return sorted(out, key=lambda p: (p.on, p.kind == ESCALATION, -p.threshold))


@dataclass(frozen=True)
class Due:
    send: list[Planned]
    skip: list[Planned]
    next_on: date | None  # the next day something of this plan goes out


def due(items: list[Planned], done: set[ItemKey], today: date) -> Due:
    """What to send and what to skip today, of items not yet done; and the next day to look."""
    open_items = [p for p in items if p.key not in done]
    ready = [p for p in open_items if p.on <= today]
    reminders = [p for p in ready if p.kind == REMINDER]
    send = [p for p in ready if p.kind == ESCALATION]
    skip: list[Planned] = []
    if reminders:
        latest = max(reminders, key=lambda p: (p.on, -p.threshold))
        for p in reminders:
            live = p is latest and today <= p.deadline.due_on
            (send if live else skip).append(p)
    later = [p.on for p in open_items if p.on > today]
    return Due(send, skip, min(later, default=None))
