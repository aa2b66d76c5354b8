"""A per-registry limit on calls in flight, so a hanging registry holds only its own slots,
and a per-client share of it, so one client (or one Compose) cannot hold them all.

    bulkhead = Bulkhead("gbdfl", limit=20, client_share=0.5)
    async with bulkhead.slot(wait=0.5, client="centre-12"):
        ...

or, on the hot path, without a context manager::

    held = bulkhead.take("centre-12")   # at once, or False when it would have to wait
    if held is False:
        held = await bulkhead.acquire(0.5, "centre-12")   # BulkheadFull if none frees up
    try:
        ...
    finally:
        bulkhead.release("centre-12", held)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from regbus.adapters.errors import BulkheadFull


class _Slots:
    """``asyncio.Semaphore`` as Python 3.11 has it (the same counting, first-come
    first-served waiters and cancellation rules), plus :meth:`take` to take a slot
    synchronously when one is free and nobody waits: the usual case, without a
    coroutine."""

    __slots__ = ("_waiters", "free")

    def __init__(self, value: int) -> None:
        self.free = value
        self._waiters: collections.deque[asyncio.Future[bool]] = collections.deque()

    def locked(self) -> bool:
        """Whether :meth:`acquire` would wait."""
        return self.free == 0 or any(not w.cancelled() for w in self._waiters)

    def can_take(self) -> bool:
        """Whether a slot is free and nobody waits for one."""
        return self.free > 0 and not self._waiters

    def take(self) -> bool:
        """Take a slot at once if one is free and nobody waits for one."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        return False

    async def acquire(self) -> None:
        if not self.locked():
            self.free -= 1
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            try:
                await fut
            finally:
                self._waiters.remove(fut)
        except asyncio.CancelledError:
            if not fut.cancelled():  # given a slot, then cancelled: hand it on
                self.free += 1
                self._wake_up_next()
            raise
        if self.free > 0:
            self._wake_up_next()

    def release(self) -> None:
        self.free += 1
        self._wake_up_next()

    def _wake_up_next(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                self.free -= 1
                fut.set_result(True)
                return


@dataclass(slots=True)
class _Share:
    slots: _Slots
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
        self._shared = self.per_client < limit  # whether clients have shares of their own
        self._slots = _Slots(limit)
        self._clients: dict[str, _Share] = {}
        self._in_flight = 0
        self._on_change = on_change

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextlib.asynccontextmanager
    async def slot(self, wait: float, client: str = "") -> AsyncIterator[None]:
        """Hold one slot for the body; ``BulkheadFull`` if none frees up within ``wait``."""
        held = await self.acquire(wait, client)
        try:
            yield
        finally:
            self.release(client, held)

    def take(self, client: str = "") -> _Slots | Literal[False] | None:
        """What :meth:`acquire` does when it need not wait, synchronously; ``False``
        (and nothing taken) when it would wait."""
        slots = self._slots
        if not self._shared:
            if not slots.take():
                return False
            self._changed(+1)
            return None
        share = self._clients.get(client)
        if share is not None and not share.slots.can_take():
            return False
        if not slots.take():
            return False
        if share is None:
            share = self._clients[client] = _Share(_Slots(self.per_client))
        share.users += 1
        own = share.slots
        own.take()
        self._changed(+1)
        return own

    async def acquire(self, wait: float, client: str = "") -> _Slots | None:
        """Take one slot, waiting up to ``wait`` seconds (``BulkheadFull`` then); give it
        back with ``release(client, held)``, ``held`` being what this returned."""
        slots = self._slots
        if not self._shared:  # no share configured: the registry's limit is the only one
            if not slots.take():
                try:
                    async with asyncio.timeout(max(wait, 0.0)):
                        await slots.acquire()
                except TimeoutError:
                    raise self._full(wait, client_share=False) from None
            self._changed(+1)
            return None
        share = self._clients.get(client)
        if share is None:
            share = self._clients[client] = _Share(_Slots(self.per_client))
        share.users += 1
        own = share.slots
        holds_own = False
        try:
            if own.take():
                holds_own = True
                if not slots.take():
                    async with asyncio.timeout(max(wait, 0.0)):
                        await slots.acquire()
            else:
                async with asyncio.timeout(max(wait, 0.0)):
                    await own.acquire()
                    holds_own = True
                    await slots.acquire()
        except TimeoutError:
            if holds_own:
                own.release()
            self._leave(client)
            raise self._full(wait, client_share=not holds_own) from None
        except BaseException:
            if holds_own:
                own.release()
            self._leave(client)
            raise
        self._changed(+1)
        return own

    def release(self, client: str, held: _Slots | None) -> None:
        """Give back the slot ``acquire(..., client)`` took (``held``: what it returned)."""
        self._slots.release()
        self._changed(-1)
        if held is not None:
            held.release()
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
