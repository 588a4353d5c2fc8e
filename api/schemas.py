"""Request and response schemas of the API (separate from the stored models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(_In):
    kind: str = Field(min_length=1, max_length=64, description="Underlagstyp i processdefinitionen")
    data: dict[str, Any] = Field(default_factory=dict, description="Underlagets fält")


class TransitionIn(_In):
    trigger: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=5000)


class ReasonOut(BaseModel):
    gate: str
    message: str
    source: str


class GateOut(BaseModel):
    gate: str
    title: str
    applies: bool
    ok: bool
    reasons: list[ReasonOut]
    source: str
    # What the gate says even when it passes, e.g. that it decided on a threshold amount whose
    # period has ended; left out when there is nothing to say.
    notes: list[str] = Field(default_factory=list, exclude_if=lambda notes: not notes)


class NextStepOut(BaseModel):
    trigger: str
    title: str
    to_state: str
    role_allowed: bool
    ready: bool
    requires_comment: bool
    gates: list[GateOut]


class EvidenceOut(BaseModel):
    id: int
    kind: str
    title: str
    data: dict[str, Any]
    phase: str
    recorded_by: str
    role: str
    recorded_at: datetime


class DeadlineOut(BaseModel):
    key: str
    kind: str
    phase: str
    title: str
    due_on: str
    overdue: bool
    action: str
    source: str


class FindingOut(BaseModel):
    """A gate that no longer holds on the running case, found by the sweep's re-check."""

    key: str
    title: str
    message: str
    source: str
    open: bool
    opened_at: datetime
    closed_at: datetime | None


class DefinitionRef(BaseModel):
    key: str
    version: int


class CaseSummary(BaseModel):
    id: int
    title: str
    organisation: str
    subcategory: str
    route: str
    state: str
    definition: DefinitionRef
    next_due_at: datetime | None
    overdue: bool = Field(description="Något i ärendet skulle ha varit klart före i dag")
    updated_at: datetime


class ChecklistItemOut(BaseModel):
    id: str
    title: str
    applies: bool
    included: bool
    why: str
    source: str


class ChecklistOut(BaseModel):
    case_id: int
    gate: str | None
    items: list[ChecklistItemOut]


class CaseOut(CaseSummary):
    state_title: str
    attributes: dict[str, Any]
    created_at: datetime
    evidence: list[EvidenceOut]
    deadlines: list[DeadlineOut]
    findings: list[FindingOut]
    next_steps: list[NextStepOut]


class CasePageOut(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class TransitionOut(BaseModel):
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    gates: list[GateOut]


class AuditOut(BaseModel):
    case_id: int
    events: list[dict[str, Any]]


class BreakOut(BaseModel):
    case_id: int
    seq: int | None
    event_id: int | None
    problem: str


class VerifyOut(BaseModel):
    ok: bool
    cases: int
    events: int
    breaks: list[BreakOut]


class DefinitionSummary(BaseModel):
    key: str
    version: int
    title: str
    checksum: str
    loaded_at: datetime


class HealthOut(BaseModel):
    status: str
    database: str
    prefect: Literal["off", "starting", "ok", "down"]
