"""Checks that count days on the legal calendar: the standstill (avtalsspärr) and its extension
by an överprövning."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.calendar import period_end
from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed


class StandstillParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    days_electronic: int = Field(ge=1, le=365)
    days_other: int = Field(ge=1, le=365)
    review_kind: str | None = None  # an överprövning filed: field filed_on
    decision_kind: str | None = None  # the förvaltningsrätt's decision: field decided_on
    days_after_decision: int = Field(default=10, ge=1, le=365)


def standstill_last_day(sent_on: date, electronic: bool, params: StandstillParams) -> date:
    """Last day of the avtalsspärr: counted from the day after sending, on the legal calendar."""
    return period_end(sent_on, params.days_electronic if electronic else params.days_other)


def standstill_status(evidence: Evidence, params: StandstillParams) -> tuple[date | None, str]:
    """(last day of the standstill, or None while a review waits for the court; explanation)."""
    record = evidence.latest(params.kind)
    if record is None:
        return None, "Tilldelningsbeslutet är inte registrerat som skickat."
    sent_on = date.fromisoformat(record.data["sent_on"])
    last_day = standstill_last_day(sent_on, bool(record.data.get("electronic")), params)
    review = evidence.latest(params.review_kind) if params.review_kind else None
    if review is None or date.fromisoformat(review.data["filed_on"]) > last_day:
        return last_day, f"Avtalsspärren löper till och med {last_day.isoformat()}."
    decision = evidence.latest(params.decision_kind) if params.decision_kind else None
    if decision is None:
        return None, (
            "En överprövning ansöktes "
            f"{review.data['filed_on']}: avtalsspärren gäller tills {params.days_after_decision} "
            "dagar efter förvaltningsrättens beslut."
        )
    after = period_end(date.fromisoformat(decision.data["decided_on"]), params.days_after_decision)
    last_day = max(last_day, after)
    return last_day, (
        f"Avtalsspärren är förlängd efter överprövning och löper till och med {last_day.isoformat()}."
    )


def gate_standstill_ended(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes the day after the standstill's last day [law: LOU 20 kap.], counting an
    överprövning filed before it ended [§ 10.8.8.1]."""
    params = spec.params_as(StandstillParams)
    last_day, explanation = standstill_status(evidence, params)
    if last_day is None or today <= last_day:
        return blocked(spec, explanation)
    return passed(spec)


TIME_CHECKS = {
    "standstill_ended": Check(
        gate_standstill_ended,
        StandstillParams,
        evidence_param="kind",
        kind_params=("review_kind", "decision_kind"),
    ),
}
