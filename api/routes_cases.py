"""Cases: start, read, list, record evidence, fire transitions, read the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from upphandla.api.deps import HandlerDep, RequestId, SettingsDep, Token, command, read
from upphandla.api.present import case_out, case_summary, evidence_out, gates_out, json_response
from upphandla.api.schemas import (
    AuditOut,
    CaseOut,
    CasePageOut,
    ChecklistItemOut,
    ChecklistOut,
    EvidenceIn,
    EvidenceOut,
    NotFoundProblem,
    RefusalProblem,
    TransitionIn,
    TransitionOut,
)
from upphandla.flows.access import SealedView
from upphandla.flows.commands.cases import Advance, RecordEvidence, StartCase
from upphandla.flows.commands.sealed import LogSealedRead
from upphandla.flows.handler import Handler
from upphandla.flows.views import cases as queries
from upphandla.states.attributes import CaseAttributes, Subcategory
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

router = APIRouter(prefix="/api/cases", tags=["ärenden"])
CaseId = Annotated[int, Path(ge=1, le=2**53, description="Ärendets nummer")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Inloggning krävs"},
    403: {"description": "Rollen saknar behörighet"},
    404: {
        "description": "Finns inte; vid okänd underlagstyp anger `kinds` vad som kan "
        "registreras i ärendets fas",
        "model": NotFoundProblem,
    },
    409: {
        "description": "Stoppad av grindar eller fel fas; `reasons` anger varför, med källa, och "
        "`evidence` i varje skäl vilket underlag som lyfter grinden, vem som får registrera det "
        "och dess fält",
        "model": RefusalProblem,
    },
    422: {"description": "Ogiltiga uppgifter; `errors` anger fält och fel"},
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseOut, responses=ERRORS)
async def start_case(
    body: CaseAttributes,
    token: Token,
    handler: HandlerDep,
    settings: SettingsDep,
    request_id: RequestId,
) -> Response:
    """Starta ett ärende med dess uppgifter; reglerna hänger på dem."""
    attributes = body.model_dump()

    def start(actor: Actor) -> StartCase:
        return StartCase(
            actor=actor,
            attributes=attributes,
            definition_key=settings.default_definition,
            request_id=request_id,
        )

    case_id = (await command(handler, token, start)).result.case_id
    # What was just committed, as the person who started it sees it.
    view = await read(handler, token, lambda uow, actor: _case(uow, handler, actor, case_id))
    return json_response(view, status_code=201, Location=f"/api/cases/{case_id}")


def _case(uow: UnitOfWork, handler: Handler, actor: Actor, case_id: int) -> CaseOut:
    return case_out(queries.get_case(uow, registry=handler.registry, actor=actor, case_id=case_id))


@router.get("", response_model=CasePageOut, responses=ERRORS)
async def list_cases(
    token: Token,
    handler: HandlerDep,
    state: Annotated[str | None, Query(max_length=64)] = None,
    subcategory: Subcategory | None = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CasePageOut:
    """Lista ärenden, filtrerade på fas, underkategori eller organisation."""

    def page(uow: UnitOfWork, actor: Actor) -> CasePageOut:
        found = queries.list_cases(
            uow,
            registry=handler.registry,
            actor=actor,
            state=state,
            subcategory=subcategory,
            organisation=organisation,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )
        return CasePageOut(
            items=[case_summary(r) for r in found.items],
            total=found.total,
            limit=found.limit,
            offset=found.offset,
        )

    return await read(handler, token, page)


@router.get("/{case_id}", response_model=CaseOut, responses=ERRORS)
async def get_case(
    case_id: CaseId, token: Token, handler: HandlerDep, request_id: RequestId
) -> Response:
    """Ärendet med underlag, tidsfrister och, för varje möjlig övergång, vad grindarna säger.
    Anbud visas före tilldelningsbeslutet bara för ärendets ansvariga upphandlare, och varje
    sådan läsning loggas (OSL 19 kap. 3 §)."""
    view = await read(
        handler,
        token,
        lambda uow, actor: queries.get_case(
            uow, registry=handler.registry, actor=actor, case_id=case_id
        ),
    )
    await _log_early_read(handler, token, case_id, view.sealed, "ärendet", request_id)
    return json_response(case_out(view))


async def _log_early_read(
    handler: Handler,
    token: str,
    case_id: int,
    sealed: SealedView,
    through: str,
    request_id: str | None,
) -> None:
    """Log a read of sealed evidence before it is unsealed, before the answer goes out."""
    if not sealed.early:
        return

    def log(actor: Actor) -> LogSealedRead:
        return LogSealedRead(
            actor=actor,
            case_id=case_id,
            kinds=sealed.kinds,
            count=len(sealed.rows),
            through=through,
            request_id=request_id,
        )

    await command(handler, token, log, case_id=case_id)


@router.post(
    "/{case_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    responses=ERRORS,
)
async def record_evidence(
    case_id: CaseId,
    body: EvidenceIn,
    token: Token,
    handler: HandlerDep,
    request_id: RequestId,
) -> Response:
    """Registrera ett underlag (t.ex. godkänd SSA eller undertecknat PUB-avtal)."""

    def record(actor: Actor) -> RecordEvidence:
        return RecordEvidence(
            actor=actor, case_id=case_id, kind=body.kind, data=body.data, request_id=request_id
        )

    outcome = await command(handler, token, record, case_id=case_id)
    return json_response(evidence_out(outcome.result), status_code=201)


@router.post("/{case_id}/transitions", response_model=TransitionOut, responses=ERRORS)
async def fire_transition(
    case_id: CaseId,
    body: TransitionIn,
    token: Token,
    handler: HandlerDep,
    request_id: RequestId,
) -> Response:
    """Gör en övergång. Stoppas den av grindar svarar tjänsten 409 med alla skäl och källor."""

    def advance(actor: Actor) -> Advance:
        return Advance(
            actor=actor,
            case_id=case_id,
            trigger=body.trigger,
            comment=body.comment,
            request_id=request_id,
        )

    decision = (await command(handler, token, advance, case_id=case_id)).result
    return json_response(
        TransitionOut(
            case_id=case_id,
            trigger=decision.trigger,
            from_state=decision.from_state,
            to_state=decision.to_state,
            gates=gates_out(decision.gate_results),
        )
    )


@router.get("/{case_id}/audit", response_model=AuditOut, responses=ERRORS)
async def case_audit(
    case_id: CaseId, token: Token, handler: HandlerDep, request_id: RequestId
) -> AuditOut:
    """Ärendets granskningslogg, äldst först, med varje händelses hash; anbudens förseglade
    kedja för den som får se anbuden."""
    view = await read(
        handler,
        token,
        lambda uow, actor: queries.case_audit(
            uow, registry=handler.registry, actor=actor, case_id=case_id
        ),
    )
    await _log_early_read(handler, token, case_id, view.sealed, "granskningsloggen", request_id)
    return AuditOut(case_id=case_id, events=view.events, sealed_events=view.sealed_events)


@router.get("/{case_id}/checklist", response_model=ChecklistOut, responses=ERRORS)
async def case_checklist(case_id: CaseId, token: Token, handler: HandlerDep) -> ChecklistOut:
    """Kravlistan för ärendet: varje punkt med skäl och källa, om den gäller och om den ingår."""
    view = await read(
        handler,
        token,
        lambda uow, actor: queries.case_checklist(
            uow, registry=handler.registry, actor=actor, case_id=case_id
        ),
    )
    return ChecklistOut(
        case_id=case_id,
        gate=view.gate,
        items=[
            ChecklistItemOut(
                id=e.item.id,
                title=e.item.title,
                applies=e.applies,
                included=e.included,
                why=e.item.why,
                source=e.item.source,
            )
            for e in view.entries
        ],
    )
