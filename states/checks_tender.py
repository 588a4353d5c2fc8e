"""The minimum tender period: a tender may not be closed (and no tender opened) before the shortest
period the law allows has run from the day the notice was sent for publication.

Above the EU threshold the law sets the minimum per procedure (open procedure: 35 days, 30 when
tenders may be submitted electronically); below it tenderers must have a reasonable time, which
the definition gives as the municipality's own minimum. Both are effective-dated data with their
source in the definition, chosen by the day the notice was sent. Whether the case lies above the
threshold is decided on its recorded value against the threshold series in force that day
(states.thresholds). The period is counted from the day after sending and, like every period on
the legal calendar, runs to the next working day when its last day is not one; the tender may be
closed the day after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.calendar import period_end
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import EvidenceKind, GateSpec, Label
from upphandla.states.gates import Check, GateResult, blocked, passed
from upphandla.states.thresholds import ThresholdEntry, ThresholdSeries, in_force
from upphandla.states.validation import Problem
from upphandla.states.values import ValueFact, value_of_step, value_problems


class TenderPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    effective_from: date = Field(alias="from")
    procedure: str | None = None  # the procedure it applies to; None: every procedure
    days: int = Field(ge=1, le=365)
    days_electronic: int = Field(ge=1, le=365)  # when tenders may be submitted electronically
    source: Label


class TenderPeriodParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the notice sent for publication: fields sent_on, procedure, electronic
    # The case's recorded values, latest step first (states.values): before the tender closes,
    # the estimate given at the start.
    values: list[ValueFact] = Field(min_length=1)
    series: str  # the EU threshold's series (states.thresholds)
    above_threshold: list[TenderPeriod] = Field(min_length=1)
    below_threshold: list[TenderPeriod] = Field(min_length=1)


def period_on(periods: list[TenderPeriod], procedure: str, day: date) -> TenderPeriod | None:
    """The entry in force on `day` for the procedure: the latest that has begun."""
    begun = [
        p
        for p in periods
        if p.effective_from <= day and (p.procedure is None or p.procedure == procedure)
    ]
    return max(begun, key=lambda p: p.effective_from) if begun else None


@dataclass(frozen=True, slots=True)
class TenderStatus:
    last_day: date | None  # the last day of the minimum period; None: it cannot be worked out
    explanation: str
    notes: tuple[str, ...] = ()


def tender_status(
    case: CaseSnapshot, evidence: Evidence, params: TenderPeriodParams
) -> TenderStatus:
    record = evidence.latest(params.kind)
    if record is None:
        return TenderStatus(None, "Annonsen är inte registrerad som skickad för publicering.")
    sent_on = date.fromisoformat(str(record.data["sent_on"]))
    if sent_on < case.phase_entered_on:
        return TenderStatus(
            None,
            f"Den senast registrerade annonsen skickades {sent_on.isoformat()}, före den dag "
            f"ärendet kom till fasen ({case.phase_entered_on.isoformat()}); registrera annonsen "
            "för den här annonseringen.",
        )
    entries: tuple[ThresholdEntry, ...] = case.found(ThresholdSeries(params.series))
    threshold = in_force(entries, sent_on)
    if threshold is None:
        return TenderStatus(
            None,
            f"Inget belopp för EU:s tröskelvärde ({params.series}) gäller för "
            f"{sent_on.isoformat()}; en administratör behöver lägga in det.",
        )
    note = threshold.note()
    notes = (note,) if note else ()
    value = value_of_step(params.values, case.facts(evidence))
    if value is None:
        return TenderStatus(None, "Ärendet har inget registrerat värde att pröva.", notes)
    above = value.amount >= threshold.amount_sek
    procedure = str(record.data["procedure"])
    period = period_on(
        params.above_threshold if above else params.below_threshold, procedure, sent_on
    )
    band = "når" if above else "understiger"
    compared = f"{value.describe()} {band} EU:s tröskelvärde {threshold.describe()}"
    if period is None:
        return TenderStatus(
            None,
            f"{compared}, och definitionen anger ingen minsta anbudstid för förfarandet "
            f"”{procedure}” den {sent_on.isoformat()}.",
            notes,
        )
    electronic = bool(record.data.get("electronic"))
    days = period.days_electronic if electronic else period.days
    last_day = period_end(sent_on, days)
    how = "elektroniskt" if electronic else "inte elektroniskt"
    return TenderStatus(
        last_day,
        f"Annonsen skickades för publicering {sent_on.isoformat()} (förfarande ”{procedure}”, "
        f"anbud lämnas {how}). {compared}, så anbudstiden är minst {days} dagar "
        f"({period.source}) och löper till och med {last_day.isoformat()}.",
        notes,
    )


def gate_tender_period_ended(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes the day after the last day of the minimum tender period [LOU 11 kap. 2 §, 6 §;
    19 kap. 11 §]."""
    status = tender_status(case, evidence, spec.params_as(TenderPeriodParams))
    if status.last_day is None:
        return blocked(spec, status.explanation, notes=status.notes)
    if today <= status.last_day:
        first = status.last_day + timedelta(days=1)
        return blocked(
            spec,
            status.explanation,
            f"Anbudstiden kan stängas tidigast {first.isoformat()}.",
            notes=status.notes,
        )
    return passed(spec, notes=status.notes)


def threshold_lookup(
    spec: GateSpec, case: CaseSnapshot, evidence: Evidence, today: date
) -> ThresholdSeries:
    return ThresholdSeries(spec.params_as(TenderPeriodParams).series)


def _tender_problems(
    params: TenderPeriodParams,
    path: str,
    kinds: Mapping[str, EvidenceKind],
    facts: Mapping[str, Any],
) -> list[Problem]:
    out = value_problems(params.values, f"{path}.values", facts)
    kind = kinds.get(params.kind)
    if kind is None:
        return out
    fields = {f.name: f for f in kind.fields}
    for name, type_ in (("sent_on", "date"), ("procedure", "choice"), ("electronic", "bool")):
        if name not in fields or fields[name].type != type_:
            out.append(Problem(f"{path}.kind", f"”{kind.id}” saknar fältet {name} ({type_})"))
    choices = set(fields["procedure"].choices or []) if "procedure" in fields else set()
    for band in ("above_threshold", "below_threshold"):
        for i, period in enumerate(getattr(params, band)):
            if period.procedure is not None and period.procedure not in choices:
                out.append(
                    Problem(
                        f"{path}.{band}[{i}].procedure",
                        f"”{period.procedure}” är inget förfarande i ”{kind.id}”",
                    )
                )
    return out


TENDER_CHECKS = {
    "tender_period_ended": Check(
        gate_tender_period_ended,
        TenderPeriodParams,
        evidence_param="kind",
        extra=_tender_problems,
        lookup=threshold_lookup,
    ),
}
