"""Audit review for controllers: search the audit events of every case the caller may read, page
by page with a cursor, and export the same search as CSV or JSON Lines.

Exports are streamed: the first chunk is read with the caller's token, in the same unit of work
as the scope and the last event the export will include; each further chunk is read in a short
unit of work of its own, by cursor, so that no transaction or connection is held while a slow
client downloads, and nothing is held in memory beyond one chunk.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from upphandla.api.deps import HandlerDep, SettingsDep, Token, read
from upphandla.api.schemas import (
    AuditEventOut,
    AuditEventPageOut,
    ProblemOut,
    ProofOut,
    ValidationProblem,
)
from upphandla.flows import proofs
from upphandla.flows.auth import Presented
from upphandla.flows.checkpoints import Witness
from upphandla.flows.handler import Handler
from upphandla.flows.views import audit as views
from upphandla.states.clock import now
from upphandla.states.roles import Actor
from upphandla.store.audit import FoundEvent
from upphandla.store.uow import UnitOfWork

router = APIRouter(prefix="/api/audit", tags=["granskning"])

CSV_TYPE = "text/csv; charset=utf-8; header=present"
JSONL_TYPE = "application/jsonl; charset=utf-8"
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Inloggning krävs", "model": ProblemOut},
    422: {
        "description": "Ogiltiga parametrar (okänd händelsetyp, tidpunkt utan tidszon, since "
        "efter until, ogiltig markör); `errors` anger parameter och fel",
        "model": ValidationProblem,
    },
}
# The columns of the CSV export: the fields of a search item, then four taken from the body for
# reading in a spreadsheet (the role the actor acted in, the phases before and after, the
# comment of a transition), and the body last.
CSV_COLUMNS = (
    "id",
    "case_id",
    "case_title",
    "seq",
    "at",
    "action",
    "actor_id",
    "actor_name",
    "role",
    "from_state",
    "to_state",
    "comment",
    "hash",
    "log_index",
    "body",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    """The search parameters as sent (checked in flows.views.audit, after the token)."""

    case_id: int | None
    actor_id: int | None
    action: list[str] | None
    since: str | None
    until: str | None

    def parse(self, cursor: str | None = None) -> views.EventFilters:
        return views.event_filters(
            case_id=self.case_id,
            actor_id=self.actor_id,
            actions=tuple(self.action or ()),
            since=self.since,
            until=self.until,
            cursor=cursor,
        )


_TIME = (
    "Tidpunkt enligt ISO 8601 med tidszon, t.ex. `2026-03-02T09:00:00+01:00` eller "
    "`2026-03-02T08:00:00Z` (skriv `+` som `%2B` i adressen)."
)


def filters(
    case_id: Annotated[int | None, Query(ge=1, le=2**53, description="Ett ärendes nummer")] = None,
    actor_id: Annotated[
        int | None, Query(ge=1, le=2**53, description="Användaren som handlade (id)")
    ] = None,
    action: Annotated[
        list[views.AuditAction] | None,
        Query(description="Händelsetyp; kan upprepas (någon av dem)"),
    ] = None,
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description=f"Från och med. {_TIME}",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            max_length=64,
            description=f"Till (men inte med). {_TIME}",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
) -> Filters:
    return Filters(case_id, actor_id, list(action) if action else None, since, until)


FiltersDep = Annotated[Filters, Depends(filters)]


def event_out(event: FoundEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.id,
        case_id=event.case_id,
        case_title=event.case_title,
        seq=event.seq,
        at=event.at,
        action=event.action,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        body=event.body,
        hash=event.hash,
        log_index=event.log_index,
    )


@router.get("/events", response_model=AuditEventPageOut, responses=ERRORS)
async def search_events(
    request: Request,
    response: Response,
    token: Token,
    handler: HandlerDep,
    given: FiltersDep,
    cursor: Annotated[
        str | None,
        Query(max_length=64, description="`next_cursor` från förra sidan; utan den: första"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=views.MAX_LIMIT)] = 100,
) -> AuditEventPageOut:
    """Sök i granskningsloggen för alla ärenden du får se, äldst först (i den ordning
    händelserna skrevs), en sida i taget. En controller ser alla ärendens händelser, en
    beställare sin organisations; filtrera på ärende, användare, händelsetyp och tid. Nästa sida
    hämtas med `cursor` = `next_cursor` (finns också i svarshuvudet `Link`); händelser som skrivs
    medan du bläddrar kommer med på senare sidor, ingen två gånger."""

    def page(uow: UnitOfWork, actor: Actor) -> views.EventPage:
        return views.search_events(
            uow,
            registry=handler.registry,
            actor=actor,
            filters=given.parse(cursor),
            limit=limit,
        )

    found = await read(handler, token, page)
    if found.next_cursor is not None:
        following = request.url.include_query_params(cursor=found.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return AuditEventPageOut(
        items=[event_out(e) for e in found.items], limit=limit, next_cursor=found.next_cursor
    )


def _chunks(handler: Handler, export: views.Export) -> Iterator[list[FoundEvent]]:
    chunk = export.first
    while chunk:
        yield chunk
        if len(chunk) < views.EXPORT_CHUNK:
            return
        with handler.reader() as uow:
            chunk = views.export_chunk(uow, export, chunk[-1].id)


async def _begin(handler: Handler, token: Presented, given: Filters, fmt: str) -> views.Export:
    return await read(
        handler,
        token,
        lambda uow, actor: views.start_export(
            uow, registry=handler.registry, actor=actor, filters=given.parse(), fmt=fmt
        ),
    )


def _attachment(media_type: str, extension: str, body: Iterator[str]) -> StreamingResponse:
    name = f"granskningslogg-{now():%Y%m%dT%H%M%SZ}.{extension}"
    return StreamingResponse(
        (part.encode("utf-8") for part in body),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP, CSV injection): text that
    starts with =, +, -, @, TAB or CR gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(event: FoundEvent) -> list[str]:
    item = event_out(event).model_dump(mode="json")
    body = json.loads(event.body)
    extra = {
        "role": body.get("role"),
        "from_state": body.get("from_state"),
        "to_state": body.get("to_state"),
        "comment": body.get("comment"),
    }
    return [safe_cell({**item, **extra}[column]) for column in CSV_COLUMNS]


def csv_parts(handler: Handler, export: views.Export) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for chunk in _chunks(handler, export):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(csv_row(e) for e in chunk)
        yield buffer.getvalue()


def jsonl_parts(handler: Handler, export: views.Export) -> Iterator[str]:
    for chunk in _chunks(handler, export):
        yield "".join(event_out(e).model_dump_json() + "\n" for e in chunk)


_CSV_DOC = (
    "CSV (UTF-8 med byte order mark, `;` mellan fälten, en rubrikrad). Kolumner: "
    + ", ".join(f"`{c}`" for c in CSV_COLUMNS)
    + ". `role`, `from_state`, `to_state` och `comment` är hämtade ur `body`. En cell som börjar "
    "med =, +, -, @, tab eller vagnretur får en inledande apostrof så att ett kalkylprogram inte "
    "kör den som en formel."
)


@router.get(
    "/events.csv",
    response_class=StreamingResponse,
    responses={
        200: {"description": _CSV_DOC, "content": {"text/csv": {"schema": {"type": "string"}}}},
        **ERRORS,
    },
)
async def export_csv(token: Token, handler: HandlerDep, given: FiltersDep) -> StreamingResponse:
    """Exportera granskningsloggen som CSV, med samma filter som sökningen: alla händelser du
    får se som fanns när exporten började, äldst först. Öppnas direkt i Excel med svenska
    tecken och svenska listavgränsare; inga celler körs som formler."""
    export = await _begin(handler, token, given, "csv")
    return _attachment(CSV_TYPE, "csv", csv_parts(handler, export))


@router.get(
    "/events.jsonl",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines: en händelse per rad, med samma fält som sökningens "
            "`items` (AuditEventOut)",
            "content": {"application/jsonl": {"schema": {"type": "string"}}},
        },
        **ERRORS,
    },
)
async def export_jsonl(token: Token, handler: HandlerDep, given: FiltersDep) -> StreamingResponse:
    """Exportera granskningsloggen som JSON Lines, med samma filter som sökningen: alla
    händelser du får se som fanns när exporten började, äldst först, en per rad."""
    export = await _begin(handler, token, given, "jsonl")
    return _attachment(JSONL_TYPE, "jsonl", jsonl_parts(handler, export))


@router.get(
    "/events/{index}/proof",
    response_model=ProofOut,
    responses={
        401: ERRORS[401],
        403: {"description": "Rollen får inte granska hela loggen", "model": ProblemOut},
        404: {"description": "Ingen händelse på den platsen som du får se", "model": ProblemOut},
        409: {
            "description": "Ingen kontrollpunkt omfattar händelsen än, eller loggen stämmer "
            "inte med kontrollpunkten",
            "model": ProblemOut,
        },
    },
)
async def event_proof(
    token: Token,
    handler: HandlerDep,
    settings: SettingsDep,
    index: int = Path(ge=0, le=2**53, description="Händelsens plats i loggen (`log_index`)"),
) -> ProofOut:
    """Bevis för att händelsen på platsen `index` ingår i loggen som den senaste signerade
    kontrollpunkten omfattar (RFC 9162, 2.1.3), att kontrollera utan att lita på databasen:
    räkna bladet ur `entry`, följ `proof` upp till roten och jämför med kontrollpunkten, vars
    signatur kontrolleras med motorns verifieringsnyckel."""

    def work(uow: UnitOfWork, actor: Actor) -> proofs.Proof:
        proofs.require_whole_log(uow, handler.registry, actor)
        witness = Witness.of(settings, create_key=False)
        return proofs.event_proof(uow, handler.registry, witness, index)

    found = await read(handler, token, work)
    return ProofOut(
        index=found.index,
        chain=found.chain,  # type: ignore[arg-type]
        case_id=found.case_id,
        seq=found.seq,
        hash=found.hash,
        entry=found.entry,
        leaf_hash=proofs.b64(found.leaf_hash),
        tree_size=found.tree_size,
        root_hash=proofs.b64(found.root_hash),
        checkpoint=found.checkpoint,
        proof=[proofs.b64(p) for p in found.proof],
    )
