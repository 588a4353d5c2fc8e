"""Part of bench.bench_http: what one request of the real app asks of the database (SQLAlchemy
events) and how often it hops to the thread pool (anyio.to_thread.run_sync: every sync
dependency, the sync endpoint and its response validation), counted in one in-process run
(fastapi.testclient) on a fresh SQLite file; the bare app's hops for comparison."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from bench.bare_app import create_app as create_bare_app
from bench.http_support import CASE, EVIDENCE, TRANSITION
from sqlalchemy import event

LABELS = ("GET /api/cases/{id}", "POST /api/cases/{id}/transitions")


@contextmanager
def _hops(counts: Counter[str]) -> Iterator[None]:
    """Count the calls of anyio.to_thread.run_sync, through which Starlette and FastAPI run
    every sync dependency and endpoint."""
    original = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        counts["hops"] += 1
        return await original(*args, **kwargs)

    anyio.to_thread.run_sync = counted  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


def _test_client() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note about httpx
        from fastapi.testclient import TestClient
    return TestClient


def bare_hops() -> dict[str, int]:
    counts: Counter[str] = Counter()
    with _test_client()(create_bare_app()) as client, _hops(counts):
        client.get("/bare/1").raise_for_status()
        get = counts.pop("hops")
        client.post("/bare/1/transitions", json=TRANSITION).raise_for_status()
    return dict(zip(LABELS, (get, counts["hops"]), strict=True))


def count_requests(tmp: Path, synchronous: str) -> dict[str, Counter[str]]:
    """Counters for one GET /api/cases/{id} and one successful POST .../transitions, each
    measured on its second occurrence (caches warm): thread-pool hops, statements by first
    word, transactions, commits, rollbacks, pool checkouts, new DBAPI connections per engine."""

    from upphandla.api.app import create_app
    from upphandla.cli.startup import prepare
    from upphandla.flows.commands.users import AddUser
    from upphandla.flows.handler import Handler
    from upphandla.flows.settings import Settings
    from upphandla.store.db import open_database

    settings = Settings.model_validate(
        {"database_url": f"sqlite:///{tmp / 'counts.db'}", "sqlite_synchronous": synchronous}
    )
    db = open_database(settings.database_url, sqlite_synchronous=synchronous)
    prepare(db, settings, demo=False)
    token = (
        Handler.on(db)
        .run(
            AddUser(
                name="Bench",
                email="bench@example.se",
                role="bestallare",
                organisation="socialforvaltningen",
            )
        )
        .result.token
    )
    counts: Counter[str] = Counter()

    def listen(engine: Any, name: str) -> None:
        def on(what: str, key: Callable[..., str]) -> None:
            target = engine.pool if what in ("checkout", "connect") else engine
            event.listen(target, what, lambda *a, **k: counts.update([key(*a)]))

        on("before_cursor_execute", lambda c, cur, sql, *a: f"{name} {sql.split()[0].upper()}")
        on("begin", lambda *a: f"{name} transactions")
        on("commit", lambda *a: f"{name} commits")
        on("rollback", lambda *a: f"{name} rollbacks")
        on("checkout", lambda *a: f"{name} pool checkouts")
        on("connect", lambda *a: f"{name} new connections")

    listen(db.writer, "writer")
    listen(db.reader, "reader")
    headers = {"Authorization": f"Bearer {token}"}
    result: dict[str, Counter[str]] = {}
    try:
        with _test_client()(create_app(settings, db)) as client:
            ids = []
            for _ in range(2):
                answer = client.post("/api/cases", json=CASE, headers=headers)
                ids.append(answer.json()["id"])
                client.post(f"/api/cases/{ids[-1]}/evidence", json=EVIDENCE, headers=headers)
            requests = (("GET", "/api/cases/{}", None), ("POST", "/api/cases/{}/transitions", TRANSITION))  # fmt: skip
            for label, (method, path, body) in zip(LABELS, requests, strict=True):
                for case_id in ids:
                    counts.clear()
                    with _hops(counts):
                        answer = client.request(
                            method, path.format(case_id), json=body, headers=headers
                        )
                    answer.raise_for_status()
                result[label] = Counter(counts)
    finally:
        db.dispose()
    return result


def describe(counts: Counter[str], bare_hops: int) -> str:
    counts = Counter(counts)
    hops = counts.pop("hops", 0)
    statements = sum(
        n for k, n in counts.items() if k.split()[1].isupper() and k.split()[1] != "PRAGMA"
    )
    parts = [
        f"{statements} SQL statements (BEGIN included, PRAGMA not); "
        f"{hops} thread-pool hops (bare app: {bare_hops})"
    ]
    for engine in ("reader", "writer"):
        mine = {k.split(" ", 1)[1]: n for k, n in counts.items() if k.startswith(engine)}
        if mine:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(mine.items()) if k.isupper())
            other = ", ".join(f"{n} {k}" for k, n in sorted(mine.items()) if not k.isupper())
            parts.append(f"{engine} engine: {other}; {kinds}")
    return "\n      ".join(parts)
