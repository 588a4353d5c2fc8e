"""Prefect beside `upphandla serve`, and where the other commands find a Prefect server.

Embedded (no PREFECT_API_URL in the environment): `serve` starts `prefect server start` as a
child process in a session of its own (its SQLite database and PREFECT_HOME in the data
directory), and one background thread waits until that server is healthy and then serves the
sweep and delivery deployments (flows.orchestration.DeploymentServer); the runner starts each
flow run as a subprocess. The API does not wait for any of this. If `serve` is killed outright,
the server child gets SIGTERM from the kernel (Linux: PR_SET_PDEATHSIG).

At scale (PREFECT_API_URL set): `serve` starts no server and serves nothing (that is
`upphandla worker`'s job); it only watches the server for /health.

`stop()` stops the runner (which stops its flow runs), then the server's whole process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from upphandla.cli.embedded_prefect import MARKER, EmbeddedServer
from upphandla.flows.orchestration.status import PrefectStatus, server_healthy
from upphandla.flows.settings import Settings

if TYPE_CHECKING:
    from upphandla.flows.orchestration.prefect_flows import DeploymentServer

STARTUP_TIMEOUT_SECONDS = 180.0


@dataclass(frozen=True)
class PrefectPlace:
    """Where this process's Prefect server is: `api_url` for clients, `ui_url` for people;
    `home` is the data directory's Prefect home when the server is embedded."""

    api_url: str
    ui_url: str
    embedded: bool
    home: Path | None


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _ui_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


def prefect_place(settings: Settings) -> PrefectPlace:
    """The remote server of PREFECT_API_URL if set, else the embedded one of this data dir."""
    remote = os.environ.get("PREFECT_API_URL")
    if remote:
        return PrefectPlace(remote, _ui_url(remote), embedded=False, home=None)
    base = f"http://{_client_host(settings.prefect_host)}:{settings.prefect_port}"
    return PrefectPlace(
        f"{base}/api", base, embedded=True, home=settings.resolved_data_dir() / "prefect"
    )


def quiet_prefect_env() -> None:
    """No telemetry, and no temporary server started by accident."""
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")


def use_embedded_env(place: PrefectPlace) -> None:
    """Point this process (and its flow-run subprocesses) at the embedded server. Must run
    before Prefect is imported: Prefect reads its settings then."""
    assert place.home is not None
    place.home.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(place.home)
    os.environ["PREFECT_API_URL"] = place.api_url
    quiet_prefect_env()


def running_embedded_server(settings: Settings) -> str | None:
    """The API URL of the embedded server of this data dir if a `serve` runs it and it is
    healthy now, else None."""
    marker = settings.resolved_data_dir() / "prefect" / MARKER
    try:
        api_url = str(json.loads(marker.read_text(encoding="utf-8"))["api_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return api_url if server_healthy(api_url) else None


class Supervisor:
    """Prefect beside the API of `serve`: see the module's docstring."""

    def __init__(self, settings: Settings, place: PrefectPlace) -> None:
        self.settings = settings
        self.place = place
        self.server = EmbeddedServer(settings, place) if place.embedded else None
        self.status = PrefectStatus(
            place.api_url,
            expect_serving=place.embedded,
            alive=self.server.alive if self.server is not None else None,
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._deployment_server: DeploymentServer | None = None
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def start(self) -> PrefectStatus:
        if self.server is not None:
            if server_healthy(self.place.api_url, timeout=1.0):
                _say(
                    f"Port {self.settings.prefect_port} används redan av en Prefect-server; "
                    "scheman körs inte. Stoppa den andra servern eller välj en annan port "
                    "med UPPHANDLA_PREFECT_PORT."
                )
                self.status.fail()
                return self.status
            self.server.start()
            self._thread = threading.Thread(
                target=self._serve_when_ready, name="upphandla-prefect-runner", daemon=True
            )
            self._thread.start()
        self.status.start()
        return self.status

    def _serve_when_ready(self) -> None:
        assert self.server is not None
        started = time.monotonic()
        try:
            while not self.status.healthy.wait(0.5):
                if self._stop.is_set():
                    return
                if not self.server.alive():
                    _say(
                        "Prefect-servern avslutades under starten; se "
                        f"{self.server.log_path}. API:t fortsätter utan scheman."
                    )
                    self.status.fail()
                    return
                if time.monotonic() - started > STARTUP_TIMEOUT_SECONDS:
                    _say(f"Prefect-servern svarar inte; se {self.server.log_path}.")
                    self.status.fail()
                    return
            from upphandla.flows.orchestration.prefect_flows import DeploymentServer, deployments

            server = DeploymentServer(
                deployments(self.settings),
                name=f"upphandla-serve-{os.getpid()}",
                pause_on_shutdown=True,
                on_serving=self._serving,
            )
            with self._lock:
                if self._stop.is_set():
                    return
                self._deployment_server = server
            server.run()
        except Exception as exc:  # noqa: BLE001 - reported; the API goes on without schedules
            _say(f"Scheman kunde inte startas: {exc}")
        finally:
            self.status.serving(False)
            if not self._stop.is_set():
                self.status.fail()

    def _serving(self) -> None:
        self.status.serving(True)
        _say(
            f"Prefect är redo ({time.monotonic() - self._started:.1f} s): svep var "
            f"{self.settings.sweep_interval_seconds}:e sekund, utskick var "
            f"{self.settings.delivery_interval_seconds}:e sekund."
        )

    def stop(self) -> None:
        """Stop the runner (and its flow runs), then the server. Safe to call twice."""
        with self._lock:
            self._stop.set()
            deployment_server = self._deployment_server
        if deployment_server is not None:
            deployment_server.stop()
        if self._thread is not None:
            self._thread.join(timeout=45)
        server_process = self.server.process if self.server is not None else None
        _stop_children({server_process.pid} if server_process is not None else set())
        if "upphandla.flows.orchestration.prefect_flows" in sys.modules:
            from upphandla.flows.orchestration.prefect_flows import flush_prefect

            flush_prefect()
        if self.server is not None:
            self.server.stop()
        self.status.stop()


def _children(spare: set[int]) -> list[int]:
    """This process's child processes (Linux: from /proc), except those in `spare`."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.parent.name)
        if int(fields[1]) == me and fields[0] != "Z" and pid not in spare:
            found.append(pid)
    return found


def _stop_children(spare: set[int], timeout: float = 10.0) -> None:
    """Flow-run subprocesses that the runner left behind (normally none): SIGTERM, then
    SIGKILL after `timeout`. The server child (in `spare`) is stopped on its own."""
    if not Path("/proc/self/stat").exists():
        return
    children = _children(spare)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while children and time.monotonic() < deadline:
        time.sleep(0.1)
        children = [pid for pid in children if pid in _children(spare)]
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _say(message: str) -> None:
    typer.echo(message, err=True)
