"""What /health says about Prefect, against a stand-in for a Prefect server's /api/health (no
Prefect needed, so these are fast): off without a server, starting until the server answers
(and, when this process serves the deployments, until they are served), ok, and down when the
server stops answering or its process ends. The route only reads the kept state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prefect_support import wait_for

from helpers import make_client
from upphandla.flows.orchestration.status import PrefectStatus
from upphandla.store.db import Database


class FakePrefect:
    """Answers GET /api/health with 200 `true` while `healthy`, else 503."""

    def __init__(self) -> None:
        self.healthy = True
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                ok = owner.healthy and self.path == "/api/health"
                self.send_response(200 if ok else 503)
                self.end_headers()
                self.wfile.write(b"true" if ok else b"false")

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


def test_an_embedded_server_is_ok_only_once_the_deployments_are_served(
    fake_prefect: FakePrefect,
) -> None:
    alive = True
    status = PrefectStatus(
        fake_prefect.api_url,
        expect_serving=True,
        alive=lambda: alive,
        interval_starting=0.05,
        interval=0.05,
    ).start()
    try:
        assert status.healthy.wait(10)
        assert status.state == "starting"
        status.serving(True)
        assert status.state == "ok"
        alive = False  # the server process ended
        wait_for("down", lambda: status.state == "down", timeout=10, every=0.02)
        alive = True
        status.poll()
        assert status.state == "down"  # for good: nothing restarts it
    finally:
        status.stop()


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
