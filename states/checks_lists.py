"""Checks over lists: the requirement checklist a case must cover, the acceptance test's latest
round, and the term of a framework agreement."""

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


ACCEPTANCE_CHECK = "acceptance_passed"


class AcceptanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the requirement list: requirements [{id, text, level: ska|bor}]
    round_kind: str  # a test round: results [{id, result: godkand|underkand|ej_testad}]
    mandatory_level: str = "ska"
    passed_result: str = "godkand"
    untested_result: str = "ej_testad"


def gate_acceptance_passed(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when, in the latest test round, every skakrav has passed and every other requirement
    has been tested [§ 5.4.5, § 9.2.5, § 10.6.2]. There is no waiver: the only ways on are a new
    round or ending the contract."""
    params = spec.params_as(AcceptanceParams)
    requirements = evidence.latest(params.kind)
    if requirements is None:
        return blocked(spec, "Kravlistan för acceptanstestet är inte inläst.")
    latest = evidence.latest(params.round_kind)
    if latest is None:
        return blocked(spec, "Ingen testomgång är registrerad.")
    results = {r["id"]: r["result"] for r in latest.data.get("results", [])}
    # Every list ever imported counts, and a skakrav stays one: a new list that drops or
    # downgrades a requirement cannot waive it.
    levels: dict[str, str] = {}
    for record in evidence.records:
        if record.kind == params.kind:
            for req in record.data.get("requirements", []):
                if levels.get(req["id"]) != params.mandatory_level:
                    levels[req["id"]] = req.get("level", "")
    failing = [
        rid
        for rid, level in levels.items()
        if level == params.mandatory_level and results.get(rid) != params.passed_result
    ]
    untested = [
        rid
        for rid, level in levels.items()
        if level != params.mandatory_level and results.get(rid) in (None, params.untested_result)
    ]
    rounds = sum(1 for r in evidence.records if r.kind == params.round_kind)
    problems = []
    if failing:
        problems.append(
            f"Skakrav som inte är godkända i senaste testomgången (nr {rounds}): "
            f"{', '.join(failing)}. Gör en ny testomgång när leverantören har åtgärdat dem."
        )
    if untested:
        problems.append(
            f"Krav som inte är testade i senaste testomgången (nr {rounds}): {', '.join(untested)}."
        )
    if problems:
        return blocked(spec, *problems)
    return passed(spec)


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


def last_possible_end(contract: Mapping[str, Any]) -> date:
    """The contract's end date, or the last date an extension option allows."""
    ends = [date.fromisoformat(contract["end_on"])]
    ends += [date.fromisoformat(x["until"]) for x in contract.get("extensions") or []]
    return max(ends)


LIST_CHECKS = {
    CHECKLIST_CHECK: Check(
        gate_checklist_covered, ChecklistParams, "kind", extra=_checklist_problems
    ),
    ACCEPTANCE_CHECK: Check(
        gate_acceptance_passed, AcceptanceParams, "kind", kind_params=("round_kind",)
    ),
    "framework_term": Check(gate_framework_term, TermParams, "kind"),
}
