"""Forms generated from the definition: for an evidence kind, one input per field of its
specification (label, help, type, allowed values, required), a list field as rows of its item
fields; and the posted form turned back into the evidence's data, leaving the checking to the
same validation as the API (states.evidence), whose problems are shown next to their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from upphandla.states.definition import EvidenceKind, FieldSpec
from upphandla.states.validation import Problem

LIST_ROWS = 3  # empty rows offered for a list field
_INT = re.compile(r"^-?\d+$")
_TYPE_HELP = {
    "date": "Skriv datumet som ÅÅÅÅ-MM-DD.",
    "int": "Ett heltal, utan mellanslag eller decimaler.",
}


@dataclass
class Input:
    name: str  # the form field's name
    id: str  # the element's id
    label: str
    type: str  # text, bool, int, date, choice
    required: bool
    choices: list[str]
    value: str = ""
    help: str = ""
    error: str = ""


@dataclass
class ListInput:
    name: str
    id: str
    label: str
    required: bool
    columns: list[str]
    rows: list[list[Input]]
    error: str = ""


@dataclass
class Form:
    kind: str
    title: str
    description: str
    inputs: list[Input | ListInput]
    errors: list[tuple[str, str]] = field(default_factory=list)  # (element id, message)
    reasons: list[Any] = field(default_factory=list)  # a refusal's reasons

    def input_ids(self) -> dict[str, Input | ListInput]:
        found: dict[str, Input | ListInput] = {}
        for i in self.inputs:
            found[i.name] = i
            if isinstance(i, ListInput):
                for row in i.rows:
                    found.update((c.name, c) for c in row)
        return found


def _help(spec: FieldSpec) -> str:
    parts = []
    if spec.type in _TYPE_HELP:
        parts.append(_TYPE_HELP[spec.type])
    example = spec.example
    if isinstance(example, str) and spec.type == "text":
        parts.append(f"Till exempel: {example}.")
    if not spec.required:
        parts.append("Frivilligt.")
    return " ".join(parts)


def _input(spec: FieldSpec, prefix: str, values: dict[str, list[str]]) -> Input:
    name = f"{prefix}{spec.name}"
    return Input(
        name=name,
        id=name.replace(".", "-"),
        label=spec.title,
        type=spec.type,
        required=spec.required,
        choices=list(spec.choices or []),
        value=(values.get(name) or [""])[0],
        help=_help(spec),
    )


def _rows_posted(name: str, values: dict[str, list[str]]) -> int:
    rows = {int(m.group(1)) for k in values if (m := re.match(rf"^{re.escape(name)}\.(\d+)\.", k))}
    return max(rows) + 1 if rows else 0


def evidence_form(
    kind: EvidenceKind,
    values: dict[str, list[str]] | None = None,
    *,
    prefill: dict[str, list[dict[str, Any]]] | None = None,
) -> Form:
    """The form for `kind`, with the values posted (when shown again) or the rows prefilled
    for a list field (e.g. the requirements a test round answers)."""
    given = dict(values or {})
    inputs: list[Input | ListInput] = []
    for spec in kind.fields:
        if spec.type != "list":
            inputs.append(_input(spec, f"{kind.id}.", given))
            continue
        name = f"{kind.id}.{spec.name}"
        items = spec.items or []
        rows_prefilled = (prefill or {}).get(spec.name, [])
        if not values:
            for i, item in enumerate(rows_prefilled):
                for k, v in item.items():
                    given.setdefault(f"{name}.{i}.{k}", [str(v)])
        count = max(LIST_ROWS, len(rows_prefilled), _rows_posted(name, given))
        rows = [[_input(item, f"{name}.{i}.", given) for item in items] for i in range(count)]
        inputs.append(
            ListInput(
                name,
                name.replace(".", "-"),
                spec.title,
                spec.required,
                [i.title for i in items],
                rows,
            )  # fmt: skip
        )
    return Form(kind.id, kind.title, kind.description, inputs)


def _scalar(spec: FieldSpec, raw: str) -> tuple[bool, Any]:
    """(given, value): an empty input is not given; the value is left as typed when it is not
    of the field's type, so the validation names the problem."""
    raw = raw.strip()
    if not raw:
        return False, None
    if spec.type == "bool":
        return True, {"ja": True, "nej": False}.get(raw, raw)
    if spec.type == "int":
        digits = raw.replace(" ", "").replace("\u00a0", "")
        return True, int(digits) if _INT.match(digits) else raw
    return True, raw


def evidence_data(
    kind: EvidenceKind, values: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The data the form holds, and where each list item came from (data path → form name),
    so problems can be shown at the row they are about."""
    data: dict[str, Any] = {}
    where: dict[str, str] = {}
    for spec in kind.fields:
        name = f"{kind.id}.{spec.name}"
        if spec.type != "list":
            given, value = _scalar(spec, (values.get(name) or [""])[0])
            if given:
                data[spec.name] = value
            continue
        items: list[dict[str, Any]] = []
        for row in range(_rows_posted(name, values)):
            item: dict[str, Any] = {}
            for sub in spec.items or []:
                given, value = _scalar(sub, (values.get(f"{name}.{row}.{sub.name}") or [""])[0])
                if given:
                    item[sub.name] = value
            if item:
                where[f"{spec.name}.{len(items)}"] = f"{name}.{row}"
                items.append(item)
        if items:
            data[spec.name] = items
    return data, where


def show_problems(form: Form, problems: list[Problem], where: dict[str, str]) -> None:
    """Put each problem next to its input (and in the summary at the top of the form)."""
    inputs = form.input_ids()
    for problem in problems:
        path = problem.path.removeprefix("data.").removeprefix("data")
        parts = path.split(".") if path else []
        name = f"{form.kind}.{path}" if path else ""
        if len(parts) >= 2 and ".".join(parts[:2]) in where:
            name = ".".join([where[".".join(parts[:2])], *parts[2:]])
        target = inputs.get(name) or (inputs.get(f"{form.kind}.{parts[0]}") if parts else None)
        if target is None:
            target = form.inputs[0] if form.inputs else None
        if target is None:
            form.errors.append(("", problem.message))
            continue
        message = problem.message[:1].upper() + problem.message[1:]
        target.error = f"{target.error} {message}".strip() if target.error else message
        form.errors.append((target.id, f"{target.label}: {problem.message}"))
