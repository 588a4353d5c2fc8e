"""Health, process definitions and the audit verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from upphandla.api.deps import HandlerDep, SettingsDep, Token, read, read_public
from upphandla.api.schemas import (
    BreakOut,
    CheckpointOut,
    DefinitionSummary,
    HealthOut,
    ProblemOut,
    VerifyOut,
)
from upphandla.flows.checkpoints import Witness
from upphandla.flows.orchestration.status import status_for
from upphandla.flows.proofs import b64, require_whole_log
from upphandla.flows.verify import Verification, describe, verify_log
from upphandla.flows.views.definitions import definition_body, list_definitions

router = APIRouter()


@router.get("/health", response_model=HealthOut, tags=["drift"])
async def health(request: Request, handler: HandlerDep) -> HealthOut:
    """Svarar så snart API:t är uppe; anger databasens och Prefects läge. Prefect: `starting`,
    `ok`, `down`, eller `off` när den här processen inte bevakar någon Prefect-server."""
    try:
        await read_public(handler, lambda uow: uow.ping())
        database = "ok"
    except Exception:  # noqa: BLE001 - health reports, it does not fail
        database = "down"
    try:
        prefect = status_for(request.app.state).state  # kept by a background thread
    except Exception:  # noqa: BLE001 - Prefect never makes health fail
        prefect = "down"
    return HealthOut(status="ok", database=database, prefect=prefect)


@router.get(
    "/api/definitions", response_model=list[DefinitionSummary], tags=["processdefinitioner"]
)
async def definitions(token: Token, handler: HandlerDep) -> list[DefinitionSummary]:
    """Alla inlästa versioner av processdefinitioner."""
    stored = await read(handler, token, lambda uow, _: list_definitions(uow))
    return [
        DefinitionSummary(
            key=r.key, version=r.version, title=r.title, checksum=r.checksum, loaded_at=r.loaded_at
        )
        for r in stored
    ]


@router.get("/api/definitions/{key}/{version}", tags=["processdefinitioner"])
async def definition(
    token: Token,
    handler: HandlerDep,
    key: str = Path(max_length=64),
    version: int = Path(ge=1, le=1_000_000),
) -> dict[str, Any]:
    """En version av en processdefinition, som den lästes in."""
    return await read(handler, token, lambda uow, _: definition_body(uow, key, version))


@router.get(
    "/api/audit/verify",
    response_model=VerifyOut,
    tags=["granskning"],
    responses={403: {"description": "Rollen får inte granska hela loggen", "model": ProblemOut}},
)
async def verify(token: Token, handler: HandlerDep, settings: SettingsDep) -> VerifyOut:
    """Kontrollera hela granskningsloggen: varje kedja länk för länk, den globala loggen mot de
    signerade kontrollpunkterna och de levande raderna (fas, attribut, organisation, underlag,
    användare, token) mot kedjorna. Skriver ingen kontrollpunkt. För roller som får läsa alla
    ärenden."""
    await read(handler, token, lambda uow, actor: require_whole_log(uow, handler.registry, actor))

    def work() -> Verification:
        witness = Witness.of(settings, create_key=False)
        with handler.reader() as uow:
            return verify_log(uow, witness)

    result = await run_in_threadpool(work)
    return VerifyOut(
        ok=result.ok,
        cases=result.cases,
        events=result.events,
        log_size=result.log_size,
        root_hash=b64(result.root),
        checkpoints=[
            CheckpointOut(origin=c.origin, size=c.size, root_hash=b64(c.root_hash))
            for c in result.checkpoints
        ],
        breaks=[BreakOut(**b.as_dict(), text=describe(b)) for b in result.breaks],
    )
