"""`upphandla serve --demo` end to end, as a user starts it: the API answers at once while
Prefect starts, the embedded Prefect server and an `upphandla worker` come up as children of
serve (each in a session of its own), the scheduled sweep and delivery run by themselves (in
the worker's flow-run subprocesses, never in serve) and a reminder reaches a real SMTP server,
`sweep --now` finds the running server, and one SIGTERM stops everything serve started."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from prefect_support import (
    Smtp,
    base_env,
    descendants,
    embedded_server,
    free_port,
    get_json,
    living_in_sessions,
    showing_log,
    start,
    upphandla,
    wait_for,
)

pytestmark = pytest.mark.prefect

OVERDUE_CONTRACT = "Kommunikation som tjänst"


def test_serve_starts_prefect_runs_the_schedules_and_stops_with_one_sigterm(
    tmp_path: Path, smtp: Smtp, prefect_db: Callable[[Path], None]
) -> None:
    port, prefect_port = free_port(), free_port()
    env = base_env(
        UPPHANDLA_DATABASE_URL=f"sqlite:///{tmp_path}/upphandla.db",
        UPPHANDLA_DATA_DIR=str(tmp_path / "data"),
        UPPHANDLA_PREFECT_PORT=str(prefect_port),
        UPPHANDLA_SWEEP_INTERVAL_SECONDS="5",
        UPPHANDLA_DELIVERY_INTERVAL_SECONDS="3",
        **smtp.env(),
    )
    prefect_db(tmp_path / "data")
    health = f"http://127.0.0.1:{port}/health"
    serve = start(
        upphandla("serve", "--demo", "--port", str(port)),
        env=env,
        cwd=tmp_path,
        log=tmp_path / "serve.log",
    )
    try:
        with showing_log(serve):
            first = wait_for("the API", lambda: get_json(health), timeout=60, every=0.05)
            assert first["status"] == "ok" and first["database"] == "ok"
            assert first["prefect"] == "starting"  # the API does not wait for Prefect
            wait_for(
                "Prefect ok",
                lambda: (get_json(health) or {}).get("prefect") == "ok",
                timeout=120,
                every=0.5,
            )
            assert f"http://127.0.0.1:{prefect_port}" in serve.output()  # where the UI is
            assert get_json(f"http://127.0.0.1:{prefect_port}/api/health") is True
            children = embedded_server(tmp_path / "data")
            assert children is not None
            assert children["api_url"] == f"http://127.0.0.1:{prefect_port}/api"
            tree = descendants(serve.pid)
            server, worker = tree[children["server"]], tree[children["worker"]]
            # Two children, each the leader of a session of its own; nothing else.
            assert {p.pid for p in tree.values() if p.ppid == serve.pid} == {server.pid, worker.pid}
            assert server.sid == server.pid and worker.sid == worker.pid
            assert "prefect server start" in server.command
            assert "upphandla.cli.main worker" in worker.command
            environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
            assert f"PREFECT_API_URL={children['api_url']}".encode() in environ
            assert f"PREFECT_HOME={tmp_path / 'data' / 'prefect'}".encode() in environ

            # Nobody asks: the scheduled sweep escalates the overdue contract, delivery sends it.
            wait_for(
                "the escalation by mail",
                lambda: smtp.inbox.mentioning(OVERDUE_CONTRACT),
                timeout=120,
                every=0.5,
            )

            # `sweep --now` uses the running embedded server; stdout is one JSON object.
            result = subprocess.run(
                upphandla("sweep", "--now", "--json"),
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            report = json.loads(result.stdout)
            assert {"enqueued", "escalated", "transitions", "findings"} <= set(report)
            assert f"127.0.0.1:{prefect_port}" in result.stderr  # not a temporary server

            sessions = serve.sessions()
            assert len(sessions) >= 3  # serve's own, the Prefect server's and the worker's
            serve.process.send_signal(signal.SIGTERM)
            assert serve.process.wait(90) == 0
            wait_for(
                "every process serve started to end",
                lambda: not living_in_sessions(sessions),
                timeout=20,
            )
            assert not (tmp_path / "data" / "prefect" / "embedded-server.json").exists()
    finally:
        serve.kill_all()
