"""A short memory of recent calls per registry, for the live catalogue."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RecentStats:
    calls: int
    error_rate: float
    p50: float
    p99: float


class RecentCalls:
    """The last ``size`` calls within ``window`` seconds: outcome and latency."""

    def __init__(
        self, size: int = 200, window: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._calls: deque[tuple[float, bool, float]] = deque(maxlen=size)
        self._window = window
        self._clock = clock

    @property
    def last_call(self) -> float | None:
        """When the last call ended (this clock), or None before the first."""
        return self._calls[-1][0] if self._calls else None

    def add(self, failed: bool, seconds: float) -> None:
        self._calls.append((self._clock(), failed, seconds))

    def stats(self) -> RecentStats:
        horizon = self._clock() - self._window
        recent = [(failed, s) for t, failed, s in self._calls if t >= horizon]
        if not recent:
            return RecentStats(0, 0.0, 0.0, 0.0)
        latencies = sorted(s for _, s in recent)
        failures = sum(1 for failed, _ in recent if failed)

        def pick(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

        return RecentStats(len(recent), failures / len(recent), pick(0.5), pick(0.99))
