"""Request and response schemas of the API (separate from the stored models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from upphandla.states.validation import FreeText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(_In):
    kind: FreeText = Field(
        min_length=1, max_length=64, description="Underlagstyp i processdefinitionen"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="Underlagets fält")


class TransitionIn(_In):
    trigger: FreeText = Field(min_length=1, max_length=64)
    comment: FreeText | None = Field(default=None, max_length=5000)


class EvidenceFieldOut(BaseModel):
    name: str
    title: str
    type: Literal["text", "bool", "int", "date", "choice", "list"]
    required: bool
    choices: list[str] | None = Field(default=None, description="Tillåtna värden för ett val")
    items: list[EvidenceFieldOut] | None = Field(
        default=None, description="Fälten i varje post av en lista"
    )


class EvidenceNeedOut(BaseModel):
    """Ett underlag som skulle lyfta grinden, vem som får registrera det och dess fält."""

    kind: str = Field(description="Underlagstyp att registrera (POST …/evidence med `kind`)")
    title: str
    roles: list[str] = Field(description="Roller som får registrera underlaget")
    fields: list[EvidenceFieldOut]
    values: dict[str, Any] = Field(
        default_factory=dict, description="Värden som grinden kräver i vissa av fälten"
    )
    hint: str = Field(description="Vad som ska göras, i klartext")


SSA_NEED_EXAMPLE: dict[str, Any] = {
    "kind": "ssa_approved",
    "title": "Systemsäkerhetsanalys (SSA) godkänd",
    "roles": ["informationssakerhet"],
    "fields": [
        {
            "name": "information_class",
            "title": "Informationsklassning (högsta nivå)",
            "type": "choice",
            "required": True,
            "choices": ["1", "2", "3", "4"],
            "items": None,
        },
        {
            "name": "nis_scope",
            "title": "Omfattas av NIS",
            "type": "bool",
            "required": True,
            "choices": None,
            "items": None,
        },
    ],
    "values": {},
    "hint": "Registrera ”Systemsäkerhetsanalys (SSA) godkänd” (ssa_approved). "
    "Får registreras av Informationssäkerhet.",
}


class ReasonOut(BaseModel):
    gate: str
    message: str
    source: str
    evidence: list[EvidenceNeedOut] = Field(
        default_factory=list,
        description="Underlag som skulle lyfta grinden och som kan registreras i ärendets fas; "
        "tomt när bara tiden (eller något utanför ärendet) kan lyfta den",
    )


class GateOut(BaseModel):
    gate: str
    title: str
    applies: bool
    ok: bool
    reasons: list[ReasonOut]
    source: str
    notes: list[str] = Field(
        default=[],
        description="Vad kontrollen noterade, t.ex. att ett tröskelvärdes period har gått ut",
    )


class NextStepOut(BaseModel):
    trigger: str
    title: str
    to_state: str
    roles: list[str] = Field(description="Roller som får göra övergången")
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
    notes: list[str] = Field(
        default_factory=list,
        description="Vad underlagets grindar noterade när det registrerades, t.ex. vad en ny "
        "kravlista ändrade",
    )


class RequirementChangesOut(BaseModel):
    """Vad en ny kravlista ändrar mot den gällande, krav för krav (kravnummer)."""

    added: list[str]
    removed: list[str]
    raised: list[str] = Field(description="Börkrav som blir skakrav")
    lowered: list[str] = Field(description="Skakrav som blir börkrav")
    reworded: list[str] = Field(description="Krav med ändrad kravtext")


class RequirementsImportOut(EvidenceOut):
    changes: RequirementChangesOut | None = Field(
        description="Ändringarna mot den gällande kravlistan; null för den första listan"
    )


class ProblemOut(BaseModel):
    """Ett fel enligt RFC 9457 (application/problem+json), med svensk rubrik och beskrivning."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


class RefusalProblem(ProblemOut):
    """En övergång eller ett underlag som stoppades: varje skäl med källa och vad som lyfter det."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": "urn:upphandla:problem:transition_refused",
                "title": "Övergången stoppades av grindar",
                "status": 409,
                "detail": "Ärendet kan inte gå vidare med ”complete_ssa”: 1 villkor är inte "
                "uppfyllt.",
                "trigger": "complete_ssa",
                "reasons": [
                    {
                        "gate": "ssa_required_for_systems",
                        "message": "En godkänd systemsäkerhetsanalys (SSA) … krävs.",
                        "source": "§ 5.2.1, § 5.4.3, § 10.4.9, § 10.7.4",
                        "evidence": [SSA_NEED_EXAMPLE],
                    }
                ],
            }
        }
    )

    trigger: str | None = Field(default=None, description="Övergången som stoppades")
    kind: str | None = Field(default=None, description="Underlaget som stoppades")
    reasons: list[ReasonOut] | None = None
    changes: RequirementChangesOut | None = Field(
        default=None, description="För en kravlista: vad den skulle ha ändrat"
    )


class NotFoundProblem(ProblemOut):
    kinds: list[EvidenceNeedOut] | None = Field(
        default=None,
        description="Vid okänd underlagstyp: de underlag som kan registreras i ärendets fas",
    )


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
    # Bids (OSL 19 kap. 3 §): empty for everyone but the case's upphandlare until the award
    # decision; each read before it is logged in the case's sealed chain.
    sealed_evidence: list[EvidenceOut] = []


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
    # The sealed chain (bids and reads of them), to those who may see the bids.
    sealed_events: list[dict[str, Any]] = []


class BreakOut(BaseModel):
    """Något som inte stämmer: var (kedja, ärende, händelse, plats i loggen, fält, rad) och vad."""

    chain: Literal[
        "case",
        "sealed",
        "system",
        "log",
        "checkpoint",
        "evidence",
        "user",
        "token",
        "definition",
        "threshold",
        "sanctions",
    ] = Field(
        description="Ärendets kedja, förseglad kedja, systemkedjan, loggen, en kontrollpunkt, "
        "ett underlag, en användare, en token, en processdefinition, ett tröskelvärde eller en "
        "sanktionslista (eller en post i den)"
    )
    case_id: int | None
    seq: int | None = Field(description="Händelsen i kedjan (1, 2, …)")
    event_id: int | None = Field(description="Händelsens rad-id")
    index: int | None = Field(description="Platsen i den globala loggen")
    field: str | None = Field(description="Fältet i databasen som inte stämmer med kedjan")
    record: int | None = Field(description="Raden det gäller (användare, token, underlag)")
    problem: str
    text: str = Field(description="Allt ovan som en rad på svenska")


class CheckpointOut(BaseModel):
    origin: str
    size: int = Field(description="Antal händelser kontrollpunkten omfattar")
    root_hash: str = Field(description="Merkleträdets rot (base64), RFC 9162")


class VerifyOut(BaseModel):
    ok: bool
    cases: int
    events: int
    log_size: int = Field(description="Antal platser i den globala loggen")
    root_hash: str = Field(description="Loggens Merkleträdsrot nu (base64)")
    checkpoints: list[CheckpointOut] = Field(
        description="De signerade kontrollpunkter som loggen stämmer med"
    )
    breaks: list[BreakOut]


class ProofOut(BaseModel):
    """Bevis (RFC 9162, 2.1.3) för att en händelse ingår i loggen som en signerad kontrollpunkt
    omfattar. Bladet är SHA-256(0x00 || `entry`); en nod SHA-256(0x01 || vänster || höger)."""

    index: int
    chain: Literal["case", "sealed", "system"]
    case_id: int | None
    seq: int
    hash: str = Field(description="Händelsens hash (SHA-256 av dess innehåll, hex)")
    entry: str = Field(description="Händelsens post i loggen: kedja, ärende, sekvensnummer, hash")
    leaf_hash: str = Field(description="Bladets hash (base64)")
    tree_size: int
    root_hash: str = Field(description="Roten som kontrollpunkten anger (base64)")
    checkpoint: str = Field(description="Kontrollpunkten, signerad (C2SP signed note)")
    proof: list[str] = Field(description="Inklusionsbeviset: hashar (base64), nedifrån och upp")


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


class ProblemErrorOut(BaseModel):
    path: str = Field(description="Fältet, t.ex. `title`, `data.comment` eller `query.state`")
    message: str


class ValidationProblem(ProblemOut):
    """Ogiltiga uppgifter: `errors` anger varje fält och vad som är fel med det."""

    errors: list[ProblemErrorOut] | None = None


class AuditEventOut(BaseModel):
    """En händelse i granskningsloggen, som sökningen och exporten visar den."""

    id: int = Field(description="Händelsens nummer; stiger i den ordning händelserna skrevs")
    case_id: int
    case_title: str = Field(description="Ärendets rubrik i dag")
    seq: int = Field(description="Händelsens plats i ärendets hashkedja (1, 2, …)")
    at: datetime = Field(description="När händelsen skrevs (UTC)")
    action: str
    actor_id: int | None = Field(description="Användaren som handlade; null för systemet")
    actor_name: str | None = Field(description="Användarens namn i dag; null för systemet")
    body: str = Field(
        description="Händelsen som kanonisk JSON, exakt som den hashades: SHA-256 av texten "
        "(UTF-8) är `hash`"
    )
    hash: str = Field(description="SHA-256 (hex) av `body`")
    log_index: int | None = Field(
        description="Händelsens plats i den globala loggen; bevis: "
        "`GET /api/audit/events/{log_index}/proof`"
    )


class AuditEventPageOut(BaseModel):
    items: list[AuditEventOut]
    limit: int
    next_cursor: str | None = Field(
        description="Skicka som `cursor` för nästa sida; null när inget finns efter sidan. "
        'Samma adress finns i svarshuvudet `Link` (rel="next").'
    )
