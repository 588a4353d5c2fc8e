"""Checks that count days on the legal calendar: the standstill (avtalsspärr), its extension by an
överprövning, and what the court decided; also the registry of every check about time (bounded
dates, states.checks_dates; the minimum tender period, states.checks_tender).

Only what happened after the latest award decision counts: a review filed, and the court's
decision on it, belong to the award decision they were about. A decision that orders the
procurement redone or corrected never lets the case sign on that award; the case goes back
(`court_ordered` gates the triggers that take it there) and a new award decision starts a new
standstill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.calendar import period_end
from upphandla.states.case import CaseSnapshot, Evidence, EvidenceRecord
from upphandla.states.checks_dates import DATE_CHECKS
from upphandla.states.checks_tender import TENDER_CHECKS
from upphandla.states.definition import EvidenceKind, GateSpec, Label
from upphandla.states.gates import Check, GateResult, blocked, passed
from upphandla.states.validation import Problem


class StandstillParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    days_electronic: int = Field(ge=1, le=365)
    days_other: int = Field(ge=1, le=365)
    review_kind: str | None = None  # an överprövning filed: field filed_on
    decision_kind: str | None = None  # the förvaltningsrätt's decision: decided_on, outcome
    days_after_decision: int = Field(default=10, ge=1, le=365)
    outcome_field: str = "outcome"
    # Outcomes that order the procurement redone or corrected, with what they mean.
    orders: dict[str, Label] = {}
    # While a review waits for the court: the days after filing on which to check for its decision.
    court_check_days: int | None = Field(default=None, ge=1, le=365)


def records_after(evidence: Evidence, kind: str | None, after_kind: str) -> list[EvidenceRecord]:
    """The records of `kind` recorded after the latest record of `after_kind`, oldest first."""
    if kind is None:
        return []
    latest = max((i for i, r in enumerate(evidence.records) if r.kind == after_kind), default=-1)
    return [r for r in evidence.records[latest + 1 :] if r.kind == kind]


def standstill_last_day(sent_on: date, electronic: bool, params: StandstillParams) -> date:
    """Last day of the avtalsspärr: counted from the day after sending, on the legal calendar."""
    return period_end(sent_on, params.days_electronic if electronic else params.days_other)


@dataclass(frozen=True, slots=True)
class Standstill:
    last_day: date | None  # None: no contract may be signed (see the explanation)
    explanation: str
    pending_since: date | None = None  # the filing day of a review that waits for the court
    order: str | None = None  # the court's outcome that ordered the procurement redone/corrected


def standstill_status(evidence: Evidence, params: StandstillParams) -> Standstill:
    """The standstill of the latest award decision, with the review and decision after it."""
    record = evidence.latest(params.kind)
    if record is None:
        return Standstill(None, "Tilldelningsbeslutet är inte registrerat som skickat.")
    sent_on = date.fromisoformat(record.data["sent_on"])
    last_day = standstill_last_day(sent_on, bool(record.data.get("electronic")), params)
    reviews = records_after(evidence, params.review_kind, params.kind)
    review = reviews[-1] if reviews else None
    if review is None or date.fromisoformat(review.data["filed_on"]) > last_day:
        return Standstill(last_day, f"Avtalsspärren löper till och med {last_day.isoformat()}.")
    filed_on = date.fromisoformat(review.data["filed_on"])
    decisions = records_after(evidence, params.decision_kind, review.kind)
    if not decisions:
        return Standstill(
            None,
            f"En överprövning ansöktes {filed_on.isoformat()}: avtalsspärren gäller tills "
            f"{params.days_after_decision} dagar efter förvaltningsrättens beslut.",
            pending_since=filed_on,
        )
    decision = decisions[-1]
    decided_on = date.fromisoformat(decision.data["decided_on"])
    outcome = str(decision.data.get(params.outcome_field))
    if outcome in params.orders:
        return Standstill(
            None,
            f"Förvaltningsrätten beslutade {decided_on.isoformat()} att {params.orders[outcome]}. "
            f"Avtal får inte tecknas på tilldelningsbeslutet som skickades {sent_on.isoformat()}; "
            "ärendet ska gå tillbaka, och ett nytt tilldelningsbeslut ger en ny avtalsspärr.",
            order=outcome,
        )
    last_day = max(last_day, period_end(decided_on, params.days_after_decision))
    return Standstill(
        last_day,
        f"Förvaltningsrätten avgjorde målet {decided_on.isoformat()}; avtalsspärren är förlängd efter "
        f"överprövning och löper till och med {last_day.isoformat()}.",
    )


def gate_standstill_ended(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes the day after the standstill's last day [law: LOU 20 kap.], counting an
    överprövning filed before it ended and what the court decided [§ 10.8.8.1]."""
    status = standstill_status(evidence, spec.params_as(StandstillParams))
    if status.last_day is None or today <= status.last_day:
        return blocked(spec, status.explanation)
    return passed(spec)


class CourtOrderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # the förvaltningsrätt's decision: decided_on, outcome
    award_kind: str  # the award decision the decision must follow
    outcome_field: str = "outcome"
    outcomes: list[str] = Field(min_length=1)  # the outcomes that lead this way


def gate_court_ordered(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the court's latest decision after the latest award decision has one of the
    outcomes [LOU 20 kap. 6 §]."""
    params = spec.params_as(CourtOrderParams)
    decisions = records_after(evidence, params.kind, params.award_kind)
    if not decisions:
        return blocked(
            spec,
            "Inget beslut från förvaltningsrätten är registrerat efter det senaste "
            "tilldelningsbeslutet.",
        )
    decision = decisions[-1]
    outcome = decision.data.get(params.outcome_field)
    if outcome not in params.outcomes:
        return blocked(
            spec,
            f"Förvaltningsrättens senaste beslut ({decision.data.get('decided_on')}) har "
            f"utfallet ”{outcome}”.",
        )
    return passed(spec)


def _outcome_problems(
    kinds: Mapping[str, EvidenceKind], kind: str | None, field: str, outcomes: list[str], path: str
) -> list[Problem]:
    spec = kinds.get(kind or "")
    if spec is None:
        return []
    found = next((f for f in spec.fields if f.name == field and f.type == "choice"), None)
    if found is None:
        return [Problem(path, f"”{spec.id}” har inget valfält ”{field}”")]
    return [
        Problem(path, f"”{outcome}” är inget utfall i ”{spec.id}”")
        for outcome in outcomes
        if outcome not in (found.choices or [])
    ]


def _standstill_problems(
    params: StandstillParams, path: str, kinds: Mapping[str, EvidenceKind], facts: Mapping[str, Any]
) -> list[Problem]:
    if not params.orders:
        return []
    return _outcome_problems(
        kinds, params.decision_kind, params.outcome_field, list(params.orders), f"{path}.orders"
    )


def _court_order_problems(
    params: CourtOrderParams, path: str, kinds: Mapping[str, EvidenceKind], facts: Mapping[str, Any]
) -> list[Problem]:
    return _outcome_problems(
        kinds, params.kind, params.outcome_field, params.outcomes, f"{path}.outcomes"
    )


TIME_CHECKS = {
    "standstill_ended": Check(
        gate_standstill_ended,
        StandstillParams,
        evidence_param="kind",
        kind_params=("review_kind", "decision_kind"),
        extra=_standstill_problems,
    ),
    "court_ordered": Check(
        gate_court_ordered,
        CourtOrderParams,
        evidence_param="kind",
        kind_params=("award_kind",),
        extra=_court_order_problems,
    ),
    **DATE_CHECKS,
    **TENDER_CHECKS,
}
