"""Dates that start legal periods are bounded by what the case itself recorded: a date may not lie
before the event it follows (the day the case entered its phase, or a date recorded earlier, such
as the day the award decision was sent) nor after today. Otherwise a backdated "sent on" would
move the end of the standstill into the past."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import EvidenceKind, GateSpec, Label
from upphandla.states.gates import Check, GateResult, blocked, not_applicable, passed
from upphandla.states.validation import Problem


class RecordedDate(BaseModel):
    """A date the case recorded earlier: the field of the latest record of a kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    field: str
    title: Label  # what the date is, as a reader says it: "dagen då tilldelningsbeslutet skickades"


class DateBoundParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the record whose date is bounded (its latest record)
    field: str  # its date field
    not_before_phase_entry: bool = False  # not before the day the case entered its phase
    not_before: RecordedDate | None = None  # not before a date recorded earlier
    not_after_today: bool = True


def date_bound_problems(
    params: DateBoundParams, case: CaseSnapshot, evidence: Evidence, today: date, value: date
) -> list[str]:
    """Every bound `value` breaks, each with the bound's date."""
    out = []
    if params.not_before_phase_entry and value < case.phase_entered_on:
        out.append(
            f"{value.isoformat()} ligger före den dag ärendet kom till fasen "
            f"({case.phase_entered_on.isoformat()}); datumet får inte vara tidigare."
        )
    if params.not_before is not None:
        ref = params.not_before
        record = evidence.latest(ref.kind)
        if record is None or not record.data.get(ref.field):
            out.append(f"Det finns ingen registrerad uppgift om {ref.title} att jämföra med.")
        else:
            bound = date.fromisoformat(str(record.data[ref.field]))
            if value < bound:
                out.append(
                    f"{value.isoformat()} ligger före {ref.title} ({bound.isoformat()}); "
                    "datumet får inte vara tidigare."
                )
    if params.not_after_today and value > today:
        out.append(
            f"{value.isoformat()} ligger efter dagens datum ({today.isoformat()}); datumet får "
            "inte vara senare."
        )
    return out


def gate_date_bounded(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the latest record's date lies within its bounds: not before the day the case
    entered its phase or a date it recorded earlier, not after today. Without a record there is
    nothing to bound (whether the record is required is evidence_recorded's business)."""
    params = spec.params_as(DateBoundParams)
    record = evidence.latest(params.kind)
    if record is None or not record.data.get(params.field):
        return not_applicable(spec)
    value = date.fromisoformat(str(record.data[params.field]))
    problems = date_bound_problems(params, case, evidence, today, value)
    return blocked(spec, *problems) if problems else passed(spec)


def _date_field(kinds: Mapping[str, EvidenceKind], kind: str, field: str) -> bool:
    spec = kinds.get(kind)
    return spec is not None and any(f.name == field and f.type == "date" for f in spec.fields)


def _date_bound_problems(
    params: DateBoundParams, path: str, kinds: Mapping[str, EvidenceKind], facts: Mapping[str, Any]
) -> list[Problem]:
    out = []
    if params.kind in kinds and not _date_field(kinds, params.kind, params.field):
        out.append(
            Problem(f"{path}.field", f"”{params.kind}” har inget datumfält ”{params.field}”")
        )
    ref = params.not_before
    if ref is not None and not _date_field(kinds, ref.kind, ref.field):
        out.append(Problem(f"{path}.not_before", f"”{ref.kind}” har inget datumfält ”{ref.field}”"))
    if not (params.not_before_phase_entry or ref is not None or params.not_after_today):
        out.append(Problem(path, "ange minst en gräns för datumet"))
    return out


DATE_CHECKS = {
    "date_bounded": Check(
        gate_date_bounded, DateBoundParams, evidence_param="kind", extra=_date_bound_problems
    ),
}
