"""The at-scale setup as separate processes on loopback: PostgreSQL (one database for upphandla,
one for Prefect), `prefect server start` on PostgreSQL, `upphandla serve` with PREFECT_API_URL
(the API only: it starts no Prefect server and serves nothing) and `upphandla worker`, which
runs the scheduled sweep and delivery; a reminder reaches a real SMTP server. Then everything
is stopped, and SIGTERM stops the worker cleanly."""

from __future__ import annotations

import itertools
import os
import signal
import sys
from pathlib import Path

import pytest
from prefect_support import (
    Smtp,
    Started,
    base_env,
    descendants,
    free_port,
    get_json,
    living_in_sessions,
    showing_log,
    start,
    upphandla,
    wait_for,
)
from sqlalchemy import func, select

from helpers import orm_session
from pg import PostgresServer
from upphandla.store.db import open_database
from upphandla.store.models import OutboxRow

pytestmark = [pytest.mark.prefect, pytest.mark.postgres]

OVERDUE_CONTRACT = "Kommunikation som tjänst"
_numbers = itertools.count(1)


def _selected() -> bool:
    raw = os.environ.get("UPPHANDLA_TEST_BACKENDS", "sqlite,postgresql")
    return "postgresql" in {part.strip() for part in raw.split(",")}


def _sent(url: str) -> int:
    db = open_database(url)
    try:
        with orm_session(db, commit=False) as session:
            query = select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "sent")
            return int(session.scalar(query) or 0)
    finally:
        db.dispose()


def _stop(started: Started) -> int:
    sessions = started.sessions()
    started.process.send_signal(signal.SIGTERM)
    code = started.process.wait(90)
    wait_for(
        f"{started.log.name}: every process to end",
        lambda: not living_in_sessions(sessions),
        timeout=20,
    )
    return code


@pytest.mark.skipif(not _selected(), reason="UPPHANDLA_TEST_BACKENDS leaves out postgresql")
def test_worker_and_api_against_a_prefect_server_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: Smtp
) -> None:
    pg: PostgresServer = request.getfixturevalue("pg_server")
    n = next(_numbers)
    app_db, prefect_db = f"scale_app_{n}", f"scale_prefect_{n}"
    app_url = pg.create_database(app_db)
    prefect_url = pg.create_database(prefect_db).replace("postgresql://", "postgresql+asyncpg://")
    prefect_port, port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{prefect_port}/api"
    started: list[Started] = []
    try:
        prefect_server = start(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
            + ["--port", str(prefect_port)],
            env=base_env(
                PREFECT_HOME=str(tmp_path / "prefect-home"),
                PREFECT_API_DATABASE_CONNECTION_URL=prefect_url,
                PREFECT_SERVER_ANALYTICS_ENABLED="false",
                PREFECT_UI_ENABLED="false",
            ),
            cwd=tmp_path,
            log=tmp_path / "prefect-server.log",
        )
        started.append(prefect_server)
        env = base_env(
            PREFECT_API_URL=api_url,
            UPPHANDLA_DATABASE_URL=app_url,
            UPPHANDLA_DATA_DIR=str(tmp_path / "data"),
            UPPHANDLA_SWEEP_INTERVAL_SECONDS="5",
            UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
            **smtp.env(),
        )
        serve = start(
            upphandla("serve", "--demo", "--port", str(port)),
            env=env,
            cwd=tmp_path,
            log=tmp_path / "serve.log",
        )
        started.append(serve)
        with showing_log(*started):
            health = f"http://127.0.0.1:{port}/health"
            wait_for("the API", lambda: get_json(health), timeout=60, every=0.1)
            wait_for("the Prefect server", lambda: get_json(f"{api_url}/health"), timeout=120)
            wait_for(
                "the API to see Prefect ok",
                lambda: (get_json(health) or {}).get("prefect") == "ok",
                timeout=30,
            )
            assert list(descendants(serve.pid)) == [serve.pid]  # no server, no runner runs

            worker = start(upphandla("worker"), env=env, cwd=tmp_path, log=tmp_path / "worker.log")
            started.append(worker)
            wait_for(
                "the escalation by mail",
                lambda: smtp.inbox.mentioning(OVERDUE_CONTRACT),
                timeout=120,
                every=0.5,
            )
            assert _sent(app_url) >= 1

            assert _stop(worker) == 0
            assert "upphandla worker har stoppats." in worker.output()
            assert _stop(serve) == 0
            prefect_server.process.send_signal(signal.SIGTERM)
            prefect_server.process.wait(60)
    finally:
        for each in reversed(started):
            each.kill_all()
        pg.drop_database(app_db)
        pg.drop_database(prefect_db)
