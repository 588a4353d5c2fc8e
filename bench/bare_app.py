"""Part of bench.bench_http: the baseline, a bare FastAPI application with one trivial GET and one
POST that parses a small JSON body, served by uvicorn exactly like the real app. Its handlers are
plain `def`, like the real app's routes, so both pay the same hop to the thread pool."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, Field


class TransitionIn(BaseModel):
    trigger: str = Field(min_length=1, max_length=64)
    comment: str | None = None


def create_app() -> FastAPI:
    app = FastAPI(title="bare")

    @app.get("/bare/{item_id}")
    def read(item_id: int) -> dict[str, object]:
        return {"id": item_id, "state": "behovsanalys", "title": "Bare"}

    @app.post("/bare/{item_id}/transitions")
    def fire(item_id: int, body: TransitionIn) -> dict[str, object]:
        return {"case_id": item_id, "trigger": body.trigger, "to_state": "forstudie"}

    return app
