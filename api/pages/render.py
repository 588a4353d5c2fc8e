"""Rendering pages: one Jinja2 environment (autoescape, StrictUndefined), the Swedish names of
roles, phases and values, and the headers every page carries (no asset from another host can
load: the Content-Security-Policy allows this origin only)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from upphandla.flows.organisations import organisations
from upphandla.states.attributes import ROUTES
from upphandla.states.clock import STOCKHOLM
from upphandla.states.roles import ROLE_NAMES, Actor

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def roles_text(roles: list[str] | tuple[str, ...]) -> str:
    return ", ".join(role_name(r) for r in roles)


def moment(value: datetime | str | None) -> str:
    """A moment as Stockholm time, e.g. 2026-03-02 09:15."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def organisation_name(organisation_id: str) -> str:
    found = organisations().get(organisation_id)
    return found.name if found is not None else organisation_id


def days_text(days: int) -> str:
    if days < 0:
        return f"{-days} dagar sedan" if days < -1 else "i går"
    if days == 0:
        return "i dag"
    return "i morgon" if days == 1 else f"om {days} dagar"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        role=role_name,
        roles=roles_text,
        moment=moment,
        value=value_text,
        days=days_text,
        route=lambda r: ROUTES.get(r, r),
        organisation=organisation_name,
    )
    return env


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    """The links of the menu for this person: (address, text)."""
    if actor is None:
        return [("/process", "Processen")]
    links = [("/", "Mitt arbete")]
    if actor.role in ("bestallare", "upphandlare", "kategoriledare"):
        links.append(("/arenden/ny", "Starta ärende"))
    links.append(("/arenden", "Ärenden"))
    if actor.role in ("controller", "kategoriledare", "upphandlare"):
        links += [("/granskning", "Granskning"), ("/avtal", "Avtal")]
    links.append(("/process", "Processen"))
    return links


def render(
    template: str,
    *,
    actor: Actor | None,
    csrf: str,
    path: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    body = (
        environment()
        .get_template(template)
        .render(actor=actor, csrf=csrf, path=path, nav=nav_for(actor), **context)
    )
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
