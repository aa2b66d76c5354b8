"""A per-registry limit on calls in flight, so a hanging registry holds only its own slots."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from regbus.adapters.errors import BulkheadFull


class Bulkhead:
    """At most ``limit`` holders at once; others wait up to a given time, then fail fast."""

    def __init__(
        self, registry: str, limit: int, on_change: Callable[[int], None] | None = None
    ) -> None:
        self.registry = registry
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)
        self._in_flight = 0
        self._on_change = on_change

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextlib.asynccontextmanager
    async def slot(self, wait: float) -> AsyncIterator[None]:
        """Hold one slot for the body; ``BulkheadFull`` if none frees up within ``wait``."""
        try:
            if self._semaphore.locked():
                async with asyncio.timeout(max(wait, 0.0)):
                    await self._semaphore.acquire()
            else:
                await self._semaphore.acquire()
        except TimeoutError:
            raise BulkheadFull(
                f"{self.limit} calls already in flight to this registry; refusing more",
                registry=self.registry,
                retry_after=max(wait, 0.1),
            ) from None
        self._changed(+1)
        try:
            yield
        finally:
            self._semaphore.release()
            self._changed(-1)

    def _changed(self, delta: int) -> None:
        self._in_flight += delta
        if self._on_change is not None:
            self._on_change(self._in_flight)
