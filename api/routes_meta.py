"""Health, process definitions and the audit verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request

from upphandla.api.deps import HandlerDep, Token, read, read_public
from upphandla.api.schemas import (
    BreakOut,
    DefinitionSummary,
    HealthOut,
    SystemBreakOut,
    SystemChainOut,
    VerifyOut,
)
from upphandla.flows.orchestration.status import status_for
from upphandla.flows.system_chain import verify_system
from upphandla.flows.views import cases as queries
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


@router.get("/api/audit/verify", response_model=VerifyOut, tags=["granskning"])
async def verify(token: Token, handler: HandlerDep) -> VerifyOut:
    """Kontrollera alla ärendens hashkedjor; anger första ändrade, borttagna eller omkastade händelse."""
    report, system = await read(
        handler, token, lambda uow, _: (queries.verify_audit(uow), verify_system(uow))
    )
    return VerifyOut(
        ok=report.ok and system.ok,
        cases=report.cases,
        events=report.events,
        breaks=[BreakOut.model_validate(b.as_dict()) for b in report.breaks],
        system=SystemChainOut(
            ok=system.ok,
            events=system.events,
            first_break=SystemBreakOut.model_validate(system.brk.as_dict()) if system.brk else None,
        ),
    )
