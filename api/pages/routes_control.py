"""Controller pages: the audit search with its filters and CSV export (flows.views.audit, the
same as GET /api/audit/events and events.csv), the verification of the whole log, and the
contract register with what falls due on it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from upphandla.api.deps import read
from upphandla.api.pages.routing import PageRoute, Visit, visit
from upphandla.api.routes_audit import Filters, csv_parts
from upphandla.flows.checkpoints import Witness
from upphandla.flows.handler import Handler
from upphandla.flows.proofs import require_whole_log
from upphandla.flows.settings import Settings
from upphandla.flows.verify import describe, verify_log
from upphandla.flows.views import audit as views
from upphandla.flows.views.contracts import contract_register
from upphandla.states.clock import STOCKHOLM, now, today
from upphandla.states.errors import Invalid
from upphandla.states.roles import Actor
from upphandla.store.uow import UnitOfWork

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]
PAGE_SIZE = 100
ACTION_NAMES = {
    "case_started": "Ärendet startat",
    "contract_imported": "Avtal inläst",
    "evidence_recorded": "Underlag registrerat",
    "transition": "Övergång",
    "cancelled": "Avbrutet",
    "reminders_queued": "Påminnelser köade",
    "finding_raised": "Anmärkning",
    "finding_closed": "Anmärkning stängd",
}


def verification(handler: Handler, settings: Settings) -> tuple[bool, int, list[str]]:
    """The whole log verified, as GET /api/audit/verify does: (holds, events, breaks)."""
    witness = Witness.of(settings, create_key=False)
    with handler.reader() as uow:
        result = verify_log(uow, witness)
    return result.ok, result.events, [describe(b) for b in result.breaks]


def _filters(arende: str, handling: str, fran: str, till: str) -> tuple[Filters, dict[str, str]]:
    """The search as typed (dates as YYYY-MM-DD, Stockholm days), and problems by field."""
    problems: dict[str, str] = {}
    case_id = None
    if arende.strip():
        if arende.strip().isdigit():
            case_id = int(arende.strip())
        else:
            problems["arende"] = "Ange ärendets nummer med siffror."
    since = _day_start(fran, 0, "fran", problems)
    until = _day_start(till, 1, "till", problems)  # up to the end of that day
    action = [handling] if handling in ACTION_NAMES else None
    return Filters(case_id, None, action, since, until), problems


def _day_start(text: str, after: int, field: str, problems: dict[str, str]) -> str | None:
    """The start of the Stockholm day `after` days after the date typed, as ISO 8601."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip()) + timedelta(days=after)
    except ValueError:
        problems[field] = "Ange ett datum som ÅÅÅÅ-MM-DD."
        return None
    return datetime.combine(day, time.min, STOCKHOLM).isoformat()


Arg = Annotated[str, Query(max_length=32)]


@router.get("/granskning")
async def audit(
    visit: VisitDep, arende: Arg = "", handling: Arg = "", fran: Arg = "", till: Arg = ""
) -> Response:
    handler = visit.handler
    given, problems = _filters(arende, handling, fran, till)
    items: list[object] = []
    if not problems:
        try:
            parsed = given.parse()
        except Invalid as exc:
            field = {"since": "fran", "until": "till"}
            problems = {field.get(p.path, "arende"): p.message for p in exc.problems}
        else:

            def search(uow: UnitOfWork, actor: Actor) -> list[object]:
                page = views.search_events(
                    uow, registry=handler.registry, actor=actor, filters=parsed, limit=PAGE_SIZE
                )
                return list(page.items)

            _, items = await visit.read(search)
    actor, _ = await visit.read(lambda uow, a: None)
    query = visit.request.url.query
    return visit.page(
        "audit.html",
        actor=actor,
        status=422 if problems else 200,
        items=items,
        problems=problems,
        values={"arende": arende, "handling": handling, "fran": fran, "till": till},
        actions=ACTION_NAMES,
        export=f"/granskning/export.csv{'?' + query if query else ''}",
        page_size=PAGE_SIZE,
    )


@router.get("/granskning/verifiering")
async def verify(visit: VisitDep) -> Response:
    handler = visit.handler
    actor, _ = await visit.read(lambda uow, a: require_whole_log(uow, handler.registry, a))
    ok, events, breaks = await run_in_threadpool(
        verification, handler, visit.request.app.state.settings
    )
    return visit.page("verify.html", actor=actor, ok=ok, events=events, breaks=breaks)


@router.get("/granskning/export.csv")
async def export(
    visit: VisitDep, arende: Arg = "", handling: Arg = "", fran: Arg = "", till: Arg = ""
) -> Response:
    handler = visit.handler
    given, problems = _filters(arende, handling, fran, till)
    if problems:
        raise Invalid("invalid_attributes", [])
    started = await read(
        handler,
        visit.require_login().credential,
        lambda uow, actor: views.start_export(
            uow, registry=handler.registry, actor=actor, filters=given.parse(), fmt="csv"
        ),
    )
    name = f"granskningslogg-{now():%Y%m%dT%H%M%SZ}.csv"
    return StreamingResponse(
        (part.encode("utf-8") for part in csv_parts(handler, started)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/avtal")
async def contracts(visit: VisitDep) -> Response:
    registry = visit.handler.registry
    actor, found = await visit.read(
        lambda uow, a: contract_register(uow, registry=registry, actor=a)
    )
    return visit.page("contracts.html", actor=actor, contracts=found, today=today())
