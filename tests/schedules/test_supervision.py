"""`upphandla serve` and its two children, the embedded Prefect server and `upphandla worker`, as
real processes: one SIGTERM stops everything within 10 s even with a flow run in flight and the
Prefect server gone; a killed server or worker is restarted (and /health says so truthfully)
and the scheduled sweep runs afterwards; two serves on one machine each keep to their own
Prefect server and database, and a port that is taken is not used; uvicorn's access log goes
on once Prefect is ready."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from prefect_support import (
    Smtp,
    Started,
    alive,
    completed_flow_runs,
    descendants,
    embedded_server,
    free_port,
    get_json,
    prefect_post,
    prefect_state,
    serve_env,
    showing_log,
    start,
    stop_within,
    upphandla,
    wait_for,
    wait_prefect,
)
from sqlalchemy import func, select

from helpers import orm_session
from upphandla.cli.startup import prepare
from upphandla.flows.settings import Settings
from upphandla.store.db import open_database
from upphandla.store.models import CaseRow, OutboxRow

pytestmark = pytest.mark.prefect

OVERDUE_CONTRACT = "Kommunikation som tjänst"  # demo data: its extension ran out
# An ordinary stop: the worker's graceful stop (up to 5 s) and the server's (up to 3 s), with
# room for a busy machine. With the server gone it must take at most 10 s (the first test).
STOP_SECONDS = 20
HOURLY = {"checkpoint": [3600.0]}  # the audit log's checkpoint, on its default interval


class StallingSmtp:
    """A mail server that accepts connections and never says a word: the delivery flow run
    that connects waits for the greeting (UPPHANDLA_SMTP_TIMEOUT), in flight meanwhile."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.connected = threading.Event()
        self._held: list[socket.socket] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)
            self.connected.set()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(5)
        for each in [*self._held, self.listener]:
            each.close()


@pytest.fixture
def stalling_smtp() -> Iterator[StallingSmtp]:
    server = StallingSmtp()
    try:
        yield server
    finally:
        server.close()


def _serve(tmp_path: Path, name: str, port: int, env: dict[str, str], *args: str) -> Started:
    return start(
        upphandla("serve", "--port", str(port), *args),
        env=env,
        cwd=tmp_path,
        log=tmp_path / f"serve-{name}.log",
    )


def _children(data_dir: Path) -> dict[str, Any]:
    return wait_for("the marker file", lambda: embedded_server(data_dir), timeout=30)


def test_one_sigterm_stops_everything_within_10_s_with_a_flow_run_in_flight_and_the_server_gone(
    tmp_path: Path, prefect_db: Callable[[Path], None], stalling_smtp: StallingSmtp
) -> None:
    port = free_port()
    env = serve_env(
        tmp_path,
        "a",
        UPPHANDLA_SMTP_HOST="127.0.0.1",
        UPPHANDLA_SMTP_PORT=str(stalling_smtp.port),
        UPPHANDLA_SMTP_TIMEOUT="600",
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="4",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
    )
    prefect_db(tmp_path / "a-data")
    serve = _serve(tmp_path, "a", port, env, "--demo")
    try:
        with showing_log(serve):
            wait_prefect(port, "ok")
            # The sweep escalates the overdue contract; the delivery run that sends the mail
            # hangs on the mail server: a flow run in flight, a subprocess of the worker.
            wait_for("delivery to connect", stalling_smtp.connected.is_set, timeout=120)
            children = _children(tmp_path / "a-data")
            worker = children["worker"]
            assert [p for p in descendants(worker) if p != worker], "no flow run in flight"

            os.killpg(children["server"], signal.SIGKILL)  # the Prefect server is gone
            assert stop_within(serve, 10) == 0
    finally:
        serve.kill_all()


def test_a_killed_prefect_server_or_worker_is_restarted_and_the_scheduled_sweep_runs_after(
    tmp_path: Path, prefect_db: Callable[[Path], None], smtp: Smtp
) -> None:
    port = free_port()
    env = serve_env(
        tmp_path,
        "a",
        smtp=smtp,
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="4",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
    )
    data = tmp_path / "a-data"
    prefect_db(data)
    serve = _serve(tmp_path, "a", port, env)  # no demo data: nothing to sweep yet
    try:
        with showing_log(serve):
            wait_prefect(port, "ok")
            first = _children(data)
            os.killpg(first["server"], signal.SIGKILL)
            wait_prefect(port, "down", timeout=10)
            wait_prefect(port, "ok", timeout=90)
            second = _children(data)
            assert second["server"] != first["server"] and alive(second["server"])
            assert second["worker"] != first["worker"]  # registered on the new server
            assert "Prefect-servern avslutades (signal SIGKILL); startas om" in serve.output()

            os.killpg(second["worker"], signal.SIGKILL)
            wait_prefect(port, "down", timeout=10)
            wait_prefect(port, "ok", timeout=90)
            third = _children(data)
            assert third["worker"] != second["worker"] and alive(third["worker"])
            assert third["server"] == second["server"]  # the server did not need a restart
            assert "upphandla worker avslutades (signal SIGKILL); startas om" in serve.output()

            # Only now is there anything due: the overdue contract of the demo data. The
            # scheduled sweep escalates it, the scheduled delivery mails it.
            url = env["UPPHANDLA_DATABASE_URL"]
            db = open_database(url)
            try:
                prepare(db, Settings(database_url=url), demo=True)
            finally:
                db.dispose()
            wait_for(
                "the escalation by mail",
                lambda: smtp.inbox.mentioning(OVERDUE_CONTRACT),
                timeout=90,
                every=0.5,
            )
            assert stop_within(serve, STOP_SECONDS) == 0
    finally:
        serve.kill_all()


def _counts(url: str) -> tuple[int, int]:
    db = open_database(url)
    try:
        with orm_session(db, commit=False) as session:
            cases = session.scalar(select(func.count()).select_from(CaseRow))
            outbox = session.scalar(select(func.count()).select_from(OutboxRow))
            return int(cases or 0), int(outbox or 0)
    finally:
        db.dispose()


def _deployments(api_url: str) -> dict[str, list[float]]:
    """Flow name -> the intervals (seconds) of its deployments' schedules, on that server."""
    flows = {f["id"]: f["name"] for f in prefect_post(api_url, "/flows/filter")}
    found: dict[str, list[float]] = {}
    for deployment in prefect_post(api_url, "/deployments/filter"):
        intervals = [s["schedule"]["interval"] for s in deployment["schedules"]]
        found.setdefault(flows[deployment["flow_id"]], []).extend(intervals)
    return found


def test_two_serves_on_one_machine_keep_their_own_prefect_server_and_database(
    tmp_path: Path, prefect_db: Callable[[Path], None], smtp: Smtp, other_smtp: Smtp
) -> None:
    port_a, port_b, port_c = free_port(), free_port(), free_port()
    # Neither says which Prefect port: each gets one of its own data directory.
    env_a = serve_env(
        tmp_path,
        "a",
        smtp=smtp,
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="4",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
    )
    env_b = serve_env(
        tmp_path,
        "b",
        smtp=other_smtp,
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="6",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="5",
    )
    data_a, data_b = tmp_path / "a-data", tmp_path / "b-data"
    prefect_db(data_a)
    prefect_db(data_b)
    started: list[Started] = []
    try:
        a = _serve(tmp_path, "a", port_a, env_a, "--demo")
        started.append(a)
        with showing_log(a):
            _children(data_a)  # A has chosen its port
        b = _serve(tmp_path, "b", port_b, env_b)  # B has no demo data: nothing to sweep
        started.append(b)
        with showing_log(*started):
            wait_prefect(port_a, "ok")
            wait_prefect(port_b, "ok")
            server_a, server_b = _children(data_a)["api_url"], _children(data_b)["api_url"]
            assert server_a != server_b
            for api_url, data in ((server_a, data_a), (server_b, data_b)):
                home = (get_json(f"{api_url}/admin/settings") or {}).get("home")
                assert Path(str(home)).resolve() == (data / "prefect").resolve()

            # A's schedule sweeps A's database and mails through A's mail server; B's runs
            # on B's server over B's empty database.
            wait_for(
                "A's escalation by mail",
                lambda: smtp.inbox.mentioning(OVERDUE_CONTRACT),
                timeout=120,
                every=0.5,
            )
            wait_for("a sweep on B's server", lambda: completed_flow_runs(server_b, "sweep"))
            assert other_smtp.inbox.messages == []
            assert _counts(env_b["UPPHANDLA_DATABASE_URL"]) == (0, 0)
            # Each server holds its own serve's two deployments, nobody else's.
            assert _deployments(server_a) == {"sweep": [4.0], "deliver-outbox": [3.0], **HOURLY}
            assert _deployments(server_b) == {"sweep": [6.0], "deliver-outbox": [5.0], **HOURLY}

            # A third serve told to use A's Prefect port does not use A's server.
            taken = str(urlsplit(server_a).port)
            env_c = serve_env(
                tmp_path,
                "c",
                UPPHANDLA_PREFECT_PORT=taken,
                UPPHANDLA_SWEEP_INTERVAL_SECONDS="1",
            )
            c = _serve(tmp_path, "c", port_c, env_c)
            started.append(c)
            first = wait_for("C's API", lambda: get_json(f"http://127.0.0.1:{port_c}/health"))
            assert first["prefect"] == "down"
            assert f"Port {taken} (UPPHANDLA_PREFECT_PORT) används redan" in c.output()
            assert list(descendants(c.pid)) == [c.pid]  # no Prefect server, no worker
            assert prefect_state(port_c) == "down"
            assert stop_within(c, 10) == 0
            assert _deployments(server_a) == {"sweep": [4.0], "deliver-outbox": [3.0], **HOURLY}

            assert stop_within(a, STOP_SECONDS) == 0
            assert stop_within(b, STOP_SECONDS) == 0
    finally:
        for each in reversed(started):
            each.kill_all()


def test_the_access_log_goes_on_once_prefect_is_ready(
    tmp_path: Path, prefect_db: Callable[[Path], None]
) -> None:
    port = free_port()
    env = serve_env(
        tmp_path,
        "a",
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="4",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
    )
    prefect_db(tmp_path / "a-data")
    serve = _serve(tmp_path, "a", port, env, "--demo")
    try:
        with showing_log(serve):
            wait_prefect(port, "ok")
            api_url = _children(tmp_path / "a-data")["api_url"]
            wait_for("a finished sweep", lambda: completed_flow_runs(api_url, "sweep"))
            for n in range(3):
                answer = get_json(f"http://127.0.0.1:{port}/health?after-prefect-ok={n}")
                assert answer is not None and answer["prefect"] == "ok"
            lines = [f'"GET /health?after-prefect-ok={n} HTTP/1.1" 200' for n in range(3)]
            wait_for(
                "uvicorn's access log lines",
                lambda: all(line in serve.output() for line in lines),
                timeout=10,
            )
            assert stop_within(serve, STOP_SECONDS) == 0
    finally:
        serve.kill_all()
