"""Example values of evidence fields, and valid data for an evidence kind made from them.

A field of an evidence kind may carry an `example` in the definition. It is used as it is, except:

- a date field's example may be a day relative to the day the data is made (`day` below):
      today        the day itself
      today+N      N calendar days later (today+1095: three years on)
      today-N      N calendar days earlier (today-40)
  or a fixed date written YYYY-MM-DD;
- a list field's example is a list of item objects, whose date fields use the same notation.

A required field without an example gets a value made from its type: a text its title, a bool
true, an int 0, a choice its first choice, a date the day, a list one item made the same way from
the item fields. An optional field without an example is left out. (In a list field with an
example, the examples of its item fields are not used.)

The definition check refuses an example that does not make valid data (`example_problems`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from upphandla.states.definition import EvidenceKind, FieldSpec
from upphandla.states.errors import Invalid
from upphandla.states.evidence import validate_evidence_data
from upphandla.states.validation import Problem

RELATIVE_DAY = re.compile(r"^today(?:([+-])(\d{1,5}))?$")
DATE_EXAMPLE_MESSAGE = "ska vara ett datum (ÅÅÅÅ-MM-DD) eller today, today+N eller today-N"


def example_day(value: Any, day: date) -> Any:
    """A date example on `day`: `today±N` and dates as YYYY-MM-DD; anything else unchanged
    (validation then says what is wrong with it)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        found = RELATIVE_DAY.match(value.strip())
        if found:
            sign, days = found.groups()
            offset = int(days or 0)
            return (day + timedelta(days=-offset if sign == "-" else offset)).isoformat()
    return value


def field_value(spec: FieldSpec, value: Any, day: date) -> Any:
    """A value written for a field (an example, or a value set in its place) on `day`."""
    if spec.type == "date":
        return example_day(value, day)
    if spec.type == "list" and spec.items and isinstance(value, list):
        return [object_value(spec.items, item, day) for item in value]
    return value


def object_value(specs: list[FieldSpec], value: Any, day: date) -> Any:
    """An object of fields written with examples' notation, on `day`; keys that name no field
    are kept as they are."""
    if not isinstance(value, Mapping):
        return value
    by_name = {s.name: s for s in specs}
    return {
        name: field_value(by_name[name], v, day) if name in by_name else v
        for name, v in value.items()
    }


def example_value(spec: FieldSpec, day: date) -> Any:
    """The field's example on `day`; for a required field without one, a value of its type;
    None for an optional field without one."""
    if spec.example is not None:
        return field_value(spec, copy.deepcopy(spec.example), day)
    if not spec.required:
        return None
    if spec.type == "text":
        return spec.title
    if spec.type == "bool":
        return True
    if spec.type == "int":
        return 0
    if spec.type == "date":
        return day.isoformat()
    if spec.type == "choice":
        return (spec.choices or [""])[0]
    return [example_object(spec.items or [], day)]


def example_object(specs: list[FieldSpec], day: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        value = example_value(spec, day)
        if value is not None:
            out[spec.name] = value
    return out


def example_data(kind: EvidenceKind, day: date) -> dict[str, Any]:
    """Valid data for the kind on `day`, from its fields' examples."""
    return example_object(kind.fields, day)


# -- the definition check --------------------------------------------------------------------------
_STEP = re.compile(r"\[\d+\]|\.?([^.\[]+)")


def example_problems(kind: EvidenceKind, path: str, day: date) -> list[Problem]:
    """What is wrong with the data the kind's examples make, each problem at the path of the
    example it comes from (`path` is the kind's own, e.g. `evidence_kinds[3]`)."""
    try:
        validate_evidence_data(kind, example_data(kind, day))
    except Invalid as exc:
        return [_at_example(kind, path, p) for p in exc.problems]
    return []


def _at_example(kind: EvidenceKind, path: str, problem: Problem) -> Problem:
    """`data.parties[0].share_percent` -> `…fields[0].example[0].share_percent`, or, for a list
    made from its item fields, `…fields[0].items[3].example`. (Lists do not nest.)"""
    name, *rest = [m.group(0).lstrip(".") for m in _STEP.finditer(problem.path)][1:] or [""]
    index = next((j for j, s in enumerate(kind.fields) if s.name == name), None)
    if index is None:
        return Problem(f"{path}.fields", problem.message)
    spec = kind.fields[index]
    where = f"{path}.fields[{index}]"
    names = [p for p in rest if not p.startswith("[")]
    items = {s.name: (n, s) for n, s in enumerate(spec.items or [])}
    value_spec = items[names[0]][1] if names and names[0] in items else spec
    if spec.example is not None:
        where += ".example" + "".join(p if p.startswith("[") else f".{p}" for p in rest)
    elif names and names[0] in items:
        n, item = items[names[0]]
        where += f".items[{n}]" + (".example" if item.example is not None else "")
    message = problem.message
    if value_spec.type == "date" and message.startswith("ska vara ett datum"):
        message = DATE_EXAMPLE_MESSAGE
    return Problem(where, message)
