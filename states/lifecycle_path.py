"""One valid way through a process definition, as data (seeds/lifecycle.yaml): phase by phase, who
records which evidence and which trigger moves the case on. Together with the examples of the
definition's fields (states.examples) it is the one source of a valid case for tests, the demo and
the benchmarks; states.planner turns it into the steps for one case.

    definition: KEY                 # the process definition it goes through
    phases:
      PHASE:                        # a phase of the definition, with its steps in order
        - role: ROLE                # who acts
          record: KIND              # records evidence of this kind, or
          trigger: TRIGGER          # fires this trigger: the first trigger step of a phase that
                                    # applies (its `when` and the trigger's available_when hold)
                                    # moves the case on; the steps after it are not taken
          wait_days: N              # (a trigger) days may have to pass first: whoever runs the
                                    # path lets time pass, day by day and at most N days, until
                                    # the trigger's gates hold (e.g. the minimum tender period,
                                    # the standstill), then fires it
          when: CONDITION           # only when this holds (states.conditions; the facts are the
                                    # case's attributes and its latest evidence, planned or not)
          from_case: {FIELD: FACT}  # fields that take a fact of the case instead of the example
          each: FIELD               # one record per choice of this choice field
          items:                    # a list field made from a list recorded before:
            list: FIELD             #   the list field of this record,
            of: KIND.FIELD          #   the list whose items it answers (if known),
            keep: [FIELD, ...]      #   item fields copied from there,
            set: {FIELD: VALUE}     #   item fields set on each item

Every other field of a record is its example.

A case cannot go through the whole lifecycle in one day: the law makes it wait (the tender period,
the standstill). Each runner honours a wait its own way: the tests move their frozen clock, the
benchmarks move theirs, the demo takes its cases only to phases before the first wait.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from upphandla.states.conditions import Condition, condition_problems
from upphandla.states.definition import Definition, EvidenceKind, FieldSpec, Identifier
from upphandla.states.definition_checks import known_facts
from upphandla.states.validation import Problem, problems_from


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ItemsFrom(_Strict):
    list_: Identifier = Field(alias="list")
    of: str
    keep: list[Identifier] = []
    set_: dict[Identifier, Any] = Field(default={}, alias="set")


class PathStep(_Strict):
    role: str
    record: Identifier | None = None
    trigger: Identifier | None = None
    when: Condition | None = None
    from_case: dict[Identifier, str] = {}
    each: Identifier | None = None
    items: ItemsFrom | None = None
    wait_days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _record_or_trigger(self) -> PathStep:
        if (self.record is None) == (self.trigger is None):
            raise ValueError("ett steg ska ha exakt en av record eller trigger")
        if self.record is not None and self.wait_days is not None:
            raise ValueError("wait_days hör bara till steg som gör en övergång")
        if self.trigger is not None and (self.from_case or self.each or self.items):
            raise ValueError(
                "from_case, each och items hör bara till steg som registrerar underlag"
            )
        return self


class LifecyclePath(_Strict):
    definition: str
    phases: dict[Identifier, list[PathStep]]


class PathError(Exception):
    """A lifecycle path that cannot be used, or a case it cannot take further; every problem with
    its exact place."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))


def parse_path(data: Any, definition: Definition) -> LifecyclePath:
    """Validate raw data (from YAML) into a path through `definition`, or raise PathError.
    Top-level keys starting with "x-" hold YAML anchors and are left out, as in a definition."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        path = LifecyclePath.model_validate(data)
    except ValidationError as exc:
        raise PathError(problems_from(exc)) from None
    problems = path_problems(path, definition)
    if problems:
        raise PathError(problems)
    return path


def path_problems(path: LifecyclePath, d: Definition) -> list[Problem]:
    out: list[Problem] = []
    if path.definition != d.key:
        out.append(Problem("definition", f"vägen går genom ”{path.definition}”, inte ”{d.key}”"))
    facts = known_facts(d)
    for phase, steps in path.phases.items():
        where = f"phases.{phase}"
        if phase not in d.phase:
            out.append(Problem(where, f"okänd fas ”{phase}”"))
            continue
        if not d.phase[phase].final and not any(s.trigger for s in steps):
            out.append(Problem(where, "fasen har ingen övergång som för ärendet vidare"))
        for i, step in enumerate(steps):
            out += _step_problems(d, phase, step, f"{where}[{i}]", facts)
    return out


def _step_problems(
    d: Definition, phase: str, step: PathStep, where: str, facts: dict[str, type]
) -> list[Problem]:
    out: list[Problem] = []
    if step.when is not None:
        out += condition_problems(step.when, f"{where}.when", facts)
    if step.trigger is not None:
        trigger = d.trigger.get(step.trigger)
        if trigger is None:
            return out + [Problem(f"{where}.trigger", f"okänd övergång ”{step.trigger}”")]
        if phase not in trigger.source:
            out.append(Problem(f"{where}.trigger", f"”{step.trigger}” leder inte ut ur ”{phase}”"))
        if step.role not in trigger.roles:
            out.append(Problem(f"{where}.role", f"”{step.role}” får inte utföra ”{step.trigger}”"))
        return out
    kind = d.evidence_kind.get(step.record or "")
    if kind is None:
        return out + [Problem(f"{where}.record", f"okänt underlag ”{step.record}”")]
    if kind.phases is not None and phase not in kind.phases:
        out.append(Problem(f"{where}.record", f"”{kind.id}” kan inte registreras i ”{phase}”"))
    if step.role not in kind.roles:
        out.append(Problem(f"{where}.role", f"”{step.role}” får inte registrera ”{kind.id}”"))
    return out + _data_problems(kind, step, where, facts)


def _data_problems(
    kind: EvidenceKind, step: PathStep, where: str, facts: dict[str, type]
) -> list[Problem]:
    fields = {f.name: f for f in kind.fields}
    out = [
        Problem(f"{where}.from_case.{name}", f"”{kind.id}” har inget fält ”{name}”")
        for name in step.from_case
        if name not in fields
    ] + [
        Problem(f"{where}.from_case.{name}", f"okänt faktum ”{fact}”")
        for name, fact in step.from_case.items()
        if fact not in facts
    ]
    if step.each is not None and getattr(fields.get(step.each), "type", None) != "choice":
        out.append(Problem(f"{where}.each", f"”{kind.id}” har inget valfält ”{step.each}”"))
    if step.items is not None:
        out += _items_problems(fields.get(step.items.list_), step.items, f"{where}.items", facts)
    return out


def _items_problems(
    spec: FieldSpec | None, items: ItemsFrom, where: str, facts: dict[str, type]
) -> list[Problem]:
    if spec is None or spec.type != "list":
        return [Problem(f"{where}.list", f"inget listfält ”{items.list_}”")]
    out = []
    if facts.get(items.of) is not list:
        out.append(Problem(f"{where}.of", f"”{items.of}” är inget listfält i något underlag"))
    names = {item.name for item in spec.items or []}
    out += [
        Problem(f"{where}.keep[{i}]", f"”{spec.name}” har inget fält ”{name}”")
        for i, name in enumerate(items.keep)
        if name not in names
    ] + [
        Problem(f"{where}.set.{name}", f"”{spec.name}” har inget fält ”{name}”")
        for name in items.set_
        if name not in names
    ]
    return out
