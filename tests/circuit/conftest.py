"""A fake clock and sleep, so policy tests never wait in real time."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.circuit.store import BreakerStore, MemoryStore, RedisStore


@dataclass
class FakeTime:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Events:
    """An Observer that remembers what it was told."""

    attempts: list[tuple[str, str]] = field(default_factory=list)
    retries: list[str] = field(default_factory=list)
    transitions: list[tuple[str, str]] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)
    in_flight_counts: list[int] = field(default_factory=list)
    budget_exhausted: int = 0

    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        self.attempts.append((operation, outcome))

    def retry(self, registry: str, operation: str, reason: str) -> None:
        self.retries.append(reason)

    def retry_budget_exhausted(self, registry: str) -> None:
        self.budget_exhausted += 1

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        self.transitions.append((old, new))

    def rejected(self, registry: str, reason: str) -> None:
        self.rejections.append(reason)

    def in_flight(self, registry: str, count: int) -> None:
        self.in_flight_counts.append(count)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def events() -> Events:
    return Events()


POLICY = Policy(
    timeout=1.0,
    default_deadline=10.0,
    retry=RetryPolicy(attempts=3, backoff_initial=0.1, backoff_max=1.0),
    breaker=BreakerPolicy(fail_max=3, reset_timeout=30.0),
    bulkhead=BulkheadPolicy(max_concurrent=2, max_wait=0.05, client_share=1.0),
)


# -- breaker stores: one contract, run against memory and a real Redis ---------

REDIS_URL = os.environ.get("REGBUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_store(prefix: str) -> RedisStore:
    """A RedisStore on REDIS_URL under ``prefix``; skips without Redis, fails under CI=true."""
    store = RedisStore.from_url(REDIS_URL, prefix=prefix, timeout=2.0)
    try:
        await store.client.ping()
    except Exception as exc:
        await store.aclose()
        problem = f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; under CI=true the Redis store tests must run")
        pytest.skip(f"{problem}; start Redis or set CI=true to make this a failure")
    return store


@pytest.fixture(params=["memory", "redis"])
async def breaker_store(request: pytest.FixtureRequest) -> AsyncIterator[BreakerStore]:
    """Each breaker store in turn, empty; Redis under a prefix of its own, removed after."""
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        await memory.aclose()
        return
    prefix = f"regbus-test:{uuid.uuid4().hex}:"
    store = await redis_store(prefix)
    try:
        yield store
    finally:
        keys = [key async for key in store.client.scan_iter(match=prefix + "*")]
        if keys:
            await store.client.delete(*keys)
        await store.aclose()
