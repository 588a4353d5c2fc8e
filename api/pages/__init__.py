"""The web pages: server-rendered, in Swedish, plain HTML forms, over the same read models,
commands and access policy as the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from upphandla.api.pages import (
    apidocs,
    routes_cases,
    routes_control,
    routes_info,
    routes_login,
    routes_start,
    routes_work,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    apidocs.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        routes_login,
        routes_work,
        routes_start,
        routes_cases,
        routes_control,
        routes_info,
    ):
        app.include_router(module.router)
