"""Every check a process definition may name, and evaluating a gate with it.

A gate is evaluated in two steps when its check needs a fact from outside the case: first
`lookups_for` says what to look up (for the gates that apply), the use case looks it up, then
`evaluate` runs the check on a snapshot that carries what was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.checks_acceptance import ACCEPTANCE_CHECKS
from upphandla.states.checks_evidence import EVIDENCE_CHECKS
from upphandla.states.checks_lists import LIST_CHECKS
from upphandla.states.checks_money import MONEY_CHECKS
from upphandla.states.checks_sanctions import SANCTIONS_CHECKS
from upphandla.states.checks_time import TIME_CHECKS
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, not_applicable
from upphandla.states.lookups import Lookup, LookupSet

CHECKS: dict[str, Check] = {
    **ACCEPTANCE_CHECKS,
    **EVIDENCE_CHECKS,
    **LIST_CHECKS,
    **MONEY_CHECKS,
    **SANCTIONS_CHECKS,
    **TIME_CHECKS,
}


def applies(spec: GateSpec, facts: Mapping[str, Any]) -> bool:
    return spec.applies_when is None or spec.applies_when.holds(facts)


def evaluate(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date, facts: Mapping[str, Any]
) -> GateResult:
    """Evaluate one gate: not applicable when its condition does not hold, else run its check."""
    if not applies(spec, facts):
        return not_applicable(spec)
    return CHECKS[spec.check].fn(case, evidence, today, spec)


def lookups_for(
    gates: Iterable[GateSpec], case: CaseSnapshot, evidence: Evidence, today: date
) -> set[Lookup]:
    """What the gates that apply to the case need looked up outside it before they decide."""
    facts = case.facts(evidence)
    out: set[Lookup] = set()
    for spec in gates:
        lookup = CHECKS[spec.check].lookup
        if lookup is not None and applies(spec, facts):
            wanted = lookup(spec, case, evidence, today)
            if isinstance(wanted, LookupSet):
                out.update(wanted.lookups)
            elif wanted is not None:
                out.add(wanted)
    return out
