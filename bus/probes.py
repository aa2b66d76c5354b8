"""Active probing: the bus checks a registry nobody is calling, so its health is true
without callers.

A registry whose breaker is open is probed as soon as the breaker lets a trial call
through (the probe is that trial, so recovery does not wait for a caller); one whose
breaker is half-open is probed until the trials decide; a closed one is probed every
``interval`` seconds (with jitter) while it is idle. Probes go through the registry's
guard and bulkhead like any call, count for its breaker, and are counted apart from
callers' calls (``regbus_probes_total``).

    prober = Prober(router, interval=30.0)
    task = asyncio.create_task(prober.run())
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from regbus.bus.router import Router

log = logging.getLogger("regbus.probes")

# How soon to look again while a half-open breaker is deciding, and at least between
# two probes of an open one (its retry_after says when trials are let through).
HALF_OPEN_PAUSE = 0.05
MIN_PAUSE = 0.02
JITTER = 0.2  # of the interval, either way
# After a failed probe of a closed breaker, probe again this soon: a registry that went
# down while idle opens its breaker in seconds, not after fail_max whole intervals.
RECHECK = 1.0


class Prober:
    """One task per registry that has a probe, each probing on its own rhythm."""

    def __init__(
        self,
        router: Router,
        *,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.router = router
        self.interval = interval
        self._clock = clock
        self._rng = rng or random.Random()
        self._probed: dict[str, float] = {}  # when each registry was last probed
        self._failing: set[str] = set()  # registries whose last probe failed

    async def run(self) -> None:
        """Probe every probed registry until cancelled."""
        registries = [r for r, lane in self.router.lanes.items() if lane.spec.probe_call()]
        await asyncio.gather(*(self._watch(r) for r in registries))

    def pause(self, registry: str) -> float:
        """Seconds until ``registry`` should be probed next."""
        lane = self.router.lanes[registry]
        state = lane.guard.state
        if state == "open":
            return max(MIN_PAUSE, lane.guard.retry_after)
        if state == "half_open":
            return HALF_OPEN_PAUSE
        if registry in self._failing:
            return min(RECHECK, self.interval)
        jittered = self.interval * (1 + self._rng.uniform(-JITTER, JITTER))
        last = self._last_heard(registry)
        if last is None:
            return jittered
        # Idle means no call and no probe for a whole interval: wait until then.
        return max(MIN_PAUSE, last + jittered - self._clock())

    def due(self, registry: str) -> bool:
        """Whether a probe now would tell something callers have not: the breaker is not
        closed, or nobody called the registry for an interval."""
        lane = self.router.lanes[registry]
        if lane.guard.state != "closed" or registry in self._failing:
            return True
        last = self._last_heard(registry)
        return last is None or self._clock() - last >= self.interval * (1 - JITTER)

    def _last_heard(self, registry: str) -> float | None:
        times = [t for t in (self.router.lanes[registry].recent.last_call,
                             self._probed.get(registry)) if t is not None]  # fmt: skip
        return max(times) if times else None

    async def _watch(self, registry: str) -> None:
        while True:
            await asyncio.sleep(self.pause(registry))
            if self.due(registry):
                self._probed[registry] = self._clock()
                if await self.router.probe(registry):
                    self._failing.discard(registry)
                else:
                    self._failing.add(registry)
