"""Documentation generated from a process definition: the rules as Markdown and the lifecycle as a
Mermaid state diagram. Pure functions of the definition: no IO, no dates, stable order."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from upphandla.states.checks import CHECKS
from upphandla.states.definition import (
    Definition,
    EvidenceKind,
    FieldSpec,
    GateSpec,
    Phase,
    Trigger,
)
from upphandla.states.docs_access import access_section
from upphandla.states.docs_reminders import reminders_section
from upphandla.states.docs_time import TIME_DESCRIBERS
from upphandla.states.roles import ROLE_NAMES, SYSTEM_ROLE

REGENERATE = "upphandla definition docs"
NONE = "—"
_ROLE_NAMES = {**ROLE_NAMES, SYSTEM_ROLE: "Systemet"}
_FIELD_TYPES = {
    "text": "text",
    "bool": "ja/nej",
    "int": "heltal",
    "date": "datum",
    "choice": "val",
    "list": "lista",
}
# Words Mermaid's state diagrams reserve; a phase with such an id gets a suffixed node id.
_MERMAID_RESERVED = frozenset({"state", "note", "end", "direction", "class", "classdef", "style"})

_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_GATE_HEAD = ["Grind", "Gäller när", "Kontrollerar", "Meddelande", "Källa"]
_TRIGGER_HEAD = ["Övergång", "Till fas", "Vem får göra den", "Erbjuds när", *_GATE_HEAD]
_FIELD_HEAD = ["Fält", "Rubrik", "Typ", "Obligatoriskt", "Val / poster"]


# -- Mermaid --------------------------------------------------------------------------------------
def lifecycle_mermaid(definition: Definition) -> str:
    """The lifecycle as `stateDiagram-v2`: one node per phase, one edge per (source, trigger)."""
    lines = [
        "stateDiagram-v2",
        f"    %% Genereras från processdefinitionen {definition.key} version "
        f"{definition.version}: ändra inte för hand; kör {REGENERATE}",
    ]
    lines += [f'    state "{_mermaid_text(p.title)}" as {_node(p.id)}' for p in definition.phases]
    lines.append(f"    [*] --> {_node(definition.initial)}")
    for t in definition.triggers:
        for source in t.source:
            lines.append(f"    {_node(source)} --> {_node(t.dest)} : {_mermaid_text(t.title)}")
    lines += [f"    {_node(p.id)} --> [*]" for p in definition.phases if p.final]
    return "\n".join(lines) + "\n"


def _node(phase_id: str) -> str:
    return f"{phase_id}_fas" if phase_id.lower() in _MERMAID_RESERVED else phase_id


def _mermaid_text(text: str) -> str:
    return _flat(text).replace("#", "#35;").replace('"', "#quot;").replace(";", "#59;")


# -- Markdown -------------------------------------------------------------------------------------
def rules_markdown(definition: Definition) -> str:
    """Every rule of the definition in Swedish: phases, transitions, gates and evidence kinds."""
    d = definition
    out = [
        f"# {d.title} (`{d.key}` version {d.version}, gäller från {d.effective_from.isoformat()})",
        "",
        f"> Genereras från processdefinitionen `{d.key}` version {d.version}: ändra inte för "
        f"hand; kör `{REGENERATE}`.",
        "",
    ]
    if d.description.strip():
        out += [_paragraph(d.description), ""]
    out += [
        f"Ett ärende börjar i fasen {_phase_ref(d, d.initial)} och startas av: "
        f"{_roles(d.start_roles)}.",
        "",
        "## Livscykel",
        "",
        "```mermaid",
        lifecycle_mermaid(d).rstrip("\n"),
        "```",
        "",
        "## Faser",
        "",
    ]
    for number, phase in enumerate(d.phases, start=1):
        out += _phase_section(d, number, phase)
    out += reminders_section(d)
    out += access_section(d)
    out += ["## Underlag", ""]
    if not d.evidence_kinds:
        out += ["Definitionen har inga underlag.", ""]
    for kind in d.evidence_kinds:
        out += _evidence_section(d, kind)
    return "\n".join(out).rstrip("\n") + "\n"


def _phase_section(d: Definition, number: int, phase: Phase) -> list[str]:
    out = [f"### {number}. {phase.title} (`{phase.id}`)", ""]
    if phase.description.strip():
        out += [_paragraph(phase.description), ""]
    facts = []
    if phase.id == d.initial:
        facts.append("Startfas: ett nytt ärende börjar här.")
    if phase.final:
        facts.append("Slutfas: ärendet lämnar aldrig fasen.")
    elif phase.deadline_days is not None:
        facts.append(
            f"Tidsfrist: {phase.deadline_days} dagar, räknat från dagen efter att ärendet kom in "
            "i fasen; är sista dagen inte en arbetsdag gäller nästa arbetsdag."
        )
    out += [f"- {fact}" for fact in facts]
    if facts:
        out.append("")
    triggers = d.triggers_from(phase.id)
    if not triggers:
        return [*out, "Inga övergångar leder ut ur fasen.", ""]
    rows = [row for t in triggers for row in _trigger_rows(d, t)]
    return [*out, "Övergångar ut ur fasen:", "", *_table(_TRIGGER_HEAD, rows), ""]


def _trigger_rows(d: Definition, t: Trigger) -> list[list[str]]:
    title = f"{t.title} (`{t.id}`)"
    if t.requires_comment:
        title += "; kräver motivering"
    if t.notify:
        title += "; e-post till: " + ", ".join(_recipient(r) for r in t.notify)
    if t.fires_after:
        title += f"; tidsstyrd: systemet gör övergången dagen efter `{t.fires_after}`"
    offered = t.available_when.describe() if t.available_when is not None else "alltid"
    lead = [title, _phase_ref(d, t.dest), _roles(t.roles), offered]
    if not t.gates:
        return [[*lead, "inga grindar", NONE, NONE, NONE, NONE]]
    return [[*lead, *_gate_cells(d, g)] for g in t.gates]


def _evidence_section(d: Definition, kind: EvidenceKind) -> list[str]:
    out = [f"### {kind.title} (`{kind.id}`)", ""]
    if kind.description.strip():
        out += [_paragraph(kind.description), ""]
    where = (
        ", ".join(_phase_ref(d, p) for p in kind.phases)
        if kind.phases is not None
        else "alla faser som inte är slutfaser"
    )
    out += [f"- Registreras av: {_roles(kind.roles)}.", f"- Kan registreras i: {where}."]
    if kind.records_mandate:
        out.append("- Registrerarens mandat enligt delegationsordningen sparas med underlaget.")
    out.append("")
    if kind.fields:
        rows = [_field_row(f) for f in kind.fields]
        out += ["Fält:", "", *_table(_FIELD_HEAD, rows), ""]
    else:
        out += ["Underlaget har inga fält.", ""]
    if kind.gates:
        rows = [_gate_cells(d, g) for g in kind.gates]
        out += ["Grindar när underlaget registreras:", "", *_table(_GATE_HEAD, rows), ""]
    return out


def _field_row(f: FieldSpec) -> list[str]:
    return [f"`{f.name}`", f.title, _field_type(f), "ja" if f.required else "nej", _field_extra(f)]


def _field_type(f: FieldSpec) -> str:
    return _FIELD_TYPES.get(f.type, f.type)


def _field_extra(f: FieldSpec) -> str:
    if f.choices:
        return ", ".join(f"`{c}`" for c in f.choices)
    if f.items:
        items = []
        for item in f.items:
            extra = [_field_type(item)] + ([] if item.required else ["frivilligt"])
            if item.choices or item.items:
                extra.append(_field_extra(item))
            items.append(f"`{item.name}` {item.title} ({', '.join(extra)})")
        return f"högst {f.max_items} poster med: " + "; ".join(items)
    return NONE


# -- gates ----------------------------------------------------------------------------------------
def _gate_cells(d: Definition, g: GateSpec) -> list[str]:
    applies = g.applies_when.describe() if g.applies_when is not None else "alltid"
    return [f"{g.title} (`{g.id}`)", applies, describe_check(d, g), g.message, g.source]


def describe_check(d: Definition, g: GateSpec) -> str:
    """The check's name and, in Swedish, what it requires with this gate's parameters."""
    describer = _DESCRIBERS.get(g.check)
    text = None
    if describer is not None:
        try:
            text = describer(d, g.params_as(CHECKS[g.check].params))
        except (KeyError, AttributeError, TypeError, ValueError):
            text = None
    return f"`{g.check}`: {text if text is not None else _generic(g.params)}"


def _generic(params: Mapping[str, Any]) -> str:
    if not params:
        return "kontrollen har inga parametrar"
    shown = ", ".join(f"{k}={_compact(v)}" for k, v in params.items())
    return f"kontrollen med parametrarna {shown}"


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))


def _evidence_recorded(d: Definition, params: Any) -> str:
    kind = d.evidence_kind[params.kind]
    text = f"underlaget ”{kind.title}” är registrerat"
    if params.where:
        titles = {f.name: f.title for f in kind.fields}
        wants = [f"”{titles.get(n, n)}” = {_value(v)}" for n, v in params.where.items()]
        text += " och det senast registrerade har " + " och ".join(wants)
    return text


def _standstill_ended(d: Definition, params: Any) -> str:
    kind = d.evidence_kind[params.kind]
    text = (
        f"avtalsspärren har löpt ut: {params.days_electronic} dagar om ”{kind.title}” skickades "
        f"elektroniskt, annars {params.days_other} dagar, räknat från dagen efter utskicket"
    )
    if params.orders:
        text += "; aldrig när förvaltningsrätten har beslutat att " + " eller att ".join(
            params.orders.values()
        )
    return text


def _values(params: Any) -> str:
    """The case's values a money check reads, latest step first (states.values)."""
    return ", ".join(f"{v.title} (`{v.fact}`)" for v in params.values)


def _kind_title(d: Definition, kind_id: str) -> str:
    kind = d.evidence_kind.get(kind_id)
    return f"”{kind.title}”" if kind is not None else f"`{kind_id}`"


def _value_below_threshold(d: Definition, params: Any) -> str:
    text = (
        f"varje värde ärendet registrerat av {_values(params)} understiger beloppet i "
        f"tröskelvärdesserien `{params.series}` som gäller den dag kontrollen görs"
    )
    if params.phases is not None:
        text += " (kontrolleras i faserna " + ", ".join(f"`{p}`" for p in params.phases) + ")"
    if params.count_similar_when and params.similar_kind:
        text += (
            f"; när `{params.count_similar_when}` är ja räknas ärendets värde för steget "
            "tillsammans med andra ärenden på samma väg och underkategori i hela kommunen: de som "
            f"undertecknats ({_kind_title(d, params.similar_kind)}) de senaste tolv månaderna och "
            "de som pågår utan att vara undertecknade (faserna "
            + ", ".join(f"`{p}`" for p in params.in_progress_phases)
            + ")"
        )
        if params.cancelled_phases:
            text += (
                ", inte de som avbrutits ("
                + ", ".join(f"`{p}`" for p in params.cancelled_phases)
                + ")"
            )
    return text


def _mandate_covers_value(d: Definition, params: Any) -> str:
    text = (
        f"mandatet som sparats med {_kind_title(d, params.kind)} täcker ärendets värde för "
        f"steget, det första som är registrerat av {_values(params)}"
    )
    if params.amendment_kind:
        text += (
            f", som det var före första {_kind_title(d, params.amendment_kind)}, plus alla "
            "ändringars värde netto"
        )
    return text


def _amendment_within_limits(d: Definition, params: Any) -> str:
    caps = ", ".join(f"`{g}` högst {p} %" for g, p in params.cap_percent.items())
    text = (
        f"nettosumman av alla {_kind_title(d, params.kind)} med grunden "
        f"`{params.no_other_ground}` understiger {params.share_limit_percent} % av avtalets värde "
        f"före första ändringen (det första registrerade av {_values(params)}) och beloppet i "
        f"tröskelvärdesserien `{params.series}` som gäller den dag kontrollen görs; en annan grund "
        f"kräver `{params.reason_field}`"
    )
    return text + (f"; tak per ändring av avtalets värde: {caps}" if caps else "")


def _correction_explained(d: Definition, params: Any) -> str:
    return (
        f"ett nytt {_kind_title(d, params.kind)} med annat `{params.field}` än det förra anger "
        f"`{params.reason_field}`"
    )


def _field_title(d: Definition, fact: str) -> str:
    kind_id, _, name = fact.partition(".")
    kind = d.evidence_kind[kind_id]
    field = next(f for f in kind.fields if f.name == name)
    return f"”{field.title}” i ”{kind.title}”"


def _similar(d: Definition, params: Any) -> str:
    text = f"ett liknande namn (likhet minst {params.min_score} av 100)"
    if params.clearance_kind:
        text += f" som inte är klarerat i ”{d.evidence_kind[params.clearance_kind].title}”"
    return text


def _sanctions_clear(d: Definition, params: Any) -> str:
    text = (
        f"i senaste ”{d.evidence_kind[params.kind].title}” har den vinnande leverantören "
        f"(`{params.supplier_relation}`) och varje part över {params.share_limit_percent} % "
        "lämnat försäkran, och ingen av dem finns på den senast inlästa sanktionslistan med samma "
        f"organisationsnummer, samma namn eller {_similar(d, params)}"
    )
    if params.winner_facts:
        winners = ", ".join(_field_title(d, f) for f in params.winner_facts)
        text += f"; den vinnande leverantören enligt {winners} är försäkrans leverantör"
    return text


def _suppliers_not_sanctioned(d: Definition, params: Any) -> str:
    where = [f"”{d.evidence_kind[k].title}”" for k in params.kinds]
    if params.declaration_kind:
        where.append(f"”{d.evidence_kind[params.declaration_kind].title}”")
    return (
        f"ingen leverantör eller part i {', '.join(where)} finns på den senast inlästa "
        f"sanktionslistan med samma organisationsnummer, samma namn eller {_similar(d, params)}"
    )


def _sanctions_match_clearable(d: Definition, params: Any) -> str:
    return (
        "parten och det listade namnet är en möjlig träff på den senast inlästa sanktionslistan "
        f"(likhet minst {params.min_score} av 100), inte samma namn eller organisationsnummer"
    )


_DESCRIBERS: dict[str, Callable[[Definition, BaseModel], str]] = {
    "evidence_recorded": _evidence_recorded,
    "standstill_ended": _standstill_ended,
    "value_below_threshold": _value_below_threshold,
    **TIME_DESCRIBERS,
    "mandate_covers_value": _mandate_covers_value,
    "amendment_within_limits": _amendment_within_limits,
    "correction_explained": _correction_explained,
    "sanctions_clear": _sanctions_clear,
    "suppliers_not_sanctioned": _suppliers_not_sanctioned,
    "sanctions_match_clearable": _sanctions_match_clearable,
}


# -- small pieces ---------------------------------------------------------------------------------
def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = [_row(head), "|" + "|".join("---" for _ in head) + "|"]
    return lines + [_row(r) for r in rows]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    flat = _flat(text)
    return flat.replace("|", "\\|") if flat else NONE


def _paragraph(text: str) -> str:
    return _flat(text)


def _flat(text: str) -> str:
    """One line, runs of ordinary whitespace as one space; no-break spaces are kept."""
    return _SPACES.sub(" ", str(text)).strip(" ")


def _phase_ref(d: Definition, phase_id: str) -> str:
    phase = d.phase.get(phase_id)
    return f"{phase.title} (`{phase_id}`)" if phase is not None else f"`{phase_id}`"


def _roles(roles: list[str]) -> str:
    return ", ".join(_ROLE_NAMES.get(r, r) for r in roles) if roles else NONE


def _recipient(role: str) -> str:
    return "ärendets beställare" if role == "creator" else _ROLE_NAMES.get(role, role)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return f"”{value}”" if isinstance(value, str) else str(value)
