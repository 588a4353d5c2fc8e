"""Deadlines of a case, on the legal calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from states.calendar import period_end
from states.case import CaseSnapshot, Evidence
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


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has fewer days)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def contract_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    """From the registered contract: when the next procurement must start (the last possible end
    minus the lead time that applies, § 9.1), each extension option's decision date, and the end."""
    rules = definition.contracts
    record = evidence.latest(rules.kind) if rules else None
    if rules is None or record is None:
        return []
    from states.checks_lists import last_possible_end

    facts = case.facts(evidence)
    lead = next(
        (lt for lt in rules.lead_times if lt.applies_when is None or lt.applies_when.holds(facts)),
        None,
    )
    months = lead.months if lead else rules.default_lead_months
    last_end = last_possible_end(record.data)
    out = [
        Deadline(
            "new_procurement_start",
            case.state,
            f"Ny upphandling ska påbörjas ({months} månader före avtalets sista möjliga slut "
            f"{last_end.isoformat()}; {lead.source if lead else 'kommunens standard'})",
            months_before(last_end, months),
        )
    ]
    for option in record.data.get("extensions") or []:
        if option.get("decide_by"):
            out.append(
                Deadline(
                    "extension_decision",
                    case.state,
                    f"Beslut om förlängning till {option['until']}",
                    date.fromisoformat(option["decide_by"]),
                )
            )
    return out


def case_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    return phase_deadlines(definition, case.state, case.phase_entered_on) + contract_deadlines(
        definition, case, evidence
    )
