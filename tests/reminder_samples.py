"""Outbox contexts exactly as the sweep writes them (flows.reminding), for the tests of the
reminder templates, their .ics and their delivery."""

from __future__ import annotations

from typing import Any

RULE = "Kommunens mål är att fasen Systemsäkerhetsanalys är klar inom 45 dagar."


def reminder_context(**changes: Any) -> dict[str, Any]:
    """A reminder 14 days before the due date (Thursday 2026-12-17); `changes` replace
    top-level keys."""
    context: dict[str, Any] = {
        "case_id": 12,
        "case_title": "Verksamhetssystem för hemtjänst",
        "deadline": {
            "key": "phase:ssa:2026-11-02",
            "kind": "phase",
            "phase": "ssa",
            "phase_title": "Systemsäkerhetsanalys",
            "title": "Systemsäkerhetsanalys ska vara klar",
            "due_on": "2026-12-17",
            "action": "Gör klart det som krävs för att lämna fasen Systemsäkerhetsanalys.",
            "rule": RULE,
            "source": "Processdefinitionens måltider",
        },
        "reminder": {
            "kind": "reminder",
            "threshold": 14,
            "planned_on": "2026-12-03",
            "days_left": 14,
        },
        "blocking": [
            {
                "gate": "ssa_approved",
                "message": "SSA ska vara godkänd av informationssäkerhetssamordnaren",
                "source": "§ 9.2.9",
            }
        ],
        "escalated_to": [],
    }
    context.update(changes)
    return context


def with_deadline(**changes: Any) -> dict[str, Any]:
    """The reminder, with some of its deadline's fields replaced."""
    context = reminder_context()
    context["deadline"] = {**context["deadline"], **changes}
    return context


def escalation_context(**changes: Any) -> dict[str, Any]:
    """An escalation three working days after the due date (Tuesday 2026-12-22), five days
    late."""
    escalation: dict[str, Any] = {
        "reminder": {
            "kind": "escalation",
            "threshold": 3,
            "planned_on": "2026-12-22",
            "days_left": -5,
        },
        "escalated_to": ["Kategoriledare IT & Telekom"],
    }
    return reminder_context(**{**escalation, **changes})
