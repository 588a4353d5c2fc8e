"""A supervised child of `upphandla serve`: a command in a session (process group) of its own,
its output in a log file, ended without leaving anything of its group behind, and started again
after a backoff that grows while it keeps ending soon after its start."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
STEADY_SECONDS = 60.0  # a child that ran this long before it ended is restarted after 1 s


class Child:
    """A command in a session (process group) of its own, output appended to `log_path`."""

    def __init__(self, label: str, log_path: Path) -> None:
        self.label = label
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.up_pid: int | None = None  # the pid that was found up (answering, serving)
        self.next_start = 0.0  # monotonic time before which it is not (re)started
        self._quick_ends = 0
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None

    @property
    def up(self) -> bool:
        pid = self.pid
        return pid is not None and self.up_pid == pid

    def start(self, args: list[str], env: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed when it ends
        self.process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C is for `serve`, which stops it itself
        )
        self.started_at = time.monotonic()
        self.up_pid = None

    def ended(self) -> int | None:
        """The exit status (negative: the signal) if the process has ended, else None. Does
        not reap it: while it is a zombie its process group id cannot be taken by another."""
        if self.process is None:
            return None
        if self.process.returncode is not None:
            return self.process.returncode
        try:
            found = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.process.poll()
        if found is None:
            return None
        return found.si_status if found.si_code == os.CLD_EXITED else -found.si_status

    def reap(self, now: float) -> None:
        """After it ended: kill what is left of its group (e.g. flow runs), reap it, and set
        when it may start again."""
        self._kill_group(signal.SIGKILL)
        self._done()
        quick = now - self.started_at < STEADY_SECONDS
        self._quick_ends = self._quick_ends + 1 if quick else 1
        self.next_start = now + self.backoff

    @property
    def backoff(self) -> float:
        return min(BACKOFF_FIRST_SECONDS * 2 ** max(self._quick_ends - 1, 0), BACKOFF_MAX_SECONDS)

    def stop(self, grace: float) -> None:
        """SIGTERM to its process group; SIGKILL to the group after `grace` seconds (at once
        if the leader ended earlier: nothing of the group outlives it)."""
        if self.process is None:
            return
        if self.ended() is None:
            self._kill_group(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.ended() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        self._kill_group(signal.SIGKILL)
        self._done()

    def _kill_group(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    def _done(self) -> None:
        if self.process is not None:
            self.process.wait()
        self.process = None
        self.up_pid = None
        if self._log is not None:
            self._log.close()
            self._log = None


def how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"kod {code}"
