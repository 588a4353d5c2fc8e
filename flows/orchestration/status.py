"""What /health says about Prefect, without a Prefect call on the request path: a background
thread polls the Prefect server's `/api/health` and keeps the answer in a `PrefectStatus`;
reading it costs a lock. No Prefect import here (the web process need not load Prefect).

States: `off` (this process watches no Prefect server), `starting` (not yet healthy, or the
deployments not yet served), `ok`, `down` (unhealthy after being up, or the server process or
the runner has stopped).
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, Final, Literal

PrefectState = Literal["off", "starting", "ok", "down"]
OFF: Final = "off"
STARTING: Final = "starting"
OK: Final = "ok"
DOWN: Final = "down"


def server_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    """True if the Prefect server at `api_url` (ending in /api) answers its health check."""
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


class PrefectStatus:
    """The Prefect state of this process, kept current by `start()`'s polling thread.

    `expect_serving=True` when this process serves the deployments itself: then `ok` also needs
    `serving(True)`. `alive()`, if given, tells whether the server process still runs; when it
    has ended, or `fail()` is called (the runner ended), the state is `down` for good."""

    def __init__(
        self,
        api_url: str | None,
        *,
        expect_serving: bool = False,
        alive: Callable[[], bool] | None = None,
        interval_starting: float = 0.5,
        interval: float = 5.0,
    ) -> None:
        self.api_url = api_url
        self._expect_serving = expect_serving
        self._alive = alive
        self._intervals = (interval_starting, interval)
        self._lock = threading.Lock()
        self._healthy: bool | None = None  # None: not polled yet
        self._was_healthy = False
        self._serving = False
        self._failed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.healthy = threading.Event()  # set while the last poll found the server healthy

    @property
    def state(self) -> PrefectState:
        with self._lock:
            if self.api_url is None:
                return OFF
            if self._failed:
                return DOWN
            if self._healthy and (self._serving or not self._expect_serving):
                return OK
            if self._was_healthy and not self._healthy:
                return DOWN
            if self._healthy is False and not self._expect_serving:
                return DOWN  # a server somebody else runs does not answer
            return STARTING

    def serving(self, value: bool) -> None:
        with self._lock:
            self._serving = value

    def fail(self) -> None:
        with self._lock:
            self._failed = True
        self.healthy.clear()

    def poll(self) -> bool:
        """Ask the server once and record the answer."""
        if self._alive is not None and not self._alive():
            self.fail()
            return False
        ok = self.api_url is not None and server_healthy(self.api_url)
        with self._lock:
            self._healthy = ok
            self._was_healthy = self._was_healthy or ok
        if ok:
            self.healthy.set()
        else:
            self.healthy.clear()
        return ok

    def start(self) -> PrefectStatus:
        if self.api_url is not None and self._thread is None:
            self._thread = threading.Thread(
                target=self._watch, name="upphandla-prefect-status", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.poll()
            with self._lock:
                settled = self._was_healthy and (self._serving or not self._expect_serving)
            self._stop.wait(self._intervals[1] if settled else self._intervals[0])


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
