"""Acceptance testing: the requirement list is imported as CSV or JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status

from upphandla.api.deps import HandlerDep, IdempotencyDep, IfMatchDep, RequestId, Token, answer
from upphandla.api.present import reply, requirements_import_out
from upphandla.api.routes_cases import ETAG, WRITE_ERRORS, CaseId
from upphandla.api.schemas import RequirementsImportOut
from upphandla.flows.commands.acceptance import ImportedRequirements, ImportRequirements
from upphandla.flows.idempotency import Reply
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem
from upphandla.store.uow import UnitOfWork

router = APIRouter(prefix="/api/cases", tags=["acceptanstest"])

CSV_EXAMPLE = "id;text;level\nK1;Inloggning med tvåfaktorsautentisering;ska\nK2;Mörkt läge;bör\n"


@router.post(
    "/{case_id}/acceptance/requirements",
    status_code=status.HTTP_201_CREATED,
    response_model=RequirementsImportOut,
    responses={**WRITE_ERRORS, 201: {"headers": ETAG}},
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
                "application/json": {
                    "schema": {"type": "object", "properties": {"requirements": {"type": "array"}}}
                },
            }
        }
    },
)
async def import_acceptance_requirements(
    case_id: CaseId,
    request: Request,
    token: Token,
    handler: HandlerDep,
    request_id: RequestId,
    if_match: IfMatchDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Läs in kravlistan för acceptanstestet (CSV: id, text, level = ska/bör; eller JSON).

    Svaret anger vad listan ändrar mot den gällande (`changes`). Före första testomgången
    ersätter en ny lista den gamla. När testningen har börjat kan en ny lista lägga till krav,
    göra börkrav till skakrav och rätta kravtexter; en lista som skulle ta bort ett krav eller
    göra ett skakrav till börkrav stoppas (409) med vad den skulle ha ändrat."""
    requirements = _requirements_from(request.headers.get("content-type", ""), await request.body())

    def import_list(actor: Actor) -> ImportRequirements:
        return ImportRequirements(
            actor=actor, case_id=case_id, requirements=requirements, request_id=request_id
        )

    def render(uow: UnitOfWork, actor: Actor, imported: ImportedRequirements) -> Reply:
        return reply(requirements_import_out(imported), status_code=201)

    return await answer(
        handler,
        token,
        import_list,
        render,
        case_id=case_id,
        if_match=if_match,
        idempotency=idempotency,
    )


def _requirements_from(content_type: str, body: bytes) -> list[dict[str, Any]] | str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(
            "evidence_invalid", [Problem("body", "ska vara UTF-8")], kind="acceptance_requirements"
        ) from None
    if content_type.startswith("text/csv"):
        return text
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # the middleware refuses deep JSON; this is a backstop
        raise Invalid(
            "evidence_invalid",
            [Problem("body", "är inte giltig JSON eller CSV")],
            kind="acceptance_requirements",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), list):
        raise Invalid(
            "evidence_invalid",
            [Problem("requirements", "ska vara en lista")],
            kind="acceptance_requirements",
        )
    return data["requirements"]
