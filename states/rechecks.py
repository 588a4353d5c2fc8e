"""Gate re-checks on running cases: the definition names gates whose facts can go stale (a PUB-avtal
missing on a contract in förvaltning, a supplier on a newly loaded sanctions list). Evaluated
again by the sweep; each one that blocks is a finding on the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.checks import evaluate, lookups_for
from upphandla.states.deadlines import FINDING, Deadline
from upphandla.states.definition import Definition, Recheck
from upphandla.states.lookups import Lookup


@dataclass(frozen=True, slots=True)
class Finding:
    key: str  # the re-check's id: at most one open finding per case and key
    title: str
    message: str  # the gate's reasons
    source: str


def rechecks_in(definition: Definition, state: str) -> list[Recheck]:
    rules = definition.reminders
    return [spec for spec in rules.rechecks if state in spec.phases] if rules else []


def rechecks_using(definition: Definition, check: str) -> list[Recheck]:
    rules = definition.reminders
    return [spec for spec in rules.rechecks if spec.check == check] if rules else []


def recheck_lookups(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, today: date
) -> set[Lookup]:
    """What the re-checks of the case's phase need looked up outside the case."""
    return lookups_for(rechecks_in(definition, case.state), case, evidence, today)


def findings(
    definition: Definition, case: CaseSnapshot, evidence: Evidence, today: date
) -> list[Finding]:
    """The re-checks that apply to the case's phase and block now."""
    out = []
    facts = case.facts(evidence)
    for spec in rechecks_in(definition, case.state):
        result = evaluate(spec, case, evidence, today, facts)
        if result.applies and not result.ok:
            message = " ".join(r.message for r in result.reasons)
            out.append(Finding(spec.id, spec.title, message, spec.source))
    return out


def finding_deadline(case_state: str, finding: Finding, opened_on: date) -> Deadline:
    """An open finding as a deadline due the day it was found: the reminder policy for
    `finding` then says who is told and when it escalates."""
    return Deadline(
        FINDING,
        case_state,
        finding.title,
        opened_on,
        key=f"{FINDING}:{finding.key}:{opened_on.isoformat()}",
        action=finding.message,
        rule=finding.message,
        source=finding.source,
    )
