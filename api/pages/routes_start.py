"""Starting a case: a short form with what decides the rules, a preview of the gates that will
apply (before anything is created), and the same command as POST /api/cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import ValidationError

from upphandla.api.deps import command
from upphandla.api.pages.routing import PageRoute, Visit, see_other, visit
from upphandla.flows.commands.cases import CaseRef, StartCase
from upphandla.flows.organisations import organisations
from upphandla.flows.views.start_preview import start_preview
from upphandla.states.attributes import ROUTES, SUBCATEGORIES, CaseAttributes
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.states.validation import Problem, problems_from

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]

# (name, label, help) of each yes/no question, in the order asked.
QUESTIONS: list[tuple[str, str, str]] = [
    ("personal_data", "Behandlas personuppgifter?",
     "Ja om lösningen lagrar eller behandlar uppgifter om personer (GDPR). Då krävs PUB-avtal."),
    ("citizen_facing", "Används lösningen av invånare?",
     "Ja om invånare eller företag använder den direkt, t.ex. en e-tjänst (WCAG 2.1 AA)."),
    ("critical_service", "Är verksamheten samhällsviktig?",
     "Ja om ett avbrott skulle hota liv, hälsa eller viktiga samhällsfunktioner (krisgranskning)."),
    ("uses_ai", "Använder lösningen AI?", "Ja om den bygger på AI eller maskininlärning."),
    ("cloud_service", "Är det en molntjänst?",
     "Ja om leverantören driftar lösningen, t.ex. SaaS."),
    ("consultants", "Gäller det IT-konsulter?", "Ja om ni köper konsulttimmar."),
    ("hardware", "Gäller det hårdvara?", "Ja om ni köper datorer, skärmar eller annan utrustning."),
    ("recurring", "Återkommer köpet?",
     "Ja om kommunen köper samma slags sak gång på gång; då räknas liknande avtal de senaste "
     "tolv månaderna in i värdet (LOU 5 kap. 11 §)."),
]  # fmt: skip
FIELDS = ("title", "organisation", "subcategory", "route", "estimated_value_sek")


def _attributes(visit: Visit, actor: Actor) -> dict[str, Any]:
    out: dict[str, Any] = {name: visit.value(name).strip() for name in FIELDS}
    if not out["organisation"]:
        out["organisation"] = actor.organisation or ""
    value = out["estimated_value_sek"].replace(" ", "").replace("\u00a0", "")
    out["estimated_value_sek"] = int(value) if value.isdigit() else (value or None)
    for name, _, _ in QUESTIONS:
        answer = visit.value(name)
        out[name] = {"ja": True, "nej": False}.get(answer)
    return out


def _form_page(
    visit: Visit,
    actor: Actor,
    *,
    errors: list[Problem] | None = None,
    preview: Any = None,
    status: int = 200,
) -> Response:
    messages: dict[str, str] = {}
    for p in errors or []:
        name = p.path.split(".")[-1] if p.path else "title"
        name = name if name in FIELDS or name in dict((q[0], q) for q in QUESTIONS) else "title"
        messages.setdefault(name, p.message[:1].upper() + p.message[1:])
    may_choose = actor.role in ("upphandlare", "kategoriledare")
    return visit.page(
        "start.html",
        actor=actor,
        status=status,
        values={k: visit.value(k) for k in (*FIELDS, *(q[0] for q in QUESTIONS))},
        errors=messages,
        questions=QUESTIONS,
        subcategories=SUBCATEGORIES,
        routes=ROUTES,
        organisations=organisations().organisations if may_choose else [],
        own=organisations().get(actor.organisation),
        preview=preview,
    )


@router.get("/arenden/ny")
async def start_form(visit: VisitDep) -> Response:
    actor, _ = await visit.read(lambda uow, a: None)
    return _form_page(visit, actor)


def _missing_answers(attrs: dict[str, Any]) -> list[Problem]:
    return [Problem(name, "välj ja eller nej") for name, _, _ in QUESTIONS if attrs[name] is None]


@router.post("/arenden/ny")
async def start(visit: VisitDep) -> Response:
    handler = visit.handler
    settings = visit.request.app.state.settings
    actor, _ = await visit.read(lambda uow, a: None)
    attrs = _attributes(visit, actor)
    try:
        checked = CaseAttributes.model_validate(attrs).model_dump()
    except ValidationError as exc:
        problems = _missing_answers(attrs) + [
            p for p in problems_from(exc) if p.path not in {q[0] for q in QUESTIONS}
        ]
        return _form_page(visit, actor, errors=problems, status=422)
    if visit.value("atgard") != "starta":
        _, steps = await visit.read(
            lambda uow, a: start_preview(
                uow,
                registry=handler.registry,
                definition_key=settings.default_definition,
                attributes=checked,
            )
        )
        return _form_page(visit, actor, preview=steps)

    def build(actor: Actor) -> StartCase:
        return StartCase(
            actor=actor,
            attributes=checked,
            definition_key=settings.default_definition,
            request_id=getattr(visit.request.state, "request_id", None),
        )

    try:
        outcome = await command(handler, visit.require_login().credential, build)
    except Invalid as exc:
        return _form_page(visit, actor, errors=exc.problems, status=422)
    ref: CaseRef = outcome.result
    return see_other(f"/arenden/{ref.case_id}?klart=startat")
