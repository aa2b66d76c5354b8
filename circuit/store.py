"""Where breaker state is shared between replicas, behind one async interface.

A store holds one small record per registry, :class:`SharedState`, and
changes it only by compare-and-set on its generation, so two replicas that
change the same breaker at once cannot both win. Stores are used off the hot
path only: a :class:`~regbus.circuit.state.Breaker` decides admissions from
its local copy and publishes or adopts records in the background.

- :class:`MemoryStore`: one process (tests, a single replica).
- :class:`RedisStore`: every replica against one Redis, on ``redis.asyncio``
  (never the synchronous client: it would stall the event loop), with the
  compare-and-set done by a Lua script so it is atomic on the server.

"Nothing stored" counts as generation 0: ``swap(registry, 0, new)`` creates
the record, and a swap that loses against an empty store returns
:data:`EMPTY` (closed, generation 0).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as aioredis

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"
STATES = (CLOSED, OPEN, HALF_OPEN)

DEFAULT_PREFIX = "regbus:breaker:"


@dataclass(frozen=True, slots=True)
class SharedState:
    """One registry's breaker as every replica should see it.

    ``changed_at`` is wall-clock time (seconds since the epoch) of the
    transition into ``state``; for ``open`` it is when it opened, so every
    replica computes the same time left before trials.
    """

    state: str
    generation: int
    changed_at: float
    opened_reason: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown breaker state {self.state!r} (known: {', '.join(STATES)})")
        if isinstance(self.generation, bool) or not isinstance(self.generation, int):
            raise ValueError(f"generation must be an int, got {self.generation!r}")
        if self.generation < 0:
            raise ValueError(f"generation must be >= 0, got {self.generation}")
        if not math.isfinite(self.changed_at):
            raise ValueError(f"changed_at must be a finite time, got {self.changed_at!r}")


EMPTY = SharedState(CLOSED, 0, 0.0, "")
"""What an empty store amounts to: a closed breaker that never changed."""


@runtime_checkable
class BreakerStore(Protocol):
    """Shared breaker records, one per registry, changed by compare-and-set."""

    async def load(self, registry: str) -> SharedState | None:
        """The stored record, or None when nothing is stored for ``registry``."""
        ...

    async def swap(self, registry: str, expected_generation: int, new: SharedState) -> SharedState:
        """Store ``new`` if the stored generation is ``expected_generation`` (0 when
        nothing is stored); return what is stored afterwards (:data:`EMPTY` if nothing)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


class MemoryStore:
    """Records in this process's memory; safe to share between event loops."""

    def __init__(self) -> None:
        self._records: dict[str, SharedState] = {}
        self._lock = threading.Lock()

    async def load(self, registry: str) -> SharedState | None:
        with self._lock:
            return self._records.get(registry)

    async def swap(self, registry: str, expected_generation: int, new: SharedState) -> SharedState:
        with self._lock:
            current = self._records.get(registry)
            stored_generation = current.generation if current is not None else 0
            if stored_generation == expected_generation:
                self._records[registry] = new
                return new
            return current if current is not None else EMPTY

    async def aclose(self) -> None:
        pass


# KEYS[1] the record's hash; ARGV: expected generation, then the new record's fields.
# An absent hash counts as generation 0. Returns the fields stored afterwards
# (all nil when nothing is stored).
_SWAP = """
local current = redis.call('HGET', KEYS[1], 'generation')
local stored = 0
if current then stored = tonumber(current) end
if stored == tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'generation', ARGV[3],
             'changed_at', ARGV[4], 'opened_reason', ARGV[5])
end
return redis.call('HMGET', KEYS[1], 'state', 'generation', 'changed_at', 'opened_reason')
"""

_FIELDS = ("state", "generation", "changed_at", "opened_reason")


class RedisStore:
    """Records in Redis hashes named ``prefix + registry``.

    Give it a ``redis.asyncio.Redis`` client (which it does not close), or use
    :meth:`from_url`, whose client it owns and closes in :meth:`aclose`.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client
        self._swap = client.register_script(_SWAP)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 1.0,
        **options: Any,
    ) -> RedisStore:
        """A store with its own client for ``url`` (``redis://host:port/db``).

        ``timeout`` bounds connecting and each command, so an unreachable Redis
        delays only the background sync, briefly; ``options`` go to the client.
        """
        options.setdefault("socket_timeout", timeout)
        options.setdefault("socket_connect_timeout", timeout)
        client = aioredis.Redis.from_url(url, **options)
        return cls(client, prefix=prefix, owns_client=True)

    def key(self, registry: str) -> str:
        return self.prefix + registry

    async def load(self, registry: str) -> SharedState | None:
        values = await self.client.hmget(self.key(registry), list(_FIELDS))
        return _decode(values)

    async def swap(self, registry: str, expected_generation: int, new: SharedState) -> SharedState:
        values = await self._swap(
            keys=[self.key(registry)],
            args=[
                str(expected_generation),
                new.state,
                str(new.generation),
                repr(float(new.changed_at)),  # repr round-trips a float exactly
                new.opened_reason,
            ],
        )
        stored = _decode(values)
        return stored if stored is not None else EMPTY

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _decode(values: Any) -> SharedState | None:
    """A record from the four hash fields; None when the hash does not exist."""
    if not isinstance(values, list | tuple) or len(values) != len(_FIELDS):
        raise ValueError(f"unexpected answer from Redis: {values!r}")
    if all(v is None for v in values):
        return None
    if any(v is None for v in values[:3]):
        raise ValueError(f"incomplete breaker record in Redis: {values!r}")
    state, generation, changed_at, reason = (_text(v) if v is not None else "" for v in values)
    try:
        return SharedState(state, int(generation), float(changed_at), reason)
    except ValueError as exc:
        raise ValueError(f"unreadable breaker record in Redis: {values!r} ({exc})") from None
