"""`upphandla audit export-events`: the audit export of the API, every case's events, to
standard output (run with the same database as `serve`, like `audit verify`)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from upphandla.api.routes_audit import csv_parts, jsonl_parts
from upphandla.cli.common import describe, fail, ready_handler
from upphandla.flows.views import audit as views
from upphandla.states.errors import DomainError
from upphandla.states.roles import Actor


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def export_events(
    fmt: Annotated[Format, typer.Option("--format", help="csv eller jsonl")],
    case_id: Annotated[int | None, typer.Option(help="Ett ärendes nummer")] = None,
    actor_id: Annotated[int | None, typer.Option(help="Användaren som handlade (id)")] = None,
    action: Annotated[
        list[str] | None, typer.Option(help="Händelsetyp; kan upprepas (någon av dem)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Från och med, ISO 8601 med tidszon")] = None,
    until: Annotated[
        str | None, typer.Option(help="Till (men inte med), ISO 8601 med tidszon")
    ] = None,
) -> None:
    """Exportera granskningsloggen för alla ärenden som CSV eller JSON Lines (samma kolumner och
    fält som API:ts export), äldst först, till standard ut: `... > fil.csv`."""
    handler = ready_handler()
    try:
        filters = views.event_filters(
            case_id=case_id,
            actor_id=actor_id,
            actions=tuple(action or ()),
            since=since,
            until=until,
        )
        with handler.reader() as uow:
            export = views.start_export(
                uow,
                registry=handler.registry,
                actor=Actor.system(),
                filters=filters,
                fmt=fmt.value,
            )
        parts = csv_parts if fmt is Format.csv else jsonl_parts
        out = sys.stdout.buffer
        for part in parts(handler, export):
            out.write(part.encode("utf-8"))
        out.flush()
    except DomainError as exc:
        raise fail(describe(exc), 2) from None
    finally:
        handler.close()
