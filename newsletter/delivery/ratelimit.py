"""The sending rate the relay allows (messages per second and per hour), shared by
every worker that uses the same storage (memory: one process; Redis: all machines)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

_KEY = "newsletter-smtp-sending"


class RateGate:
    def __init__(self, per_second: int, per_hour: int, storage_uri: str) -> None:
        self.rules: list[tuple[RateLimiter, RateLimitItem]] = []
        if per_second or per_hour:
            storage = storage_from_string(storage_uri)
            if per_second:  # exact: every message of the last second is remembered
                self.rules.append(
                    (MovingWindowRateLimiter(storage), RateLimitItemPerSecond(per_second))
                )
            if per_hour:  # approximate, and small however many messages an hour allows
                self.rules.append(
                    (SlidingWindowCounterRateLimiter(storage), RateLimitItemPerHour(per_hour))
                )
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RateGate:
        return cls(
            int(config["SEND_RATE_PER_SECOND"] or 0),
            int(config["SEND_RATE_PER_HOUR"] or 0),
            str(config["RATELIMIT_STORAGE_URI"]),
        )

    def acquire(self, stop: threading.Event | None = None) -> None:
        """Wait until one more message may go (returns at once when no limit is set, or
        when ``stop`` is set)."""
        if not self.rules:
            return
        stop = stop or threading.Event()
        while not stop.is_set():
            with self._lock:
                blocked = [(lim, item) for lim, item in self.rules if not lim.test(item, _KEY)]
                if not blocked:
                    for limiter, item in self.rules:
                        limiter.hit(item, _KEY)
                    return
                wait = min(lim.get_window_stats(item, _KEY).reset_time for lim, item in blocked)
            stop.wait(min(max(wait - time.time(), 0.005), 1.0))
