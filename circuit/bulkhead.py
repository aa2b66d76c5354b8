"""A per-registry limit on calls in flight, so a hanging registry holds only its own slots,
and a per-client share of it, so one client (or one Compose) cannot hold them all.

    bulkhead = Bulkhead("gbdfl", limit=20, client_share=0.5)
    async with bulkhead.slot(wait=0.5, client="centre-12"):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from regbus.adapters.errors import BulkheadFull


@dataclass
class _Share:
    semaphore: asyncio.Semaphore
    users: int = 0  # tasks holding or waiting for one of the client's slots


class Bulkhead:
    """At most ``limit`` holders at once, at most ``client_share`` of them one client's;
    others wait up to a given time, then fail fast."""

    def __init__(
        self,
        registry: str,
        limit: int,
        on_change: Callable[[int], None] | None = None,
        *,
        client_share: float = 1.0,
    ) -> None:
        self.registry = registry
        self.limit = limit
        self.per_client = max(1, math.ceil(limit * client_share))
        self._semaphore = asyncio.Semaphore(limit)
        self._clients: dict[str, _Share] = {}
        self._in_flight = 0
        self._on_change = on_change

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextlib.asynccontextmanager
    async def slot(self, wait: float, client: str = "") -> AsyncIterator[None]:
        """Hold one slot for the body; ``BulkheadFull`` if none frees up within ``wait``."""
        own = self._join(client)
        holds_own = False
        try:
            try:
                if (own is None or not own.locked()) and not self._semaphore.locked():
                    if own is not None:
                        await own.acquire()  # free: returns at once
                        holds_own = True
                    await self._semaphore.acquire()
                else:
                    async with asyncio.timeout(max(wait, 0.0)):
                        if own is not None:
                            await own.acquire()
                            holds_own = True
                        await self._semaphore.acquire()
            except TimeoutError:
                raise self._full(wait, client_share=own is not None and not holds_own) from None
            self._changed(+1)
            try:
                yield
            finally:
                self._semaphore.release()
                self._changed(-1)
        finally:
            if holds_own and own is not None:
                own.release()
            self._leave(client)

    def _full(self, wait: float, *, client_share: bool) -> BulkheadFull:
        if client_share:
            text = (
                f"this client already has {self.per_client} of the registry's {self.limit}"
                " calls in flight; refusing more so that other clients keep their share"
            )
        else:
            text = f"{self.limit} calls already in flight to this registry; refusing more"
        return BulkheadFull(text, registry=self.registry, retry_after=max(wait, 0.1))

    def _join(self, client: str) -> asyncio.Semaphore | None:
        """The client's own semaphore, counting this task among its users."""
        if self.per_client >= self.limit:
            return None  # no share configured: the registry's limit is the only one
        share = self._clients.get(client)
        if share is None:
            share = self._clients[client] = _Share(asyncio.Semaphore(self.per_client))
        share.users += 1
        return share.semaphore

    def _leave(self, client: str) -> None:
        share = self._clients.get(client)
        if share is not None:
            share.users -= 1
            if share.users == 0:  # nobody holds or waits: forget the client
                del self._clients[client]

    def _changed(self, delta: int) -> None:
        self._in_flight += delta
        if self._on_change is not None:
            self._on_change(self._in_flight)
