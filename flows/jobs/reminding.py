"""Reminders and escalations for one case: which are due today (states.reminders), recorded
under their unique key and queued in the outbox in the caller's unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from upphandla.flows.commands.notify import enqueue, recipients_for
from upphandla.states.deadlines import PHASE, Deadline
from upphandla.states.definition import Definition
from upphandla.states.reminders import (
    ESCALATION,
    NO_RECIPIENTS,
    QUEUED,
    SKIPPED,
    Planned,
    due,
    plan,
)
from upphandla.states.roles import ROLE_NAMES
from upphandla.store.records import StoredCase
from upphandla.store.uow import UnitOfWork

TEMPLATES = {"reminder": "deadline_reminder", ESCALATION: "deadline_escalation"}


@dataclass
class Reminded:
    queued: list[dict[str, Any]] = field(default_factory=list)  # for the audit event
    enqueued: int = 0
    escalated: int = 0
    next_on: date | None = None


def remind(
    uow: UnitOfWork,
    definition: Definition,
    case: StoredCase,
    deadlines: list[Deadline],
    *,
    today: date,
    at: datetime,
    blocking: Callable[[], list[dict[str, str]]],
) -> Reminded:
    """Queue what is due today of the deadlines' reminders. `blocking()` says what still
    blocks leaving the phase; it is asked only when a phase reminder goes out."""
    out = Reminded()
    rules = definition.reminders
    if rules is None:
        return out
    done = uow.reminders.done(case.id)
    days: list[date] = []
    for deadline in deadlines:
        policy = rules.policy.get(deadline.kind)
        if policy is None:
            continue
        result = due(plan(policy, deadline), done, today)
        if result.next_on is not None:
            days.append(result.next_on)
        for item in result.skip:
            _record(uow, case, item, SKIPPED, [], at)
        for item in result.send:
            _send(
                uow,
                definition,
                case,
                item,
                today=today,
                at=at,
                blocking=blocking() if deadline.kind == PHASE else [],
                out=out,
            )
    out.next_on = min(days, default=None)
    return out


def _send(
    uow: UnitOfWork,
    definition: Definition,
    case: StoredCase,
    item: Planned,
    *,
    today: date,
    at: datetime,
    blocking: list[dict[str, str]],
    out: Reminded,
) -> None:
    emails = recipients_for(uow, case, list(item.notify + item.escalate_to))
    if not _record(uow, case, item, QUEUED if emails else NO_RECIPIENTS, emails, at):
        return  # another sweep recorded this reminder first
    summary = {
        "deadline": item.deadline.key,
        "kind": item.kind,
        "threshold": item.threshold,
        "recipients": emails,
    }
    out.queued.append(summary)
    if not emails:
        return
    d = item.deadline
    enqueue(
        uow,
        case=case,
        dedupe_key=f"reminder:{case.id}:{d.key}:{item.kind}:{item.threshold}",
        template=TEMPLATES[item.kind],
        emails=emails,
        context={
            "deadline": {**d.as_dict(), "phase_title": definition.phase[d.phase].title},
            "reminder": {
                "kind": item.kind,
                "threshold": item.threshold,
                "planned_on": item.on.isoformat(),
                # from the day it goes out: negative when overdue (a late escalation says
                # how late it really is)
                "days_left": (d.due_on - today).days,
            },
            "blocking": blocking,
            "escalated_to": [ROLE_NAMES.get(r, r) for r in item.escalate_to],
        },
        at=at,
    )
    if item.kind == ESCALATION:
        out.escalated += 1
    else:
        out.enqueued += 1


def _record(
    uow: UnitOfWork, case: StoredCase, item: Planned, status: str, emails: list[str], at: datetime
) -> bool:
    """Record the item under its unique key; False when it was already there."""
    return uow.reminders.record(
        case_id=case.id,
        key=item.key,
        due_on=item.deadline.due_on,
        planned_on=item.on,
        status=status,
        recipients=emails,
        at=at,
    )
