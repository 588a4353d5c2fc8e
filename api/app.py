"""The FastAPI application. No Prefect on the request path: requests run the plain use cases."""

from __future__ import annotations

import os

from fastapi import FastAPI

from upphandla.api import openapi, pages, problems
from upphandla.api.middleware import RequestLimits
from upphandla.api.routes_acceptance import router as acceptance_router
from upphandla.api.routes_audit import router as audit_router
from upphandla.api.routes_calendar import router as calendar_router
from upphandla.api.routes_cases import router as cases_router
from upphandla.api.routes_meta import router as meta_router
from upphandla.api.routes_outbox import router as outbox_router
from upphandla.flows.handler import Handler
from upphandla.flows.settings import Settings, get_settings
from upphandla.store.db import Database, open_database


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    # A web process must never start a Prefect server by accident.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
    settings = settings or get_settings()
    app = FastAPI(
        title="upphandla",
        summary="Arbetsflöden för kommunens IT-upphandlingar, från behov till avslut",
        version="0.1.0",
        docs_url=None,  # served from the package's own files (api.pages.apidocs)
        redoc_url=None,
    )
    app.state.settings = settings
    db = db or open_database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    app.state.handler = Handler.on(db)
    problems.install(app)
    openapi.install(app)
    app.include_router(meta_router)
    app.include_router(cases_router)
    app.include_router(acceptance_router)
    app.include_router(outbox_router)
    app.include_router(calendar_router)
    app.include_router(audit_router)
    pages.install(app)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    return app
