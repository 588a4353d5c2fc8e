"""Checks over lists: the requirement checklist a case must cover, and the dates of a registered
contract (its term, its extension options, a framework agreement's length)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.calendar import add_months
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.conditions import Condition, condition_problems
from upphandla.states.definition import GateSpec, Identifier, Label
from upphandla.states.gates import Check, GateResult, Reason, blocked, passed
from upphandla.states.validation import Problem

CHECKLIST_CHECK = "checklist_covered"


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: Identifier
    title: Label
    applies_when: Condition | None = None
    source: Label
    why: Label


class ChecklistParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # one record per item included in the requirement set: field `item`
    items: list[ChecklistItem] = Field(min_length=1)


@dataclass(frozen=True)
class ChecklistEntry:
    item: ChecklistItem
    applies: bool
    included: bool


def checklist(
    params: ChecklistParams, evidence: Evidence, facts: Mapping[str, Any]
) -> list[ChecklistEntry]:
    """Every item with whether it applies to this case and whether the requirements include it."""
    included = {r.data.get("item") for r in evidence.records if r.kind == params.kind}
    return [
        ChecklistEntry(
            item,
            item.applies_when is None or item.applies_when.holds(facts),
            item.id in included,
        )
        for item in params.items
    ]


def gate_checklist_covered(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the requirement set includes every item that applies to the case; each
    missing item is a reason of its own, with its source."""
    params = spec.params_as(ChecklistParams)
    missing = [
        e.item
        for e in checklist(params, evidence, case.facts(evidence))
        if e.applies and not e.included
    ]
    if not missing:
        return passed(spec)
    reasons = tuple(
        Reason(spec.id, f"{spec.message} Saknas: {m.title} ({m.why}).", m.source) for m in missing
    )
    return GateResult(spec.id, spec.title, True, False, reasons, spec.source)


def _checklist_problems(
    params: ChecklistParams, path: str, kinds: Mapping[str, Any], facts: Mapping[str, type]
) -> list[Problem]:
    """Each item's id must be a choice of the kind's `item` field, and its condition must name
    known facts with values of their type."""
    kind = kinds.get(params.kind)
    field = next((f for f in kind.fields if f.name == "item"), None) if kind else None
    choices = set(field.choices or []) if field else set()
    out = []
    for i, item in enumerate(params.items):
        if item.id not in choices:
            out.append(
                Problem(f"{path}.items[{i}].id", f"”{item.id}” finns inte bland {params.kind}.item")
            )
        if item.applies_when is not None:
            out += condition_problems(item.applies_when, f"{path}.items[{i}].applies_when", facts)
    return out


class TermParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the registered contract: framework, start_on, end_on, extensions, term_reason
    max_years: int = Field(default=4, ge=1, le=50)


def gate_framework_term(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes unless a framework agreement runs longer than the maximum (including extensions)
    without a recorded reason [§ 10.3 footnote 4; LOU 7 kap. 2 §]."""
    params = spec.params_as(TermParams)
    record = evidence.latest(params.kind)
    if record is None or record.data.get("framework") is not True:
        return passed(spec)
    if not record.data.get("start_on"):
        return blocked(spec, "Ramavtalets startdatum saknas, så dess löptid kan inte bedömas.")
    start = date.fromisoformat(record.data["start_on"])
    last = last_possible_end(record.data)
    limit = add_months(start, 12 * params.max_years) - timedelta(days=1)  # the last day of the term
    if last > limit and not record.data.get("term_reason"):
        return blocked(
            spec,
            f"Ramavtalet löper från {start.isoformat()} till {last.isoformat()}, längre än "
            f"{params.max_years} år, och skäl för det är inte angivet.",
        )
    return passed(spec)


class ContractDatesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the registered contract: start_on, end_on, extensions [{until, decide_by}]


def option_terms(contract: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], date]]:
    """Each extension option, by its `until`, with the last day of the term it extends: the
    contract's end for the first, the previous option's `until` for each later one."""
    options = sorted(contract.get("extensions") or [], key=lambda x: str(x["until"]))
    ends = [date.fromisoformat(contract["end_on"])]
    ends += [date.fromisoformat(x["until"]) for x in options]
    return list(zip(options, ends, strict=False))


def gate_contract_dates_in_order(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the registered contract ends on or after its start, each extension option
    runs past the term it extends, and each option's decision date lies within that term: the
    dates every contract deadline is computed from [§ 9.1, § 9.1.2–9.1.4]."""
    params = spec.params_as(ContractDatesParams)
    record = evidence.latest(params.kind)
    if record is None or not record.data.get("end_on"):
        return passed(spec)
    contract = record.data
    end = date.fromisoformat(contract["end_on"])
    problems = []
    if contract.get("start_on") and end < date.fromisoformat(contract["start_on"]):
        problems.append(f"Avtalet slutar {end.isoformat()}, före sin start {contract['start_on']}.")
    for option, term_end in option_terms(contract):
        until = date.fromisoformat(option["until"])
        if until <= term_end:
            problems.append(
                f"Förlängningsoptionen till {until.isoformat()} förlänger inte avtalet: den ska "
                f"sluta efter {term_end.isoformat()}."
            )
        decide_by = option.get("decide_by")
        if decide_by and date.fromisoformat(decide_by) > term_end:
            problems.append(
                f"Beslutet om optionen till {until.isoformat()} ska fattas senast "
                f"{term_end.isoformat()}, när avtalet annars löper ut, inte {decide_by}."
            )
    if problems:
        return blocked(spec, *problems)
    return passed(spec)


def last_possible_end(contract: Mapping[str, Any]) -> date:
    """The contract's end date, or the last date an extension option allows."""
    ends = [date.fromisoformat(contract["end_on"])]
    ends += [date.fromisoformat(x["until"]) for x in contract.get("extensions") or []]
    return max(ends)


LIST_CHECKS = {
    CHECKLIST_CHECK: Check(
        gate_checklist_covered, ChecklistParams, "kind", extra=_checklist_problems
    ),
    "framework_term": Check(gate_framework_term, TermParams, "kind"),
    "contract_dates_in_order": Check(gate_contract_dates_in_order, ContractDatesParams, "kind"),
}
