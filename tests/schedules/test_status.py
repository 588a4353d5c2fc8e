"""What /health says about Prefect, against a stand-in for a Prefect server's /api/health (no
Prefect needed, so these are fast): off without a server, starting until the server answers
(and, for `serve`'s own server, until its worker serves the deployments), ok, and down when the
server stops answering or a child process ends, until it is ok again. The route only reads the
kept state. And how a server is told to be this data directory's own."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prefect_support import base_env, upphandla, wait_for

from helpers import make_client
from upphandla.flows.orchestration.status import PrefectStatus, server_home, serves_home
from upphandla.store.db import Database


class FakePrefect:
    """Answers GET /api/health with 200 `true` while `healthy`, else 503; and GET
    /api/admin/settings with a `home` (404 if `home` is None)."""

    def __init__(self) -> None:
        self.healthy = True
        self.home: str | None = None
        self.posts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path == "/api/admin/settings" and owner.home is not None:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(json.dumps({"home": owner.home}).encode())
                    return
                ok = owner.healthy and self.path == "/api/health"
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(b"true" if ok else b"false")

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                owner.posts.append(self.path)
                self.send_response(500)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePrefect:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_prefect() -> Iterator[FakePrefect]:
    with FakePrefect() as fake:
        yield fake


def test_without_a_server_prefect_is_off() -> None:
    assert PrefectStatus(None).start().state == "off"


def test_a_remote_server_is_starting_then_ok_then_down(fake_prefect: FakePrefect) -> None:
    status = PrefectStatus(fake_prefect.api_url, interval_starting=0.05, interval=0.05)
    assert status.state == "starting"  # not asked yet
    status.start()
    try:
        wait_for("ok", lambda: status.state == "ok", timeout=10, every=0.02)
        fake_prefect.healthy = False
        wait_for("down", lambda: status.state == "down", timeout=10, every=0.02)
        fake_prefect.healthy = True
        wait_for("ok again", lambda: status.state == "ok", timeout=10, every=0.02)
    finally:
        status.stop()


def test_a_supervised_status_is_starting_until_ok_then_down_until_ok_again() -> None:
    """The probe of `serve`'s supervisor: True (server ours and answering, worker serving),
    None (still starting), False (something ended or stopped answering)."""
    answer: bool | None = None
    status = PrefectStatus("http://127.0.0.1:9/api", probe=lambda: answer)
    assert status.state == "starting"  # not asked yet
    status.poll()
    assert status.state == "starting"  # the server answers, the worker not yet
    answer = True
    status.poll()
    assert status.state == "ok"
    answer = False  # the server process ended
    status.poll()
    assert status.state == "down"
    answer = None  # restarted, coming up again: not "starting", the schedules are not running
    status.poll()
    assert status.state == "down"
    answer = True
    status.poll()
    assert status.state == "ok"
    status.fail()  # schedules off (a taken port): down for good
    status.poll()
    assert status.state == "down"


def test_a_child_that_fails_before_the_first_ok_makes_it_down() -> None:
    answer: bool | None = False
    status = PrefectStatus("http://127.0.0.1:9/api", probe=lambda: answer)
    status.poll()
    assert status.state == "down"


def test_the_status_thread_follows_the_probe_and_can_be_nudged() -> None:
    answers: list[bool | None] = []
    answer: bool | None = None

    def probe() -> bool | None:
        answers.append(answer)
        return answer

    status = PrefectStatus(
        "http://127.0.0.1:9/api", probe=probe, interval_starting=0.05, interval=60
    ).start()
    try:
        answer = True
        wait_for("ok", lambda: status.state == "ok", timeout=10, every=0.02)
        answer = False  # now it polls once a minute, unless nudged
        asked = len(answers)
        status.nudge()
        wait_for("down", lambda: status.state == "down", timeout=10, every=0.02)
        assert len(answers) == asked + 1
    finally:
        status.stop()


def test_a_server_is_ours_only_if_its_home_is_this_data_directorys(
    fake_prefect: FakePrefect, tmp_path: Path
) -> None:
    ours, theirs = tmp_path / "a" / "prefect", tmp_path / "b" / "prefect"
    fake_prefect.home = str(ours)
    assert server_home(fake_prefect.api_url) == ours
    assert serves_home(fake_prefect.api_url, ours)
    assert not serves_home(fake_prefect.api_url, theirs)
    fake_prefect.home = None  # a server that does not say
    assert not serves_home(fake_prefect.api_url, ours)
    assert not serves_home("http://127.0.0.1:9/api", ours)  # nobody there


def test_health_reports_the_kept_state_and_watches_prefect_api_url_by_itself(
    db: Database,
    db_url: str,
    fake_prefect: FakePrefect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client: TestClient
    with make_client(db, db_url) as client:
        assert client.get("/health").json()["prefect"] == "off"
        kept = PrefectStatus(fake_prefect.api_url)  # never polled: starting
        client.app.state.prefect = kept  # type: ignore[attr-defined]
        assert client.get("/health").json() == {
            "status": "ok",
            "database": "ok",
            "prefect": "starting",
        }
        kept.poll()
        assert client.get("/health").json()["prefect"] == "ok"
    monkeypatch.setenv("PREFECT_API_URL", fake_prefect.api_url)
    with make_client(db, db_url) as client:
        wait_for(
            "the app's own watcher",
            lambda: client.get("/health").json()["prefect"] == "ok",
            timeout=10,
        )
        client.app.state.prefect.stop()  # type: ignore[attr-defined]


def test_the_worker_of_a_serve_registers_nothing_on_a_server_of_another_data_directory(
    fake_prefect: FakePrefect, tmp_path: Path
) -> None:
    ours, theirs = tmp_path / "a" / "prefect", tmp_path / "b" / "prefect"
    fake_prefect.home = str(theirs)
    result = subprocess.run(
        upphandla("worker", "--server-home", str(ours)),
        env=base_env(PREFECT_API_URL=fake_prefect.api_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"inte den med hemkatalogen {ours}" in result.stderr
    assert fake_prefect.posts == []  # no deployment, no flow, nothing
