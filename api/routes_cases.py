"""Cases: start, read, list, record evidence, fire transitions, read the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from upphandla.api.deps import (
    HandlerDep,
    IdempotencyDep,
    IfMatchDep,
    RequestId,
    SettingsDep,
    Token,
    answer,
    command,
    read,
)
from upphandla.api.present import (
    case_out,
    case_summary,
    evidence_out,
    gates_out,
    json_response,
    reply,
)
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
from upphandla.flows.auth import Presented
from upphandla.flows.commands.cases import (
    Advance,
    CaseRef,
    RecordedEvidence,
    RecordEvidence,
    StartCase,
)
from upphandla.flows.commands.sealed import LogSealedRead
from upphandla.flows.handler import Handler
from upphandla.flows.idempotency import Reply
from upphandla.flows.views import cases as queries
from upphandla.states.attributes import CaseAttributes, Subcategory
from upphandla.states.engine import Decision
from upphandla.states.preconditions import etag
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
# Reads: a list answers only what every operation may (api.openapi); a case that may not be
# read is one that does not exist.
LIST_ERRORS: dict[int | str, dict[str, Any]] = {s: ERRORS[s] for s in (401, 422)}
READ_ERRORS: dict[int | str, dict[str, Any]] = {s: ERRORS[s] for s in (401, 404, 422)}
# Writes: the case's new ETag comes back; Idempotency-Key (every POST) and If-Match (a change
# to a case) are honoured.
ETAG = {"ETag": {"description": "Ärendets version", "schema": {"type": "string"}}}
LOCATION = {"Location": {"description": "Ärendets adress", "schema": {"type": "string"}}}
IDEMPOTENT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {
        "description": "Ogiltiga uppgifter; `errors` anger fält och fel. Även: samma "
        "Idempotency-Key användes för en annan begäran"
    },
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **IDEMPOTENT_ERRORS,
    412: {
        "description": "Ärendet har ändrats sedan versionen i If-Match (eller If-Match är "
        "ogiltig); inget ändrades"
    },
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseOut,
    responses={**IDEMPOTENT_ERRORS, 201: {"headers": {**ETAG, **LOCATION}}},
)
async def start_case(
    body: CaseAttributes,
    token: Token,
    handler: HandlerDep,
    settings: SettingsDep,
    request_id: RequestId,
    idempotency: IdempotencyDep,
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

    def render(uow: UnitOfWork, actor: Actor, ref: CaseRef) -> Reply:
        # The case as the person who started it sees it, in the unit of work that started it.
        view = queries.get_case(uow, registry=handler.registry, actor=actor, case_id=ref.case_id)
        return reply(case_out(view), status_code=201, Location=f"/api/cases/{ref.case_id}")

    return await answer(handler, token, start, render, idempotency=idempotency)


@router.get("", response_model=CasePageOut, responses=LIST_ERRORS)
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


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    responses={**READ_ERRORS, 200: {"headers": ETAG}},
)
async def get_case(
    case_id: CaseId, token: Token, handler: HandlerDep, request_id: RequestId
) -> Response:
    """Ärendet med underlag, tidsfrister och, för varje möjlig övergång, vad grindarna säger.
    `ETag` anger ärendets version: skicka den som `If-Match` med en ändring för att den bara
    ska göras om ärendet inte har ändrats under tiden. Anbud visas före tilldelningsbeslutet
    bara för ärendets ansvariga upphandlare, och varje sådan läsning loggas (OSL 19 kap. 3 §)."""

    def view(uow: UnitOfWork, actor: Actor) -> queries.CaseView:
        return queries.get_case(uow, registry=handler.registry, actor=actor, case_id=case_id)

    found = await read(handler, token, view)
    await log_early_read(handler, token, case_id, found.sealed, "ärendet", request_id)
    return json_response(case_out(found), ETag=etag(found.case.row_version))


async def log_early_read(
    handler: Handler,
    token: Presented,
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
    responses={**WRITE_ERRORS, 201: {"headers": ETAG}},
)
async def record_evidence(
    case_id: CaseId,
    body: EvidenceIn,
    token: Token,
    handler: HandlerDep,
    request_id: RequestId,
    if_match: IfMatchDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Registrera ett underlag (t.ex. godkänd SSA eller undertecknat PUB-avtal)."""

    def record(actor: Actor) -> RecordEvidence:
        return RecordEvidence(
            actor=actor, case_id=case_id, kind=body.kind, data=body.data, request_id=request_id
        )

    def render(uow: UnitOfWork, actor: Actor, recorded: RecordedEvidence) -> Reply:
        return reply(evidence_out(recorded), status_code=201)

    return await answer(
        handler,
        token,
        record,
        render,
        case_id=case_id,
        if_match=if_match,
        idempotency=idempotency,
    )


@router.post(
    "/{case_id}/transitions",
    response_model=TransitionOut,
    responses={**WRITE_ERRORS, 200: {"headers": ETAG}},
)
async def fire_transition(
    case_id: CaseId,
    body: TransitionIn,
    token: Token,
    handler: HandlerDep,
    request_id: RequestId,
    if_match: IfMatchDep,
    idempotency: IdempotencyDep,
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

    def render(uow: UnitOfWork, actor: Actor, decision: Decision) -> Reply:
        return reply(
            TransitionOut(
                case_id=case_id,
                trigger=decision.trigger,
                from_state=decision.from_state,
                to_state=decision.to_state,
                gates=gates_out(decision.gate_results),
            )
        )

    return await answer(
        handler,
        token,
        advance,
        render,
        case_id=case_id,
        if_match=if_match,
        idempotency=idempotency,
    )


@router.get("/{case_id}/audit", response_model=AuditOut, responses=READ_ERRORS)
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
    await log_early_read(handler, token, case_id, view.sealed, "granskningsloggen", request_id)
    return AuditOut(case_id=case_id, events=view.events, sealed_events=view.sealed_events)


@router.get("/{case_id}/checklist", response_model=ChecklistOut, responses=READ_ERRORS)
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
