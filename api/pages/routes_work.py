"""My work: the start page of a signed-in person (flows.views.work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from upphandla.api.pages.routing import PageRoute, Visit, visit
from upphandla.flows.views.work import my_work

router = APIRouter(route_class=PageRoute, include_in_schema=False)
VisitDep = Annotated[Visit, Depends(visit)]


@router.get("/")
async def work(visit: VisitDep) -> Response:
    registry = visit.handler.registry
    actor, items = await visit.read(lambda uow, a: my_work(uow, registry=registry, actor=a))
    return visit.page("work.html", actor=actor, items=items)
