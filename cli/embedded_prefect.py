"""`prefect server start` as a supervised child of `upphandla serve` (cli.supervisor): its home
and SQLite database in the data directory, analytics off, in a process group of its own, and
a marker file that tells other commands (`sweep --now`) where it listens."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import IO, TYPE_CHECKING

from upphandla.flows.settings import Settings

if TYPE_CHECKING:
    from upphandla.cli.supervisor import PrefectPlace

MARKER = "embedded-server.json"

# Runs the server with a parent-death signal: if `serve` dies without cleaning up (SIGKILL),
# the kernel sends the server SIGTERM. PR_SET_PDEATHSIG survives exec; elsewhere it is skipped.
_WITH_PARENT_DEATH_SIGNAL = """\
import os, signal, sys
parent = int(sys.argv[1])
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(1)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


class EmbeddedServer:
    """`prefect server start` as a child process in a session (process group) of its own."""

    def __init__(self, settings: Settings, place: PrefectPlace) -> None:
        assert place.home is not None
        self.settings = settings
        self.place = place
        self.log_path = place.home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        home = self.place.home
        assert home is not None
        home.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            PREFECT_HOME=str(home),
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            DO_NOT_TRACK="1",
            PREFECT_UI_ENABLED="true",
        )
        command = [
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            self.settings.prefect_host,
            "--port",
            str(self.settings.prefect_port),
        ]
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WITH_PARENT_DEATH_SIGNAL, str(os.getpid()), *command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C is for `serve`, which stops the server itself
        )
        marker = {"api_url": self.place.api_url, "pid": self.process.pid, "serve": os.getpid()}
        (home / MARKER).write_text(json.dumps(marker), encoding="utf-8")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's process group; SIGKILL for what is left after `timeout`."""
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # anything of the group still there
            process.wait()
        if self.place.home is not None:
            with contextlib.suppress(OSError):
                (self.place.home / MARKER).unlink()
        if self._log is not None:
            self._log.close()
            self._log = None
