"""Consistency of a parsed definition: every reference resolves, every name is known, every
compared value has the type of its fact. Each problem names its exact field path."""

from __future__ import annotations

from typing import Any

from upphandla.states.attributes import ATTRIBUTE_TYPES
from upphandla.states.checks import CHECKS
from upphandla.states.conditions import condition_problems
from upphandla.states.deadlines import DEADLINE_KINDS, FINDING
from upphandla.states.definition import Definition, EvidenceKind, FieldSpec, GateSpec, Trigger
from upphandla.states.examples import example_problems
from upphandla.states.gates import FIELD_TYPES
from upphandla.states.roles import ROLES, SYSTEM_ROLE
from upphandla.states.validation import Problem


def consistency_problems(d: Definition) -> list[Problem]:
    out: list[Problem] = []
    phases = {p.id for p in d.phases}
    kinds = {k.id: k for k in d.evidence_kinds}
    facts = known_facts(d)
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
        field_problems = _field_problems(k.fields, f"evidence_kinds[{i}].fields")
        # Examples are checked on fields that are sound, on the day the definition takes effect.
        out += field_problems or example_problems(k, f"evidence_kinds[{i}]", d.effective_from)
        out += _gate_problems(k.gates, f"evidence_kinds[{i}].gates", kinds, facts)
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
            out += condition_problems(t.available_when, f"{base}.available_when", facts)
        out += _gate_problems(t.gates, f"{base}.gates", kinds, facts)
        if t.fires_after is not None:
            out += _timer_problems(t, base)
    if d.reminders is not None:
        out += _reminder_problems(d, phases, kinds, facts)
    if d.contracts is not None:
        if d.contracts.kind not in kinds:
            out.append(Problem("contracts.kind", f"okänt underlag ”{d.contracts.kind}”"))
        for name in ("extension_decided_kind", "procurement_started_kind"):
            kind = getattr(d.contracts, name)
            if kind is not None and kind not in kinds:
                out.append(Problem(f"contracts.{name}", f"okänt underlag ”{kind}”"))
        decided = kinds.get(d.contracts.extension_decided_kind or "")
        if decided is not None and not any(
            f.name == "until" and f.type == "date" for f in decided.fields
        ):
            out.append(
                Problem(
                    "contracts.extension_decided_kind", f"”{decided.id}” saknar datumfältet until"
                )
            )
        if d.contracts.import_into not in phases:
            out.append(Problem("contracts.import_into", f"okänd fas ”{d.contracts.import_into}”"))
        for j, lead in enumerate(d.contracts.lead_times):
            if lead.applies_when is not None:
                out += condition_problems(
                    lead.applies_when, f"contracts.lead_times[{j}].applies_when", facts
                )
    if d.access is not None:
        out += _access_problems(d, kinds)
    return out


def _access_problems(d: Definition, kinds: dict[str, Any]) -> list[Problem]:
    """The access policy names known roles and kinds; a sealed kind is unsealed by a kind
    recorded later in the process, and only the case's upphandlare may record it."""
    policy = d.access
    assert policy is not None
    out = [
        Problem(f"access.roles.{r}", f"okänd roll ”{r}”") for r in policy.roles if r not in ROLES
    ]
    out += [
        Problem("access.roles", f"rollen ”{r}” saknas i policyn")
        for r in sorted(ROLES - set(policy.roles))
    ]
    if policy.start_for_others:
        out += _roles_problems(policy.start_for_others, "access.start_for_others", ROLES)
    a = policy.assignment
    if a is not None:
        kind = kinds.get(a.kind)
        if kind is None:
            out.append(Problem("access.assignment.kind", f"okänt underlag ”{a.kind}”"))
        elif not any(f.name == a.field and f.type == "text" for f in kind.fields):
            out.append(
                Problem("access.assignment.field", f"”{a.kind}” saknar textfältet {a.field}")
            )
        if a.role not in ROLES:
            out.append(Problem("access.assignment.role", f"okänd roll ”{a.role}”"))
    for i, sealed in enumerate(policy.sealed):
        for name in ("kind", "until"):
            if getattr(sealed, name) not in kinds:
                out.append(
                    Problem(
                        f"access.sealed[{i}].{name}", f"okänt underlag ”{getattr(sealed, name)}”"
                    )
                )
        if a is None:
            out.append(
                Problem(f"access.sealed[{i}]", "förseglade underlag kräver access.assignment")
            )
    return out


def _timer_problems(t: Trigger, base: str) -> list[Problem]:
    """A timer is fired by the system when its deadline has passed and its gates hold; nothing
    else may stop it, or the sweep would try it again and again and the case would stay put."""
    out = []
    if t.fires_after not in DEADLINE_KINDS or t.fires_after == FINDING:
        out.append(Problem(f"{base}.fires_after", f"okänd sorts frist ”{t.fires_after}”"))
    if SYSTEM_ROLE not in t.roles:
        out.append(Problem(f"{base}.roles", f"en tidsstyrd övergång behöver rollen {SYSTEM_ROLE}"))
    if t.available_when is not None:
        out.append(
            Problem(
                f"{base}.available_when",
                "en tidsstyrd övergång kan inte ha ett villkor; använd en grind med applies_when",
            )
        )
    if t.requires_comment:
        out.append(
            Problem(f"{base}.requires_comment", "en tidsstyrd övergång kan inte kräva motivering")
        )
    return out


def _reminder_problems(
    d: Definition, phases: set[str], kinds: dict[str, EvidenceKind], facts: dict[str, type]
) -> list[Problem]:
    assert d.reminders is not None
    out: list[Problem] = []
    seen: set[str] = set()
    for i, p in enumerate(d.reminders.policies):
        base = f"reminders.policies[{i}]"
        if p.deadline not in DEADLINE_KINDS:
            known = ", ".join(DEADLINE_KINDS)
            out.append(
                Problem(f"{base}.deadline", f"okänd sorts frist ”{p.deadline}”; kända: {known}")
            )
        elif p.deadline in seen:
            out.append(Problem(f"{base}.deadline", f"”{p.deadline}” förekommer flera gånger"))
        seen.add(p.deadline)
        for field, names in (("notify", p.notify), ("escalate_to", p.escalate_to)):
            out += [
                Problem(f"{base}.{field}[{j}]", f"okänd mottagare ”{r}”")
                for j, r in enumerate(names)
                if r not in ROLES and r != "creator"
            ]
        if not p.notify:
            out.append(Problem(f"{base}.notify", "minst en mottagare behövs"))
        if p.escalate_after_working_days is not None and not p.escalate_to:
            out.append(Problem(f"{base}.escalate_to", "ange vem en försenad frist eskaleras till"))
        if len(set(p.before_days)) != len(p.before_days):
            out.append(Problem(f"{base}.before_days", "samma antal dagar förekommer flera gånger"))
    wcag = d.reminders.wcag_follow_up
    if wcag is not None:
        kind = kinds.get(wcag.kind)
        if kind is None:
            out.append(Problem("reminders.wcag_follow_up.kind", f"okänt underlag ”{wcag.kind}”"))
        elif not any(f.name == wcag.date_field and f.type == "date" for f in kind.fields):
            out.append(
                Problem(
                    "reminders.wcag_follow_up.date_field",
                    f"”{wcag.kind}” har inget datumfält ”{wcag.date_field}”",
                )
            )
        out += [
            Problem(f"reminders.wcag_follow_up.phases[{j}]", f"okänd fas ”{p}”")
            for j, p in enumerate(wcag.phases)
            if p not in phases
        ]
        out += condition_problems(wcag.applies_when, "reminders.wcag_follow_up.applies_when", facts)
    rechecks = d.reminders.rechecks
    out += _gate_problems(list(rechecks), "reminders.rechecks", kinds, facts)
    for i, r in enumerate(rechecks):
        out += [
            Problem(f"reminders.rechecks[{i}].phases[{j}]", f"okänd fas ”{p}”")
            for j, p in enumerate(r.phases)
            if p not in phases
        ]
    return out


def _field_problems(fields: list[FieldSpec], path: str) -> list[Problem]:
    out: list[Problem] = []
    names = [f.name for f in fields]
    for j, f in enumerate(fields):
        if f.name in names[:j]:
            out.append(Problem(f"{path}[{j}].name", f"”{f.name}” förekommer flera gånger"))
        if f.type == "choice" and not f.choices:
            out.append(Problem(f"{path}[{j}].choices", "ett val-fält behöver choices"))
        if f.type == "list":
            if not f.items:
                out.append(Problem(f"{path}[{j}].items", "ett list-fält behöver items"))
            else:
                out += _field_problems(f.items, f"{path}[{j}].items")
                out += [
                    Problem(f"{path}[{j}].items[{n}].type", "listor kan inte nästlas")
                    for n, item in enumerate(f.items)
                    if item.type == "list"
                ]
    return out


def _gate_problems(
    gates: list[GateSpec], path: str, kinds: dict[str, EvidenceKind], facts: dict[str, type]
) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for j, g in enumerate(gates):
        gpath = f"{path}[{j}]"
        if g.id in seen:
            out.append(Problem(f"{gpath}.id", f"”{g.id}” förekommer flera gånger"))
        seen.add(g.id)
        check = CHECKS.get(g.check)
        if check is None:
            known = ", ".join(sorted(CHECKS))
            out.append(
                Problem(f"{gpath}.check", f"okänd kontrollfunktion ”{g.check}”; kända: {known}")
            )
        else:
            out += check.param_problems(g.params, f"{gpath}.params", kinds, facts)
        if g.applies_when is not None:
            out += condition_problems(g.applies_when, f"{gpath}.applies_when", facts)
    return out


def _roles_problems(roles: list[str], path: str, known: frozenset[str]) -> list[Problem]:
    if not roles:
        return [Problem(path, "minst en roll behövs")]
    return [
        Problem(f"{path}[{i}]", f"okänd roll ”{r}”") for i, r in enumerate(roles) if r not in known
    ]


def known_facts(d: Definition) -> dict[str, type]:
    """Every fact a condition may name, with the Python type of its value."""
    facts: dict[str, type] = dict(ATTRIBUTE_TYPES)
    for k in d.evidence_kinds:
        facts |= {f"{k.id}.{f.name}": FIELD_TYPES[f.type] for f in k.fields}
    return facts


# Names the lifecycle machine or its model already use; a trigger may not take them.
RESERVED_TRIGGER_IDS = frozenset({"state", "changes", "trigger", "machine"})
RESERVED_TRIGGER_PREFIXES = ("to_", "may_", "is_")


def _trigger_id_problem(trigger_id: str, path: str) -> list[Problem]:
    if trigger_id in RESERVED_TRIGGER_IDS or trigger_id.startswith(RESERVED_TRIGGER_PREFIXES):
        return [Problem(path, f"”{trigger_id}” är ett reserverat namn för en övergång")]
    return []
