"""Acceptance testing: the requirement list is imported as CSV or JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, status

from upphandla.api.deps import HandlerDep, RequestId, Token, command
from upphandla.api.present import evidence_out
from upphandla.api.routes_cases import ERRORS, CaseId
from upphandla.api.schemas import EvidenceOut
from upphandla.flows.commands.acceptance import ImportRequirements
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem

router = APIRouter(prefix="/api/cases", tags=["acceptanstest"])

CSV_EXAMPLE = "id;text;level\nK1;Inloggning med tvåfaktorsautentisering;ska\nK2;Mörkt läge;bör\n"


@router.post(
    "/{case_id}/acceptance/requirements",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    responses=ERRORS,
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
) -> EvidenceOut:
    """Läs in kravlistan för acceptanstestet (CSV: id, text, level = ska/bör; eller JSON)."""
    requirements = _requirements_from(request.headers.get("content-type", ""), await request.body())

    def import_list(actor: Actor) -> ImportRequirements:
        return ImportRequirements(
            actor=actor, case_id=case_id, requirements=requirements, request_id=request_id
        )

    return evidence_out((await command(handler, token, import_list, case_id=case_id)).result)


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
    except ValueError:
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
