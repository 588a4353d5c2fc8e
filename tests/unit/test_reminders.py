"""Planning reminders and escalations on the legal calendar (states.reminders), without a
database: the weekend and holiday rules, escalation in working days, and catching up."""

from __future__ import annotations

from datetime import date

import pytest

from upphandla.states.deadlines import Deadline
from upphandla.states.definition import ReminderPolicy
from upphandla.states.reminders import ESCALATION, REMINDER, due, plan, send_time

POLICY = ReminderPolicy(
    deadline="phase",
    notify=["creator", "upphandlare"],
    before_days=[14, 3],
    escalate_after_working_days=2,
    escalate_to=["kategoriledare"],
    source="test",
)


def deadline(due_on: str) -> Deadline:
    return Deadline("phase", "ssa", "SSA ska vara klar", date.fromisoformat(due_on))


def days(items: list) -> list[tuple[str, int, str]]:
    return [(p.kind, p.threshold, p.on.isoformat()) for p in items]


def test_a_plain_plan_on_working_days() -> None:
    # 2026-11-25 is a Wednesday: 14 days before is Wednesday 11-11, 3 days before Sunday 11-22.
    assert days(plan(POLICY, deadline("2026-11-25"))) == [
        (REMINDER, 14, "2026-11-11"),
        (REMINDER, 3, "2026-11-20"),  # Sunday -> Friday before
        (ESCALATION, 2, "2026-11-27"),  # Thursday (1), Friday (2)
    ]


def test_christmas_moves_reminders_earlier_and_escalations_later() -> None:
    # Due Wednesday 2026-12-23. Three days before is Sunday 12-20: sent Friday 12-18.
    # Julafton (12-24, de facto holiday), juldagen, annandag jul and the weekend are no
    # working days: the second working day after the due date is Tuesday 12-29.
    assert days(plan(POLICY, deadline("2026-12-23"))) == [
        (REMINDER, 14, "2026-12-09"),
        (REMINDER, 3, "2026-12-18"),
        (ESCALATION, 2, "2026-12-29"),
    ]


def test_a_reminder_on_a_public_holiday_goes_out_the_working_day_before() -> None:
    # Due 2027-01-09 (Saturday); 3 days before is 2027-01-06, trettondedag jul (Wednesday).
    items = plan(POLICY, deadline("2027-01-09"))
    assert (REMINDER, 3, "2027-01-05") in days(items)


def test_escalation_names_its_recipients_and_keys_are_distinct() -> None:
    items = plan(POLICY, deadline("2026-11-25"))
    escalation = next(p for p in items if p.kind == ESCALATION)
    assert escalation.escalate_to == ("kategoriledare",)
    assert escalation.notify == ("creator", "upphandlare")
    assert len({p.key for p in items}) == 3


@pytest.mark.parametrize(
    ("today", "send", "skip", "next_on"),
    [
        ("2026-11-10", [], [], "2026-11-11"),
        ("2026-11-11", [(REMINDER, 14)], [], "2026-11-20"),
        # A sweep that did not run for a while: only the latest reminder goes out.
        ("2026-11-23", [(REMINDER, 3)], [(REMINDER, 14)], "2026-11-27"),
        # The deadline passed before anything was sent: no stale reminders, only the escalation.
        ("2026-11-26", [], [(REMINDER, 14), (REMINDER, 3)], "2026-11-27"),
        ("2026-12-01", [(ESCALATION, 2)], [(REMINDER, 14), (REMINDER, 3)], None),
    ],
)
def test_due_catches_up_without_a_burst(
    today: str, send: list, skip: list, next_on: str | None
) -> None:
    result = due(plan(POLICY, deadline("2026-11-25")), set(), date.fromisoformat(today))
    assert [(p.kind, p.threshold) for p in result.send] == send
    assert sorted((p.kind, p.threshold) for p in result.skip) == sorted(skip)
    assert (result.next_on.isoformat() if result.next_on else None) == next_on


def test_done_items_are_never_due_again() -> None:
    items = plan(POLICY, deadline("2026-11-25"))
    done = {p.key for p in items}
    result = due(items, done, date(2026, 12, 31))
    assert (result.send, result.skip, result.next_on) == ([], [], None)


def test_the_send_time_is_seven_in_the_morning_in_stockholm() -> None:
    moment = send_time(date(2026, 7, 1))  # summer time: 05:00 UTC
    assert moment.utcoffset() is not None
    assert moment.isoformat() == "2026-07-01T07:00:00+02:00"
