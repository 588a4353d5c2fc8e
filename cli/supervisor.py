"""Prefect beside `upphandla serve`. The API process itself never imports Prefect.

Embedded (no PREFECT_API_URL in the environment): `serve` runs two children, each in a session
(process group) of its own, with its output in a log in `<data dir>/prefect`:

- `prefect server start` (cli.embedded_prefect: home and SQLite database in the data
  directory, on a port of this data directory), log `server.log`;
- `upphandla worker`, the same command that runs at scale, pointed at that server
  (PREFECT_API_URL, PREFECT_HOME); it registers the sweep and delivery deployments, writes
  `worker-ready.json` once it serves them, and runs each flow run as a subprocess in its
  process group; log `worker.log`. It starts once the server answers and is this data
  directory's (its settings name this home).

One thread (`upphandla-supervisor`) starts, watches, restarts and stops them: a child that
ends is restarted after 1 s, then 2, 4 … up to 30 s if it keeps ending within a minute; a
server that does not answer within 180 s is restarted likewise. Whenever the server is
restarted, so is the worker (it registers the deployments on the new server). A port given
with UPPHANDLA_PREFECT_PORT that is taken turns the schedules off until `serve` restarts; a
chosen one is chosen anew. Stopping: SIGTERM to the worker's group, SIGKILL after 5 s (1 s if
the server is gone: the worker's graceful stop only talks to it); then the same for the
server's group after 3 s. The children get SIGTERM from the kernel if `serve`
is killed outright (Linux: PR_SET_PDEATHSIG, bound to that thread).

`/health` reads a PrefectStatus whose probe is `_probe`: `ok` while the server answers, is
ours, and the current worker has written its ready file; `starting` until the first `ok`
unless something failed; `down` otherwise.

At scale (PREFECT_API_URL set): `serve` starts no child; the status polls that server's
health, and `upphandla worker` runs elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

import typer

from upphandla.cli.child import Child, how_it_ended
from upphandla.cli.embedded_prefect import (
    MARKER,
    WORKER_READY,
    Place,
    choose_port,
    port_fixed,
    port_free,
    prefect_home,
    read_json,
    remember_port,
    server_command,
    worker_command,
    write_json,
)
from upphandla.flows.orchestration.status import PrefectStatus, server_healthy, serves_home
from upphandla.flows.settings import Settings

STARTUP_TIMEOUT_SECONDS = 180.0
WORKER_GRACE_SECONDS = 5.0
LONELY_WORKER_GRACE_SECONDS = 1.0  # when the server is gone
SERVER_GRACE_SECONDS = 3.0
TICK_SECONDS = 0.2


class Supervisor:
    """Prefect beside the API of `serve`: see the module's docstring."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        remote = os.environ.get("PREFECT_API_URL") or None
        self.embedded = remote is None
        self.home = prefect_home(settings)
        self.place: Place | None = None
        self.server = Child("Prefect-servern", self.home / "server.log")
        self.worker = Child("upphandla worker", self.home / "worker.log")
        self.status = PrefectStatus(remote, probe=self._probe if self.embedded else None)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._given_up = False
        self._trouble = False  # a child ended or hung since the last `ok`
        self._was_ok = False
        self._started = time.monotonic()

    @property
    def ui_url(self) -> str | None:
        if self.place is not None:
            return self.place.ui_url
        remote = self.status.api_url
        return remote.rstrip("/").removesuffix("/api") if remote else None

    def describe(self) -> str | None:
        """Where the Prefect UI is, for people; None when the schedules are off."""
        if self._given_up:
            return None
        if self.embedded:
            return f"Prefect-gränssnittet: {self.ui_url}  (startar i bakgrunden)"
        return f"Prefect: {self.ui_url}  (scheman körs av `upphandla worker`, inte här)"

    def start(self) -> PrefectStatus:
        if not self.embedded:
            return self.status.start()
        self.home.mkdir(parents=True, exist_ok=True)
        port = choose_port(self.settings, self.home)
        if port is None:
            self.place = Place(self.settings.prefect_host, self.settings.prefect_port)
            self.status.api_url = self.place.api_url
            self._port_taken(self.settings.prefect_port)
            return self.status
        self.place = Place(self.settings.prefect_host, port)
        self.status.api_url = self.place.api_url
        self._thread = threading.Thread(
            target=self._supervise, name="upphandla-supervisor", daemon=True
        )
        self._thread.start()
        return self.status.start()

    def stop(self) -> None:
        """Stop the worker, then the server (see the module's docstring). Safe to call twice."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=WORKER_GRACE_SECONDS + SERVER_GRACE_SECONDS + 10)
        self.status.stop()

    # -- the supervisor's thread ------------------------------------------------------------

    def _supervise(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    self._tick()
                except Exception as exc:  # noqa: BLE001 - reported; it goes on supervising
                    _say(f"Fel i övervakningen av Prefect: {exc!r}")
                self._stopping.wait(TICK_SECONDS)
        finally:
            # Its graceful stop talks to the server (pauses the schedules, reports its flow
            # runs): without a server there is nothing to wait for.
            server_gone = not self.server.running or self.server.ended() is not None
            self.worker.stop(LONELY_WORKER_GRACE_SECONDS if server_gone else WORKER_GRACE_SECONDS)
            self.server.stop(SERVER_GRACE_SECONDS)
            self._forget_files()

    def _tick(self) -> None:
        now = time.monotonic()
        server, worker = self.server, self.worker
        code = worker.ended()
        if code is not None:
            worker.reap(now)
            self._troubled()
            _say(
                f"upphandla worker avslutades ({how_it_ended(code)}); startas om om "
                f"{worker.backoff:.0f} s. Logg: {worker.log_path}"
            )
        code = server.ended()
        if code is not None:
            server.reap(now)
            self._troubled()
            _say(
                f"Prefect-servern avslutades ({how_it_ended(code)}); startas om om "
                f"{server.backoff:.0f} s. Logg: {server.log_path}"
            )
        for child in (server, worker):
            if child.running and not child.up and now - child.started_at > STARTUP_TIMEOUT_SECONDS:
                _say(
                    f"{child.label} kom inte igång inom {STARTUP_TIMEOUT_SECONDS:.0f} s; "
                    f"startas om. Logg: {child.log_path}"
                )
                child.stop(WORKER_GRACE_SECONDS if child is worker else SERVER_GRACE_SECONDS)
                child.reap(now)
                self._troubled()
        if not server.running and worker.running:
            # It registered on a server that is gone: a new worker for the next one.
            worker.stop(LONELY_WORKER_GRACE_SECONDS)
        if self._given_up or self._stopping.is_set():
            return
        if not server.running and now >= server.next_start:
            self._start_server()
        elif server.up and not worker.running and now >= worker.next_start:
            self._start_worker()

    def _start_server(self) -> None:
        assert self.place is not None
        port = self.place.port
        if not port_free(self.place.host, port):
            if port_fixed(self.settings):
                self._port_taken(port)
                return
            chosen = choose_port(self.settings, self.home, avoid=port)
            assert chosen is not None
            with self._lock:
                self.place = Place(self.place.host, chosen)
            self.status.api_url = self.place.api_url
            _say(f"Port {port} är upptagen; Prefect-gränssnittet flyttar till {self.place.ui_url}")
        args, env = server_command(self.home, self.place)
        with self._lock:
            self.server.start(args, env)
        remember_port(self.home, self.place.port)
        self._write_marker()
        self.status.nudge()

    def _start_worker(self) -> None:
        assert self.place is not None
        with contextlib.suppress(OSError):
            (self.home / WORKER_READY).unlink()
        args, env = worker_command(self.home, self.place)
        with self._lock:
            self.worker.start(args, env)
        self._write_marker()
        self.status.nudge()

    def _port_taken(self, port: int) -> None:
        self._given_up = True
        _say(
            f"Port {port} (UPPHANDLA_PREFECT_PORT) används redan av en annan process, kanske "
            "en annan Prefect-server. Den används inte: scheman körs inte. Stoppa den andra "
            "processen eller välj en annan port, och starta om."
        )
        self.status.fail()

    def _troubled(self) -> None:
        with self._lock:
            self._trouble = True
        self.status.nudge()

    def _write_marker(self) -> None:
        assert self.place is not None
        write_json(
            self.home / MARKER,
            {
                "api_url": self.place.api_url,
                "ui_url": self.place.ui_url,
                "home": str(self.home),
                "serve": os.getpid(),
                "server": self.server.pid,
                "worker": self.worker.pid,
            },
        )

    def _forget_files(self) -> None:
        marker = read_json(self.home / MARKER)
        if marker is not None and marker.get("serve") == os.getpid():
            with contextlib.suppress(OSError):
                (self.home / MARKER).unlink()
        with contextlib.suppress(OSError):
            (self.home / WORKER_READY).unlink()

    # -- the status thread's probe ------------------------------------------------------------

    def _probe(self) -> bool | None:
        """True: the schedules run; None: still starting; False: they do not."""
        with self._lock:
            place, server_pid, worker_pid = self.place, self.server.pid, self.worker.pid
            server_up, worker_up, trouble = self.server.up, self.worker.up, self._trouble
        not_yet = False if trouble or self._given_up else None
        if place is None or server_pid is None:
            return not_yet
        if not server_healthy(place.api_url, timeout=1.0):
            return False if server_up else not_yet
        if not server_up:
            if not serves_home(place.api_url, self.home, timeout=1.0):
                return not_yet  # somebody else's server answers there: never use it
            with self._lock:
                if self.server.pid == server_pid:
                    self.server.up_pid = server_pid
        if worker_pid is None:
            return not_yet
        if not worker_up:
            ready = read_json(self.home / WORKER_READY)
            if ready is None or ready.get("pid") != worker_pid:
                return not_yet
            with self._lock:
                if self.worker.pid == worker_pid:
                    self.worker.up_pid = worker_pid
        with self._lock:
            self._trouble = False
            first = not self._was_ok
            self._was_ok = True
            announce = first or trouble
        if announce:
            _say(
                f"Prefect är redo{'' if first else ' igen'} "
                f"({time.monotonic() - self._started:.1f} s): svep var "
                f"{self.settings.sweep_interval_seconds}:e sekund, utskick var "
                f"{self.settings.delivery_interval_seconds}:e sekund."
            )
        return True


def _say(message: str) -> None:
    typer.echo(message, err=True)
