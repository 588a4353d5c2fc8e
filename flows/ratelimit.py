"""Failed sign-ins, counted per client address in a moving window (the `limits` library, kept
in this process's memory). An address that has failed `max_failures` times within the window is
refused before any token is looked up, until the oldest of those failures leaves the window.
Successful requests are neither counted nor refused while the address is not blocked.

The count is per process: behind several server processes each keeps its own."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "upphandla-sign-in"


class FailedSignIns:
    def __init__(self, *, max_failures: int, window_seconds: int) -> None:
        self._item = RateLimitItemPerSecond(max_failures, window_seconds, namespace=NAMESPACE)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked_for(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it may now."""
        if self._limiter.test(self._item, address):
            return None
        reset_at = self._limiter.get_window_stats(self._item, address).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    def failed(self, address: str) -> None:
        """Count one failed attempt from `address` (none beyond the limit are kept)."""
        self._limiter.hit(self._item, address)
