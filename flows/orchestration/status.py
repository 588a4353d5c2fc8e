"""What /health says about Prefect, without a Prefect call on the request path: a background
thread asks a probe every so often and keeps the answer in a `PrefectStatus`; reading it costs
a lock. No Prefect import here (the web process does not load Prefect).

The probe answers True (schedules run), False (they do not) or None (not yet: still starting,
nothing has gone wrong). For a Prefect server somebody else runs (PREFECT_API_URL) the probe is
the server's `/api/health`; for the server and worker that `upphandla serve` runs itself, the
supervisor's probe (cli.supervisor) also needs them to be its own and the worker to serve.

States: `off` (this process watches no Prefect server), `starting` (not yet ok, and nothing has
failed yet), `ok`, `down` (not ok after being ok, or something failed; `fail()` makes it down for
good).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

PrefectState = Literal["off", "starting", "ok", "down"]
OFF: Final = "off"
STARTING: Final = "starting"
OK: Final = "ok"
DOWN: Final = "down"

Probe = Callable[[], "bool | None"]


def server_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    """True if the Prefect server at `api_url` (ending in /api) answers its health check."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def server_home(api_url: str, *, timeout: float = 2.0) -> Path | None:
    """The PREFECT_HOME of the Prefect server at `api_url`, from its settings route (which
    tells one data directory's server from another's), or None if it does not say."""
    try:
        with urllib.request.urlopen(
            api_url.rstrip("/") + "/admin/settings", timeout=timeout
        ) as answer:
            home = json.load(answer).get("home")
    except (OSError, ValueError, AttributeError):
        return None
    return Path(home) if isinstance(home, str) and home else None


def serves_home(api_url: str, home: Path, *, timeout: float = 2.0) -> bool:
    """True if the Prefect server at `api_url` is the one whose home is `home`."""
    found = server_home(api_url, timeout=timeout)
    return found is not None and found.expanduser().resolve() == home.expanduser().resolve()


class PrefectStatus:
    """The Prefect state of this process, kept current by `start()`'s polling thread (or by
    whoever calls `poll()`). `probe` defaults to the health check of `api_url`."""

    def __init__(
        self,
        api_url: str | None,
        *,
        probe: Probe | None = None,
        interval_starting: float = 0.5,
        interval: float = 5.0,
    ) -> None:
        self.api_url = api_url
        self._probe = probe
        self._intervals = (interval_starting, interval)
        self._lock = threading.Lock()
        self._last: bool | None = None  # None: not asked yet, or still starting
        self._was_ok = False
        self._failed = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> PrefectState:
        with self._lock:
            if self.api_url is None:
                return OFF
            if self._failed or self._last is False:
                return DOWN
            if self._last:
                return OK
            return DOWN if self._was_ok else STARTING

    def fail(self) -> None:
        """Down for good (e.g. schedules turned off): polling no longer changes it."""
        with self._lock:
            self._failed = True

    def poll(self) -> bool | None:
        """Ask the probe once and record the answer."""
        if self._probe is not None:
            found = self._probe()
        else:
            found = self.api_url is not None and server_healthy(self.api_url, timeout=1.0)
        with self._lock:
            self._last = found
            self._was_ok = self._was_ok or bool(found)
        return found

    def nudge(self) -> None:
        """Poll now rather than at the next interval (something changed)."""
        self._wake.set()

    def start(self) -> PrefectStatus:
        if self.api_url is not None and self._thread is None:
            self._thread = threading.Thread(
                target=self._watch, name="upphandla-prefect-status", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            found = self.poll()
            self._wake.wait(self._intervals[1] if found else self._intervals[0])


_lazy_lock = threading.Lock()


def status_for(holder: Any) -> PrefectStatus:
    """The `prefect` status kept on `holder` (e.g. the app's state). An app that nobody gave
    one (created outside `upphandla serve`) gets one that watches PREFECT_API_URL if that is
    set, and is `off` otherwise."""
    with _lazy_lock:
        status = getattr(holder, "prefect", None)
        if not isinstance(status, PrefectStatus):
            status = PrefectStatus(os.environ.get("PREFECT_API_URL") or None).start()
            holder.prefect = status
        return status
