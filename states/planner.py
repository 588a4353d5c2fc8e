"""The steps that take one case along the lifecycle path (states.lifecycle_path), each with its
data made from the definition's examples (states.examples) on a given day. Pure: whoever calls it
reads the path file, runs the steps and keeps the case's state.

A plan ends at a step that waits (`PlannedStep.wait_days`): the runner lets days pass until the
trigger's gates hold, fires it, and plans again from the case's new phase on the new day, so that
every later record is dated on the day it is made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upphandla.states.definition import Definition, EvidenceKind
from upphandla.states.examples import example_data, object_value
from upphandla.states.lifecycle_path import LifecyclePath, PathError, PathStep
from upphandla.states.validation import Problem


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One command for a case: record evidence of `kind` with `data`, or fire `trigger`; a
    trigger with `wait_days` may have to wait up to that many days for its gates to hold."""

    phase: str
    role: str
    kind: str | None = None
    trigger: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    wait_days: int | None = None


def plan_steps(
    path: LifecyclePath,
    definition: Definition,
    *,
    state: str,
    attributes: Mapping[str, Any],
    today: date,
    until: str | None = None,
    recorded: Mapping[str, Any] | None = None,
) -> list[PlannedStep]:
    """The steps that take a case from `state` to the phase `until` (none if it is there), or to
    a final phase, or up to and including the first step that waits (the plan then stops; see
    the module). `recorded` holds the facts of the evidence the case has already
    (`kind.field` -> value of its latest record, as states.case.Evidence.facts gives them);
    conditions also see the evidence planned before them."""
    evidence = dict(recorded or {})
    steps: list[PlannedStep] = []
    seen: set[str] = set()
    while state != until and not definition.phase[state].final:
        if state in seen:
            raise PathError([Problem(f"phases.{state}", "vägen leder tillbaka till fasen")])
        seen.add(state)
        taken, state = _phase_steps(path, definition, state, attributes, evidence, today)
        steps += taken
        if taken and taken[-1].wait_days is not None:
            return steps
    if until is not None and state != until:
        raise PathError([Problem("phases", f"vägen leder inte till ”{until}”")])
    return steps


def recording_data(
    path: LifecyclePath,
    definition: Definition,
    kind_id: str,
    *,
    facts: Mapping[str, Any],
    today: date,
) -> dict[str, Any]:
    """The data the path records for a kind, for a case with these facts (its attributes, and
    evidence facts if any): from the first step that records it, else the kind's examples."""
    kind = definition.evidence_kind[kind_id]
    for steps in path.phases.values():
        for step in steps:
            if step.record == kind_id:
                return _records(kind, step, facts, today)[0]
    return example_data(kind, today)


def _phase_steps(
    path: LifecyclePath,
    d: Definition,
    phase: str,
    attributes: Mapping[str, Any],
    evidence: dict[str, Any],
    today: date,
) -> tuple[list[PlannedStep], str]:
    """The steps of one phase and the phase they lead to; `evidence` takes the planned records'
    facts."""
    if phase not in path.phases:
        raise PathError([Problem(f"phases.{phase}", "vägen säger inget om fasen")])
    out: list[PlannedStep] = []
    for step in path.phases[phase]:
        facts = {**evidence, **attributes}
        if step.when is not None and not step.when.holds(facts):
            continue
        if step.trigger is not None:
            trigger = d.trigger[step.trigger]
            if trigger.available_when is None or trigger.available_when.holds(facts):
                out.append(
                    PlannedStep(phase, step.role, trigger=trigger.id, wait_days=step.wait_days)
                )
                return out, trigger.dest
            continue
        kind = d.evidence_kind[step.record or ""]
        for data in _records(kind, step, facts, today):
            out.append(PlannedStep(phase, step.role, kind=kind.id, data=data))
            prefix = f"{kind.id}."
            for key in [k for k in evidence if k.startswith(prefix)]:
                del evidence[key]
            evidence.update({prefix + name: value for name, value in data.items()})
    raise PathError([Problem(f"phases.{phase}", "ingen övergång i fasen gäller för ärendet")])


def _records(
    kind: EvidenceKind, step: PathStep, facts: Mapping[str, Any], today: date
) -> list[dict[str, Any]]:
    data = example_data(kind, today)
    data.update({name: facts[fact] for name, fact in step.from_case.items() if fact in facts})
    items = step.items
    if items is not None and isinstance(facts.get(items.of), list):
        spec = next(f for f in kind.fields if f.name == items.list_)
        made = object_value(spec.items or [], items.set_, today)
        data[items.list_] = [
            {**{k: item[k] for k in items.keep if k in item}, **made} for item in facts[items.of]
        ]
    if step.each is not None:
        choices = next(f.choices for f in kind.fields if f.name == step.each) or []
        return [{**data, step.each: choice} for choice in choices]
    return [data]
