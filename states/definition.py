"""The process definition: versioned data that says which phases a case passes, which gates hold
before each phase may be left, what evidence exists, which deadlines run and who may act."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from states.conditions import Condition
from states.roles import ROLES, SYSTEM_ROLE
from states.validation import Problem, problems_from

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    name: Identifier
    title: Label
    type: Literal["text", "bool", "int", "date", "choice"]
    required: bool = True
    choices: list[str] | None = None


class EvidenceKind(_Strict):
    id: Identifier
    title: Label
    roles: list[str]
    phases: list[str] | None = None  # where it may be recorded; None: any open phase
    fields: list[FieldSpec] = []
    description: str = ""


class Phase(_Strict):
    id: Identifier
    title: Label
    description: str = ""
    deadline_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    final: bool = False


class GateSpec(_Strict):
    id: Identifier
    title: Label
    check: Identifier
    params: dict[str, Any] = {}
    applies_when: Condition | None = None
    message: Label
    source: Label

    @cached_property
    def parsed_params(self) -> BaseModel:
        """The parameters as the check's own model, validated once per definition."""
        from states.gates import CHECKS

        return CHECKS[self.check].params.model_validate(self.params)


class Trigger(_Strict):
    id: Identifier
    title: Label
    source: list[str]
    dest: str
    roles: list[str]
    gates: list[GateSpec] = []
    available_when: Condition | None = None
    requires_comment: bool = False
    notify: list[str] = []  # roles, or "creator" for the case's beställare, told by e-mail


class Definition(_Strict):
    key: Key
    version: Annotated[int, Field(ge=1)]
    title: Label
    description: str = ""
    effective_from: date
    initial: str
    start_roles: list[str] = ["bestallare", "upphandlare", "kategoriledare"]
    phases: list[Phase]
    evidence_kinds: list[EvidenceKind]
    triggers: list[Trigger]

    @cached_property
    def phase(self) -> dict[str, Phase]:
        return {p.id: p for p in self.phases}

    @cached_property
    def trigger(self) -> dict[str, Trigger]:
        return {t.id: t for t in self.triggers}

    @cached_property
    def evidence_kind(self) -> dict[str, EvidenceKind]:
        return {k.id: k for k in self.evidence_kinds}

    def triggers_from(self, state: str) -> list[Trigger]:
        return [t for t in self.triggers if state in t.source]

    def checksum(self) -> str:
        return definition_checksum(self.model_dump(mode="json", by_alias=True))


def definition_checksum(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class DefinitionError(Exception):
    """A definition that cannot be used, with every problem and its exact path."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))


def parse_definition(data: Any) -> Definition:
    """Validate raw data (from YAML/JSON) into a Definition, or raise DefinitionError."""
    if not isinstance(data, dict):
        raise DefinitionError([Problem("(roten)", "en processdefinition ska vara ett objekt")])
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from(exc)) from None
    problems = _consistency_problems(definition)
    if problems:
        raise DefinitionError(problems)
    return definition


def _consistency_problems(d: Definition) -> list[Problem]:
    # Imported here: gate checks import this module for GateSpec.
    from states.gates import CHECKS

    out: list[Problem] = []
    phases = {p.id for p in d.phases}
    kinds = {k.id: k for k in d.evidence_kinds}
    facts = _known_facts(d)
    actor_roles = ROLES | {SYSTEM_ROLE}

    def dupes(items: list[Any], path: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                out.append(Problem(f"{path}[{i}].id", f"”{item.id}” förekommer flera gånger"))
            seen.add(item.id)

    dupes(d.phases, "phases")
    dupes(d.evidence_kinds, "evidence_kinds")
    dupes(d.triggers, "triggers")
    out += _roles_problems(d.start_roles, "start_roles", ROLES)
    if d.initial not in phases:
        out.append(Problem("initial", f"okänd fas ”{d.initial}”"))
    for i, k in enumerate(d.evidence_kinds):
        out += _roles_problems(k.roles, f"evidence_kinds[{i}].roles", actor_roles)
        out += [
            Problem(f"evidence_kinds[{i}].phases[{j}]", f"okänd fas ”{p}”")
            for j, p in enumerate(k.phases or [])
            if p not in phases
        ]
        names = [f.name for f in k.fields]
        out += [
            Problem(f"evidence_kinds[{i}].fields[{j}].name", f"”{n}” förekommer flera gånger")
            for j, n in enumerate(names)
            if n in names[:j]
        ]
        out += [
            Problem(f"evidence_kinds[{i}].fields[{j}].choices", "ett val-fält behöver choices")
            for j, f in enumerate(k.fields)
            if f.type == "choice" and not f.choices
        ]
    for i, t in enumerate(d.triggers):
        base = f"triggers[{i}]"
        out += _trigger_id_problem(t.id, f"{base}.id")
        out += [
            Problem(f"{base}.source[{j}]", f"okänd fas ”{s}”")
            for j, s in enumerate(t.source)
            if s not in phases
        ]
        out += [
            Problem(f"{base}.source[{j}]", f"”{s}” är en slutfas och kan inte lämnas")
            for j, s in enumerate(t.source)
            if s in phases and d.phase[s].final
        ]
        if t.dest not in phases:
            out.append(Problem(f"{base}.dest", f"okänd fas ”{t.dest}”"))
        if not t.source:
            out.append(Problem(f"{base}.source", "minst en fas behövs"))
        out += _roles_problems(t.roles, f"{base}.roles", actor_roles)
        out += [
            Problem(f"{base}.notify[{j}]", f"okänd mottagare ”{r}”")
            for j, r in enumerate(t.notify)
            if r not in ROLES and r != "creator"
        ]
        if t.available_when is not None:
            out += _fact_problems(t.available_when, f"{base}.available_when", facts)
        dupes(t.gates, f"{base}.gates")
        for j, g in enumerate(t.gates):
            gpath = f"{base}.gates[{j}]"
            check = CHECKS.get(g.check)
            if check is None:
                out.append(
                    Problem(
                        f"{gpath}.check",
                        f"okänd kontrollfunktion ”{g.check}”; kända: {', '.join(sorted(CHECKS))}",
                    )
                )
            else:
                out += check.param_problems(g.params, f"{gpath}.params", kinds)
            if g.applies_when is not None:
                out += _fact_problems(g.applies_when, f"{gpath}.applies_when", facts)
    return out


def _roles_problems(roles: list[str], path: str, known: frozenset[str]) -> list[Problem]:
    if not roles:
        return [Problem(path, "minst en roll behövs")]
    return [
        Problem(f"{path}[{i}]", f"okänd roll ”{r}”") for i, r in enumerate(roles) if r not in known
    ]


_FIELD_TYPES = {"text": str, "choice": str, "date": str, "bool": bool, "int": int}


def _known_facts(d: Definition) -> dict[str, type]:
    """Every fact a condition may name, with the Python type of its value."""
    from states.attributes import ATTRIBUTE_TYPES

    facts: dict[str, type] = dict(ATTRIBUTE_TYPES)
    for k in d.evidence_kinds:
        facts |= {f"{k.id}.{f.name}": _FIELD_TYPES[f.type] for f in k.fields}
    return facts


def _fact_problems(cond: Condition, path: str, facts: dict[str, type]) -> list[Problem]:
    out = [Problem(path, f"okänt faktum ”{f}”") for f in sorted(cond.facts_used() - set(facts))]
    for fact, op, value in cond.compared_values():
        want = facts.get(fact)
        if want is None:
            continue
        values = value if op == "in" else [value]
        if op in ("gte", "gt", "lte", "lt") and want is not int:
            out.append(Problem(path, f"”{fact}” är inte ett tal och kan inte jämföras med {op}"))
        elif op in ("eq", "in") and any(type(v) is not want for v in values):
            out.append(Problem(path, f"”{fact}” jämförs med ett värde av fel typ"))
    return out


# Names the lifecycle machine or its model already use; a trigger may not take them.
RESERVED_TRIGGER_IDS = frozenset({"state", "changes", "trigger", "machine"})
RESERVED_TRIGGER_PREFIXES = ("to_", "may_", "is_")


def _trigger_id_problem(trigger_id: str, path: str) -> list[Problem]:
    if trigger_id in RESERVED_TRIGGER_IDS or trigger_id.startswith(RESERVED_TRIGGER_PREFIXES):
        return [Problem(path, f"”{trigger_id}” är ett reserverat namn för en övergång")]
    return []
