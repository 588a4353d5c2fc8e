"""The plainest check: a piece of evidence is recorded, with the field values the gate asks for."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from upphandla.states.case import CaseSnapshot, Evidence
from upphandla.states.definition import GateSpec
from upphandla.states.gates import Check, GateResult, blocked, passed


class EvidenceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    where: dict[str, bool | int | str] = {}


def gate_evidence_recorded(
    case: CaseSnapshot, evidence: Evidence, today: date, spec: GateSpec
) -> GateResult:
    """Passes when the latest evidence of a kind is recorded and has the required field values."""
    params = spec.params_as(EvidenceParams)
    record = evidence.latest(params.kind)
    if record is None:
        return blocked(spec)
    wrong = [
        name
        for name, want in params.where.items()
        if not (type(record.data.get(name)) is type(want) and record.data.get(name) == want)
    ]
    if wrong:
        return blocked(
            spec, f"Det senast registrerade underlaget uppfyller inte: {', '.join(wrong)}."
        )
    return passed(spec)


EVIDENCE_CHECKS = {
    "evidence_recorded": Check(gate_evidence_recorded, EvidenceParams, evidence_param="kind"),
}
