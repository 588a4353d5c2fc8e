"""The case page and what is done on it: recording evidence through the forms generated from
the definition, and taking a step. The same read model, commands and access policy as
/api/cases (flows.views.cases, flows.commands.cases, flows.access)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from upphandla.api.deps import command
from upphandla.api.pages.forms import Form, evidence_data, evidence_form, show_problems
from upphandla.api.pages.routing import PageRoute, Visit, see_other, visit
from upphandla.api.routes_cases import log_early_read
from upphandla.flows.commands.cases import Advance, RecordEvidence
from upphandla.flows.views.acceptance import acceptance_view
from upphandla.flows.views.case_page import CasePage, case_page
from upphandla.flows.views.cases import list_cases
from upphandla.states.errors import (
    Conflict,
    EvidenceRefused,
    Invalid,
    NotFound,
    TransitionRefused,
)
from upphandla.states.remedies import EvidenceNeed
from upphandla.states.roles import Actor

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]
CaseId = Annotated[int, Path(ge=1, le=2**53)]
ACCEPTANCE_KINDS = (
    "acceptance_requirements",
    "supplier_ready",
    "acceptance_round",
    "acceptance_signoff_objektledare",
)
TEMPLATES = {"": "case.html", "acceptanstest": "acceptance.html"}
DONE = {
    "startat": "Ärendet är startat.",
    "underlag": "Underlaget är registrerat.",
    "steg": "Steget är gjort.",
}


def _reasons(exc: EvidenceRefused | TransitionRefused) -> list[dict[str, Any]]:
    return [
        {**r.as_dict(), "evidence": [n.as_dict() for n in exc.needs.get(r.gate, ())]}
        for r in exc.reasons
    ]


def needs_of(step: Any) -> dict[str, list[dict[str, Any]]]:
    needs: dict[str, tuple[EvidenceNeed, ...]] = step.needs
    return {gate: [n.as_dict() for n in found] for gate, found in needs.items()}


def prefill(page: CasePage) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Rows given in advance: a test round lists the requirements of the latest list."""
    lists = [e for e in page.view.evidence if e.kind == "acceptance_requirements"]
    if not lists:
        return {}
    ids = [{"id": r.get("id")} for r in lists[-1].data.get("requirements", [])]
    return {"acceptance_round": {"results": ids}}


def forms_of(page: CasePage, replaced: Form | None = None) -> list[Form]:
    given = prefill(page)
    out = []
    for kind in page.recordable:
        if replaced is not None and replaced.kind == kind.id:
            out.append(replaced)
        else:
            out.append(evidence_form(kind, prefill=given.get(kind.id)))
    return out


async def _load(visit: Visit, case_id: int) -> tuple[Actor, CasePage]:
    registry = visit.handler.registry
    actor, page = await visit.read(
        lambda uow, a: case_page(uow, registry=registry, actor=a, case_id=case_id)
    )
    if page.view.sealed.early:
        request_id = getattr(visit.request.state, "request_id", None)
        credential = visit.require_login().credential
        await log_early_read(
            visit.handler, credential, case_id, page.view.sealed, "ärendet", request_id
        )
    return actor, page


def show_case(
    visit: Visit,
    actor: Actor,
    page: CasePage,
    *,
    subpage: str = "",
    form: Form | None = None,
    refusal: dict[str, Any] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    forms = forms_of(page, form)
    if subpage == "acceptanstest":
        forms = [f for f in forms if f.kind in ACCEPTANCE_KINDS]
    return visit.page(
        TEMPLATES[subpage],
        actor=actor,
        status=status,
        page=page,
        case=page.view.case,
        acceptance=acceptance_view(page) if subpage else None,
        subpage=subpage,
        forms=forms,
        needs_of=needs_of,
        refusal=refusal,
        done=DONE.get(done or ""),
    )


@router.get("/arenden")
async def cases(visit: VisitDep, sida: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    registry = visit.handler.registry
    actor, found = await visit.read(
        lambda uow, a: list_cases(uow, registry=registry, actor=a, limit=50, offset=(sida - 1) * 50)
    )
    return visit.page("cases.html", actor=actor, found=found, page_no=sida)


@router.get("/arenden/{case_id}")
async def case(
    case_id: CaseId, visit: VisitDep, klart: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    actor, page = await _load(visit, case_id)
    return show_case(visit, actor, page, done=klart)


@router.get("/arenden/{case_id}/acceptanstest")
async def acceptance(
    case_id: CaseId, visit: VisitDep, klart: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    actor, page = await _load(visit, case_id)
    return show_case(visit, actor, page, subpage="acceptanstest", done=klart)


def _subpage(visit: Visit) -> str:
    back = visit.value("tillbaka")
    return back if back in TEMPLATES else ""


def _back(case_id: int, subpage: str, done: str) -> Response:
    return see_other(f"/arenden/{case_id}{'/' + subpage if subpage else ''}?klart={done}")


@router.post("/arenden/{case_id}/underlag")
async def record(case_id: CaseId, visit: VisitDep) -> Response:
    actor, page = await _load(visit, case_id)
    kind = page.view.definition.evidence_kind.get(visit.value("kind"))
    if kind is None:
        raise NotFound("not_found", path=visit.path)
    data, where = evidence_data(kind, visit.form)
    sub = _subpage(visit)
    request_id = getattr(visit.request.state, "request_id", None)

    def build(a: Actor) -> RecordEvidence:
        return RecordEvidence(
            actor=a, case_id=case_id, kind=kind.id, data=data, request_id=request_id
        )

    try:
        await command(visit.handler, visit.require_login().credential, build, case_id=case_id)
    except Invalid as exc:
        form = evidence_form(kind, visit.form)
        show_problems(form, exc.problems, where)
        return show_case(visit, actor, page, subpage=sub, form=form, status=422)
    except EvidenceRefused as exc:
        form = evidence_form(kind, visit.form)
        form.reasons = _reasons(exc)
        return show_case(visit, actor, page, subpage=sub, form=form, status=409)
    return _back(case_id, sub, "underlag")


@router.post("/arenden/{case_id}/steg")
async def advance(case_id: CaseId, visit: VisitDep) -> Response:
    trigger = visit.value("trigger")
    sub = _subpage(visit)
    comment = visit.value("comment").strip() or None
    request_id = getattr(visit.request.state, "request_id", None)

    def build(a: Actor) -> Advance:
        return Advance(
            actor=a, case_id=case_id, trigger=trigger, comment=comment, request_id=request_id
        )

    try:
        await command(visit.handler, visit.require_login().credential, build, case_id=case_id)
    except TransitionRefused as exc:
        actor, page = await _load(visit, case_id)
        refusal = {"trigger": trigger, "title": exc.detail, "reasons": _reasons(exc)}
        return show_case(visit, actor, page, subpage=sub, refusal=refusal, status=409)
    except (Invalid, Conflict) as exc:
        actor, page = await _load(visit, case_id)
        refusal = {"trigger": trigger, "title": exc.detail, "reasons": []}
        status = 422 if isinstance(exc, Invalid) else 409
        return show_case(visit, actor, page, subpage=sub, refusal=refusal, status=status)
    return _back(case_id, sub, "steg")
