"""Validation of evidence data against its kind's declared fields."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    create_model,
)

from upphandla.states.definition import EvidenceKind, FieldSpec
from upphandla.states.errors import Invalid
from upphandla.states.validation import Problem, no_control_characters, problems_from

_DATE_RANGE = (date(1900, 1, 1), date(2200, 12, 31))


def _iso_date(value: Any) -> str:
    """A calendar date written YYYY-MM-DD within a sane range, kept as that text."""
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        raise ValueError("ska vara ett datum (ÅÅÅÅ-MM-DD)")
    if not _DATE_RANGE[0] <= day <= _DATE_RANGE[1]:
        raise ValueError("datumet ligger utanför det rimliga (1900–2200)")
    return day.isoformat()


_IsoDate = Annotated[str, BeforeValidator(_iso_date)]
_Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(no_control_characters),
]


def _field_type(spec: FieldSpec) -> Any:
    if spec.type == "text":
        return _Text
    if spec.type == "bool":
        return StrictBool
    if spec.type == "int":
        return Annotated[StrictInt, Field(ge=-(10**15), le=10**15)]
    if spec.type == "date":
        return _IsoDate
    if spec.type == "list":
        assert spec.items
        item = _model_of(f"Item_{spec.name}", spec.items)
        return Annotated[list[item], Field(min_length=1, max_length=spec.max_items)]  # type: ignore[valid-type]
    assert spec.choices
    return Literal[tuple(spec.choices)]


def _model_for(kind: EvidenceKind) -> type[BaseModel]:
    return _model_for_json(kind.model_dump_json())


@lru_cache(maxsize=512)
def _model_for_json(kind_json: str) -> type[BaseModel]:
    kind = EvidenceKind.model_validate_json(kind_json)
    return _model_of(f"Evidence_{kind.id}", kind.fields)


def _model_of(name: str, specs: list[FieldSpec]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for spec in specs:
        typ = _field_type(spec)
        fields[spec.name] = (typ, ...) if spec.required else (typ | None, None)
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def validate_evidence_data(kind: EvidenceKind, data: Any) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Invalid("evidence_invalid", [Problem("data", "ska vara ett objekt")], kind=kind.id)
    try:
        parsed = _model_for(kind).model_validate(data)
    except ValidationError as exc:
        raise Invalid("evidence_invalid", problems_from(exc, ["data"]), kind=kind.id) from None
    return parsed.model_dump(mode="json", exclude_none=True)
