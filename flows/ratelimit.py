"""Failed sign-ins, counted per client address in a moving window, in this process's memory.
An address that has failed `max_failures` times within the window is refused before any token
is looked up, until the oldest of those failures leaves the window. Successful requests are
neither counted nor refused while the address is not blocked.

Small and of its own rather than the `limits` library: its in-memory storage expires entries
from a timer thread of its own, on the real clock, so a test that moves a frozen clock cannot
rely on what it keeps. Here the clock is a parameter (time.time unless given), and expired
failures are dropped when their address is next looked at, and all of them whenever more than
`max_addresses` addresses are tracked.

The count is per process: behind several server processes each keeps its own."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


def _now() -> float:
    return time.time()


class FailedSignIns:
    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: int,
        clock: Callable[[], float] = _now,
        max_addresses: int = 100_000,
    ) -> None:
        self._max = max_failures
        self._window = float(window_seconds)
        self._clock = clock
        self._max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float] | None:
        """The address's failures still in the window (oldest first); drops the others."""
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def blocked_for(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        with self._lock:
            now = self._clock()
            times = self._recent(address, now)
            if times is None or len(times) < self._max:
                return None
            return max(1, math.ceil(times[0] + self._window - now))

    def failed(self, address: str) -> None:
        """Count one failed attempt from `address` (no more than the limit are kept)."""
        with self._lock:
            now = self._clock()
            times = self._recent(address, now)
            if times is None:
                if len(self._failures) >= self._max_addresses:
                    self._forget_expired(now)
                times = self._failures[address] = deque(maxlen=self._max)
            times.append(now)

    def _forget_expired(self, now: float) -> None:
        for address in list(self._failures):
            self._recent(address, now)
        while len(self._failures) >= self._max_addresses:  # still full: the oldest go first
            oldest = min(self._failures, key=lambda a: self._failures[a][-1])
            del self._failures[oldest]
