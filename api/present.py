"""Turning use-case results into response schemas, and those into responses."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel

from upphandla.api.schemas import (
    CaseOut,
    CaseSummary,
    DeadlineOut,
    DefinitionRef,
    EvidenceOut,
    FindingOut,
    GateOut,
    NextStepOut,
    RequirementChangesOut,
    RequirementsImportOut,
)
from upphandla.flows.commands.acceptance import ImportedRequirements
from upphandla.flows.commands.cases import RecordedEvidence
from upphandla.flows.idempotency import Reply
from upphandla.flows.views.cases import CaseView
from upphandla.states.clock import now
from upphandla.states.definition import EvidenceKind
from upphandla.states.gates import GateResult
from upphandla.states.remedies import EvidenceNeed
from upphandla.store.records import StoredCase, StoredEvidence


def gates_out(
    results: tuple[GateResult, ...],
    needs: Mapping[str, tuple[EvidenceNeed, ...]] | None = None,
) -> list[GateOut]:
    """The gates' results; each reason with the evidence that would lift its gate."""
    out = []
    for g in results:
        body = g.as_dict()
        evidence = [n.as_dict() for n in (needs or {}).get(g.gate, ())]
        body["reasons"] = [{**r, "evidence": evidence} for r in body["reasons"]]
        out.append(GateOut.model_validate(body))
    return out


def case_summary(row: StoredCase) -> CaseSummary:
    return CaseSummary(
        id=row.id,
        title=row.title,
        organisation=row.organisation,
        subcategory=row.subcategory,
        route=row.route,
        state=row.state,
        definition=DefinitionRef(key=row.definition_key, version=row.definition_version),
        next_due_at=row.next_due_at,
        overdue=row.next_due_at is not None and row.next_due_at < now(),
        updated_at=row.updated_at,
    )


def _evidence(e: StoredEvidence, kinds: dict[str, EvidenceKind]) -> EvidenceOut:
    return EvidenceOut(
        id=e.id,
        kind=e.kind,
        title=kinds[e.kind].title if e.kind in kinds else e.kind,
        data=e.data,
        phase=e.phase,
        recorded_by=e.recorded_by_name,
        role=e.role,
        recorded_at=e.recorded_at,
    )


def case_out(view: CaseView) -> CaseOut:
    row, definition = view.case, view.definition
    kinds = definition.evidence_kind
    return CaseOut(
        **case_summary(row).model_dump(),
        state_title=definition.phase[row.state].title,
        attributes=row.attributes,
        created_at=row.created_at,
        evidence=[_evidence(e, kinds) for e in view.evidence],
        sealed_evidence=[_evidence(e, kinds) for e in view.sealed.rows],
        deadlines=[DeadlineOut.model_validate(d) for d in view.deadlines],
        findings=[
            FindingOut(
                key=f.key,
                title=f.title,
                message=f.message,
                source=f.source,
                open=f.closed_at is None,
                opened_at=f.opened_at,
                closed_at=f.closed_at,
            )
            for f in view.findings
        ],
        next_steps=[
            NextStepOut(
                trigger=s.trigger.id,
                title=s.trigger.title,
                to_state=s.trigger.dest,
                roles=list(s.trigger.roles),
                role_allowed=s.role_allowed,
                ready=s.ready,
                requires_comment=s.trigger.requires_comment,
                gates=gates_out(s.gate_results, s.needs),
            )
            for s in view.next_steps
        ],
    )


def evidence_out(recorded: RecordedEvidence) -> EvidenceOut:
    row = recorded.evidence
    return EvidenceOut(
        id=row.id,
        kind=row.kind,
        title=recorded.title,
        data=row.data,
        phase=row.phase,
        recorded_by=row.recorded_by_name,
        role=row.role,
        recorded_at=row.recorded_at,
        notes=list(recorded.notes),
    )


def requirements_import_out(imported: ImportedRequirements) -> RequirementsImportOut:
    changes = imported.changes
    return RequirementsImportOut(
        **evidence_out(imported.recorded).model_dump(),
        changes=RequirementChangesOut(**changes.as_dict()) if changes is not None else None,
    )


def json_response(model: BaseModel, *, status_code: int = 200, **headers: str) -> Response:
    """The model as JSON, serialised once: the route's response_model documents it, and it is
    already an instance of it, so there is nothing left to validate."""
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers or None,
    )


def reply(model: BaseModel, *, status_code: int = 200, **headers: str) -> Reply:
    """The model as a JSON reply, rendered in the command's unit of work (api.deps.answer)."""
    return Reply(
        status_code, model.model_dump_json(), {"Content-Type": "application/json", **headers}
    )
