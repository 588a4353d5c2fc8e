"""Before a case is started: which gates of the process will apply to a case with these
attributes, and why (the gate's rule text and source). A gate whose condition reads only the
case's attributes either applies or not; one whose condition also reads evidence recorded later
may apply, and the page says on what it depends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upphandla.flows.registry import Registry
from upphandla.states.attributes import CaseAttributes
from upphandla.states.definition import Definition, GateSpec, Trigger
from upphandla.store.uow import UnitOfWork

ATTRIBUTES = frozenset(CaseAttributes.model_fields)


@dataclass(frozen=True)
class GateAhead:
    gate: GateSpec
    certain: bool  # False: it depends on evidence recorded later
    condition: str  # the condition in words ('' when the gate always applies)


@dataclass(frozen=True)
class StepAhead:
    trigger: Trigger
    phase_title: str
    gates: list[GateAhead]


def _applies(condition: Any, facts: dict[str, Any]) -> tuple[bool, bool]:
    """(may apply, certainly decided by the attributes alone)."""
    if condition is None:
        return True, True
    if condition.facts_used() <= ATTRIBUTES:
        return condition.holds(facts), True
    return True, False


def steps_ahead(definition: Definition, attributes: dict[str, Any]) -> list[StepAhead]:
    """The steps a case with these attributes may take, each with the gates that will or may
    apply to it; steps whose condition rules them out for these attributes are left out, and
    so are steps without any gate (cancelling, for one)."""
    out = []
    for trigger in definition.triggers:
        available, _ = _applies(trigger.available_when, attributes)
        if not available:
            continue
        gates = []
        for gate in trigger.gates:
            applies, certain = _applies(gate.applies_when, attributes)
            if applies:
                condition = gate.applies_when.describe() if gate.applies_when else ""
                gates.append(GateAhead(gate, certain, condition))
        if gates:
            source = trigger.source[0] if trigger.source else ""
            title = definition.phase[source].title if source in definition.phase else source
            out.append(StepAhead(trigger, title, gates))
    return out


def start_preview(
    uow: UnitOfWork, *, registry: Registry, definition_key: str, attributes: dict[str, Any]
) -> list[StepAhead]:
    definition, _ = registry.latest(uow, definition_key)
    return steps_ahead(definition, attributes)
