"""Deadlines of a case, on the legal calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from states.calendar import period_end
from states.clock import STOCKHOLM
from states.definition import Definition


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    phase: str
    title: str
    due_on: date

    def due_at(self) -> datetime:
        """The end of the due day in Stockholm, as an aware datetime."""
        return datetime.combine(self.due_on, time(23, 59, 59), tzinfo=STOCKHOLM)


def phase_deadlines(definition: Definition, state: str, entered_on: date) -> list[Deadline]:
    phase = definition.phase[state]
    if phase.final or phase.deadline_days is None:
        return []
    return [
        Deadline(
            "phase",
            state,
            f"{phase.title} ska vara klar",
            period_end(entered_on, phase.deadline_days),
        )
    ]


def next_due_at(deadlines: list[Deadline]) -> datetime | None:
    return min((d.due_at() for d in deadlines), default=None)
