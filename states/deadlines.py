"""Deadlines of a case, on the legal calendar.

Every deadline has a stable `key`: the same deadline computed again (by the sweep, the case view
or a calendar feed) has the same key, and a changed date is a new deadline. Reminders are keyed
by it (states.reminders).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from upphandla.states.calendar import add_months, period_end
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.checks_lists import last_possible_end, option_terms
from upphandla.states.checks_time import StandstillParams, standstill_status
from upphandla.states.clock import STOCKHOLM
from upphandla.states.definition import ContractRules, Definition

PHASE = "phase"
STANDSTILL_END = "standstill_end"
NEW_PROCUREMENT_START = "new_procurement_start"
EXTENSION_DECISION = "extension_decision"
WCAG_FOLLOW_UP = "wcag_follow_up"
FINDING = "finding"  # a gate re-check that no longer holds (states.rechecks)

DEADLINE_KINDS: dict[str, str] = {
    PHASE: "Fasens måldatum",
    STANDSTILL_END: "Avtalsspärrens slut",
    NEW_PROCUREMENT_START: "Start av ny upphandling",
    EXTENSION_DECISION: "Beslut om förlängning",
    WCAG_FOLLOW_UP: "Årlig uppföljning av tillgänglighet",
    FINDING: "Anmärkning vid omprövning",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str
    phase: str
    title: str
    due_on: date
    key: str = ""  # stable identity; defaults to kind:phase:due_on
    action: str = ""  # what must be done
    rule: str = ""  # why
    source: str = ""  # the rule's source

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", f"{self.kind}:{self.phase}:{self.due_on.isoformat()}")

    def due_at(self) -> datetime:
        """The end of the due day in Stockholm, as an aware datetime."""
        return datetime.combine(self.due_on, time(23, 59, 59), tzinfo=STOCKHOLM)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "phase": self.phase,
            "title": self.title,
            "due_on": self.due_on.isoformat(),
            "action": self.action,
            "rule": self.rule,
            "source": self.source,
        }


def phase_deadlines(definition: Definition, state: str, entered_on: date) -> list[Deadline]:
    phase = definition.phase[state]
    if phase.final or phase.deadline_days is None:
        return []
    return [
        Deadline(
            PHASE,
            state,
            f"{phase.title} ska vara klar",
            period_end(entered_on, phase.deadline_days),
            key=f"{PHASE}:{state}:{entered_on.isoformat()}",
            action=f"Gör klart det som krävs för att lämna fasen {phase.title}.",
            rule=f"Kommunens mål är att fasen {phase.title} är klar inom "
            f"{phase.deadline_days} dagar.",
            source="Processdefinitionens måltider",
        )
    ]


def next_due_at(deadlines: list[Deadline]) -> datetime | None:
    """The end of the first due day, in UTC like every instant the engine keeps."""
    first = min((d.due_at() for d in deadlines), default=None)
    return first.astimezone(timezone.utc) if first is not None else None


def contract_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    """From the registered contract: when the next procurement must start (§ 9.1), unless it
    has started, and the decision date of each extension option not yet decided."""
    rules = definition.contracts
    record = evidence.latest(rules.kind) if rules else None
    if rules is None or record is None:
        return []
    started = rules.procurement_started_kind and evidence.latest(rules.procurement_started_kind)
    decided = {
        str(r.data.get("until"))
        for r in evidence.records
        if rules.extension_decided_kind and r.kind == rules.extension_decided_kind
    }
    out = [] if started else [_new_procurement(rules, case, evidence, record.data)]
    return out + [
        deadline
        for option, term_end in option_terms(record.data)
        if option["until"] not in decided
        and (deadline := _extension_decision(rules, case.state, option, term_end)) is not None
    ]


def _new_procurement(
    rules: ContractRules, case: CaseSnapshot, evidence: Evidence, contract: Mapping[str, Any]
) -> Deadline:
    """The last possible end of the contract minus the lead time that applies (§ 9.1)."""
    facts = case.facts(evidence)
    lead = next(
        (lt for lt in rules.lead_times if lt.applies_when is None or lt.applies_when.holds(facts)),
        None,
    )
    months = lead.months if lead else rules.default_lead_months
    last_end = last_possible_end(contract)
    start_on = add_months(last_end, -months)
    return Deadline(
        NEW_PROCUREMENT_START,
        case.state,
        f"Ny upphandling ska påbörjas (avtalet kan löpa till {last_end.isoformat()})",
        start_on,
        key=f"{NEW_PROCUREMENT_START}:{start_on.isoformat()}",
        action="Starta ett nytt upphandlingsärende för det som avtalet täcker.",
        rule=f"En ny upphandling ska påbörjas {months} månader före avtalets sista möjliga "
        f"slut ({last_end.isoformat()}).",
        source=lead.source if lead else "kommunens standard",
    )


def _extension_decision(
    rules: ContractRules, state: str, option: Mapping[str, Any], term_end: date
) -> Deadline | None:
    """The option's decision date as the contract gives it; without one, the definition's
    default lead time before the end of the term the option extends."""
    until = option["until"]
    default = rules.extension_decision_default
    if option.get("decide_by"):
        decide_by = date.fromisoformat(option["decide_by"])
        rule = "En förlängningsoption måste beslutas i tid, annars löper avtalet ut."
        source = "§ 9.1.2–9.1.4"
    elif default is not None:
        decide_by = add_months(term_end, -default.months)
        rule = (
            f"Avtalet anger inget sista beslutsdatum för optionen; kommunens standard är att "
            f"besluta {default.months} månader innan avtalstiden löper ut "
            f"({term_end.isoformat()})."
        )
        source = default.source
    else:
        return None
    return Deadline(
        EXTENSION_DECISION,
        state,
        f"Beslut om förlängning till {until}",
        decide_by,
        key=f"{EXTENSION_DECISION}:{until}:{decide_by.isoformat()}",
        action=f"Besluta om avtalet ska förlängas till {until} och meddela leverantören.",
        rule=rule,
        source=source,
    )


def wcag_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    """The yearly follow-up of accessibility on a citizen-facing contract in förvaltning: a year
    after the last follow-up, or after the case entered förvaltning [§ 9.2.13]."""
    rules = definition.reminders
    if rules is None or rules.wcag_follow_up is None:
        return []
    spec = rules.wcag_follow_up
    if case.state not in spec.phases or not spec.applies_when.holds(case.facts(evidence)):
        return []
    done = evidence.latest(spec.kind)
    since = date.fromisoformat(done.data[spec.date_field]) if done else case.phase_entered_on
    due = add_months(since, 12)
    return [
        Deadline(
            WCAG_FOLLOW_UP,
            case.state,
            "Årlig uppföljning av tillgänglighet (WCAG)",
            due,
            key=f"{WCAG_FOLLOW_UP}:{due.isoformat()}",
            action="Följ upp leverantörens tillgänglighetsredogörelse och registrera "
            "uppföljningen.",
            rule="Tillgängligheten i medborgarnära system följs upp varje år.",
            source=spec.source,
        )
    ]


def standstill_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    """The last day of the avtalsspärr, while the case is in it (from the standstill gate of the
    triggers that leave the phase)."""
    for trigger in definition.triggers_from(case.state):
        for gate in trigger.gates:
            if gate.check != "standstill_ended":
                continue
            if gate.applies_when is not None and not gate.applies_when.holds(case.facts(evidence)):
                return []
            last_day, explanation = standstill_status(evidence, gate.params_as(StandstillParams))
            if last_day is None or case.phase_entered_on > last_day:
                return []  # waiting for the court, or the phase began after the standstill
            return [
                Deadline(
                    STANDSTILL_END,
                    case.state,
                    "Avtalsspärren löper ut",
                    last_day,
                    key=f"{STANDSTILL_END}:{last_day.isoformat()}",
                    action="Förbered undertecknandet: avtalet får tecknas dagen efter.",
                    rule=explanation,
                    source=gate.source,
                )
            ]
    return []


def case_deadlines(
    definition: Definition, case: CaseSnapshot, evidence: Evidence
) -> list[Deadline]:
    if definition.phase[case.state].final:
        return []
    return (
        phase_deadlines(definition, case.state, case.phase_entered_on)
        + standstill_deadlines(definition, case, evidence)
        + contract_deadlines(definition, case, evidence)
        + wcag_deadlines(definition, case, evidence)
    )
