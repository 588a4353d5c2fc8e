"""Pages open to everyone: the process (the lifecycle diagram and the rules, generated from the
definition in force) and the accessibility statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from upphandla.api.deps import read_public
from upphandla.api.pages.diagram import edges, lifecycle_svg
from upphandla.api.pages.routing import PageRoute, Visit, visit
from upphandla.states.docs import describe_check

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]


@router.get("/process")
async def process(visit: VisitDep) -> Response:
    handler = visit.handler
    key = visit.request.app.state.settings.default_definition
    definition, _ = await read_public(handler, lambda uow: handler.registry.latest(uow, key))
    drawn, listed = edges(definition)
    return visit.page(
        "process.html",
        actor=None,
        definition=definition,
        svg=lifecycle_svg(definition),
        drawn=drawn,
        listed=listed,
        check=lambda g: describe_check(definition, g).replace("`", ""),
    )


@router.get("/tillganglighet")
async def statement(visit: VisitDep) -> Response:
    settings = visit.request.app.state.settings
    return visit.page(
        "accessibility.html",
        actor=None,
        owner=settings.web_owner,
        contact=settings.web_contact,
        assessed_on=settings.accessibility_assessed_on,
    )
