"""Shared breaker state: one contract for every store (memory and a real Redis), and
breakers of several "replicas" that agree through it."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace

import pytest

from regbus.adapters.errors import CircuitOpen
from regbus.circuit.state import (
    CLOSED,
    FAILURE,
    HALF_OPEN,
    OPEN,
    SUCCESS,
    Breaker,
    BreakerPolicy,
)
from regbus.circuit.store import (
    DEFAULT_PREFIX,
    EMPTY,
    BreakerStore,
    MemoryStore,
    RedisStore,
    SharedState,
)
from tests.circuit.conftest import FakeTime, redis_store

POLICY = BreakerPolicy(fail_max=3, window=20, min_calls=20, reset_timeout=30.0)


def opened(generation: int = 1, at: float = 1000.0, reason: str = "boom") -> SharedState:
    return SharedState(OPEN, generation, at, reason)


def trip(breaker: Breaker) -> None:
    for _ in range(breaker.policy.fail_max):
        breaker.record(breaker.admit(), FAILURE, 0.1)
    assert breaker.state == OPEN


def replica(store: BreakerStore, fake_time: FakeTime, seen: list[tuple[str, str]]) -> Breaker:
    return Breaker(
        "gbdfl",
        POLICY,
        clock=fake_time.clock,
        store=store,
        on_transition=lambda old, new: seen.append((old, new)),
    )


# -- the store contract -------------------------------------------------------


async def test_nothing_stored_loads_as_none(breaker_store: BreakerStore) -> None:
    assert await breaker_store.load("gbdfl") is None


async def test_the_first_swap_expects_generation_zero(breaker_store: BreakerStore) -> None:
    record = opened(1)
    assert await breaker_store.swap("gbdfl", 0, record) == record
    assert await breaker_store.load("gbdfl") == record


async def test_a_swap_expecting_a_record_that_is_not_there_loses(
    breaker_store: BreakerStore,
) -> None:
    assert await breaker_store.swap("gbdfl", 3, opened(4)) == EMPTY
    assert await breaker_store.load("gbdfl") is None


async def test_a_stale_swap_loses_and_returns_what_is_stored(
    breaker_store: BreakerStore,
) -> None:
    first = opened(1, at=1000.0, reason="first")
    await breaker_store.swap("gbdfl", 0, first)
    late = opened(1, at=1001.0, reason="late")
    assert await breaker_store.swap("gbdfl", 0, late) == first
    assert await breaker_store.swap("gbdfl", 5, SharedState(CLOSED, 6, 1002.0)) == first
    assert await breaker_store.load("gbdfl") == first
    closed = SharedState(CLOSED, 2, 1003.0)
    assert await breaker_store.swap("gbdfl", 1, closed) == closed
    assert await breaker_store.load("gbdfl") == closed


async def test_records_round_trip_exactly(breaker_store: BreakerStore) -> None:
    record = SharedState(
        HALF_OPEN, 2**40, 1_733_270_400.123456789, '8 of the last 10 calls failed — «тест» "q"\n'
    )
    await breaker_store.swap("gbdfl", 0, record)
    loaded = await breaker_store.load("gbdfl")
    assert loaded == record
    assert loaded is not None and loaded.changed_at == record.changed_at


async def test_registries_are_kept_apart(breaker_store: BreakerStore) -> None:
    await breaker_store.swap("gbdfl", 0, opened(1))
    assert await breaker_store.load("zags") is None
    assert await breaker_store.swap("zags", 0, opened(1, reason="zags")) == opened(1, reason="zags")
    assert await breaker_store.load("gbdfl") == opened(1)


async def test_of_concurrent_swaps_on_one_generation_exactly_one_wins(
    breaker_store: BreakerStore,
) -> None:
    candidates = [opened(1, reason=f"replica {i}") for i in range(10)]
    results = await asyncio.gather(*(breaker_store.swap("gbdfl", 0, c) for c in candidates))
    stored = await breaker_store.load("gbdfl")
    assert stored in candidates
    assert all(result == stored for result in results)


async def test_replicas_see_the_same_open_breaker_after_sync(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    seen_a: list[tuple[str, str]] = []
    seen_b: list[tuple[str, str]] = []
    a = replica(breaker_store, fake_time, seen_a)
    b = replica(breaker_store, fake_time, seen_b)
    await a.aclose()  # each has done its first load of the store
    await b.aclose()
    trip(a)
    await a.aclose()  # the publish has landed
    fake_time.now += 4.0
    assert b.state == CLOSED  # b has not looked yet
    assert await b.sync()
    assert b.state == OPEN
    assert b.generation == a.generation == 1
    assert b.since == a.since
    assert b.opened_reason == a.opened_reason == "3 consecutive calls failed"
    assert b.retry_after() == a.retry_after() == pytest.approx(26.0)
    with pytest.raises(CircuitOpen) as raised:
        b.admit("get_person")
    assert raised.value.retry_after == pytest.approx(26.0)
    assert "3 consecutive calls failed" in raised.value.message
    assert seen_b == [(CLOSED, OPEN)]
    # both turn half-open at the same moment, as one generation
    fake_time.now += 26.0
    assert a.state == b.state == HALF_OPEN
    await a.aclose()
    await b.aclose()
    assert await a.sync() and await b.sync()
    assert a.generation == b.generation == 2
    await a.aclose()
    await b.aclose()


async def test_a_replica_that_closes_closes_the_others(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    a = replica(breaker_store, fake_time, [])
    seen: list[tuple[str, str]] = []
    b = replica(breaker_store, fake_time, seen)
    trip(a)
    await a.aclose()
    await b.sync()
    fake_time.now += 30.0
    for trial in [a.admit() for _ in range(POLICY.half_open_permits)]:
        a.record(trial, SUCCESS, 0.1)
    assert a.state == CLOSED
    await a.aclose()
    assert await b.sync()
    assert b.state == CLOSED
    assert b.generation == a.generation == 3
    assert seen == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    stored = await breaker_store.load("gbdfl")
    assert stored is not None and (stored.state, stored.generation) == (CLOSED, 3)
    await b.aclose()


async def test_a_process_that_starts_while_the_breaker_is_open_starts_open(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    await breaker_store.swap("gbdfl", 0, opened(7, at=fake_time.now - 10.0, reason="boom"))
    fresh = replica(breaker_store, fake_time, [])
    await fresh.aclose()  # waits for the load the breaker started by itself
    assert fresh.state == OPEN
    assert fresh.generation == 7
    assert fresh.retry_after() == pytest.approx(20.0)
    with pytest.raises(CircuitOpen):
        fresh.admit()


async def test_a_stale_publish_loses_to_the_first_replica(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    a = replica(breaker_store, fake_time, [])
    b = replica(breaker_store, fake_time, [])
    await a.aclose()
    await b.aclose()
    trip(a)
    await a.aclose()
    fake_time.now += 5.0
    trip(b)  # b opened on its own, five seconds later, before it heard of a's
    assert b.generation == 1 and b.retry_after() == 30.0
    await b.aclose()
    stored = await breaker_store.load("gbdfl")
    assert stored == a.shared()  # b's swap expected generation 0 and lost
    assert b.shared() == a.shared()  # and b took a's record, opening time included
    assert b.retry_after() == pytest.approx(25.0)


async def test_a_replica_ahead_of_the_store_publishes_on_top(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    await breaker_store.swap("gbdfl", 0, SharedState(CLOSED, 1, 900.0))
    breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=breaker_store)
    await breaker.aclose()
    assert breaker.generation == 1
    trip(breaker)
    fake_time.now += 30.0
    assert breaker.state == HALF_OPEN
    await breaker.aclose()  # two transitions, published as one record
    assert await breaker_store.load("gbdfl") == breaker.shared()
    assert breaker.shared().generation == 3


async def test_a_replica_that_lost_a_race_but_is_further_along_publishes_again(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=breaker_store)
    await breaker.aclose()
    await breaker_store.swap("gbdfl", 0, SharedState(CLOSED, 1, 900.0))
    assert await breaker.sync() and breaker.generation == 1
    trip(breaker)
    fake_time.now += 30.0
    assert breaker.state == HALF_OPEN  # generation 3, not yet published
    other = opened(2, at=fake_time.now - 1.0, reason="another replica")
    assert await breaker_store.swap("gbdfl", 1, other) == other  # it got in first
    await breaker.aclose()  # expected 1 and lost, saw 2 < 3: publishes on top of 2
    assert await breaker_store.load("gbdfl") == breaker.shared()
    assert breaker.shared().generation == 3


async def test_a_newer_record_replaces_what_this_replica_did(
    breaker_store: BreakerStore, fake_time: FakeTime
) -> None:
    breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=breaker_store)
    await breaker.aclose()
    newer = SharedState(CLOSED, 9, fake_time.now - 1.0)
    await breaker_store.swap("gbdfl", 0, newer)
    stale = breaker.admit()
    trip(breaker)  # generation 1 here, while the store is at 9
    await breaker.aclose()
    assert breaker.shared() == newer
    assert await breaker_store.load("gbdfl") == newer
    breaker.record(stale, FAILURE, 0.1)
    assert breaker.state == CLOSED
    assert breaker.window_counts() == (0, 0, 0)  # adopting a generation starts afresh


# -- Redis specifics ----------------------------------------------------------


async def test_redis_keeps_each_registry_under_the_prefix() -> None:
    store = await redis_store(f"{DEFAULT_PREFIX}test-{id(object())}:")
    try:
        assert store.key("gbdfl") == f"{store.prefix}gbdfl"
        await store.swap("gbdfl", 0, opened(1))
        assert await store.client.exists(store.key("gbdfl")) == 1
        fields = await store.client.hgetall(store.key("gbdfl"))
        assert {_text(k): _text(v) for k, v in fields.items()} == {
            "state": "open",
            "generation": "1",
            "changed_at": "1000.0",
            "opened_reason": "boom",
        }
    finally:
        await store.client.delete(store.key("gbdfl"))
        await store.aclose()


async def test_an_unreadable_redis_record_is_an_error_not_a_state() -> None:
    store = await redis_store(f"regbus-test:{id(object())}:")
    try:
        await store.client.hset(store.key("gbdfl"), mapping={"state": "ajar", "generation": "1"})
        with pytest.raises(ValueError, match="breaker record"):
            await store.load("gbdfl")
    finally:
        await store.client.delete(store.key("gbdfl"))
        await store.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_the_default_prefix() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:6379/0")
    assert store.prefix == "regbus:breaker:" == DEFAULT_PREFIX
    assert store.key("zags") == "regbus:breaker:zags"


# -- when the store fails -----------------------------------------------------


class FlakyStore(MemoryStore):
    """A MemoryStore that fails every call while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.attempts = 0

    async def load(self, registry: str) -> SharedState | None:
        self.attempts += 1
        if self.down:
            raise ConnectionError("connection refused")
        return await super().load(registry)

    async def swap(self, registry: str, expected_generation: int, new: SharedState) -> SharedState:
        self.attempts += 1
        if self.down:
            raise ConnectionError("connection refused")
        return await super().swap(registry, expected_generation, new)


async def test_an_unreachable_store_is_logged_once_and_the_breaker_works_locally(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    with caplog.at_level(logging.INFO, logger="regbus.circuit"):
        breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=store)
        trip(breaker)  # no error reaches the caller
        await breaker.aclose()
        assert not await breaker.sync()
        assert not await breaker.sync()
        with pytest.raises(CircuitOpen):
            breaker.admit()
        fake_time.now += 30.0
        trials = [breaker.admit() for _ in range(POLICY.half_open_permits)]
        for trial in trials:
            breaker.record(trial, SUCCESS, 0.1)
        assert breaker.state == CLOSED
        await breaker.aclose()
        assert store.attempts >= 4
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "ConnectionError" in warnings[0].getMessage()
        store.down = False
        assert await breaker.sync()  # publishes what it did meanwhile
    assert await store.load("gbdfl") == breaker.shared()
    assert breaker.shared().generation == 3
    assert "answers again" in caplog.text


async def test_an_unreachable_redis_is_survived() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RedisStore.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    breaker = Breaker("gbdfl", POLICY, store=store)
    try:
        for _ in range(POLICY.fail_max):
            breaker.record(breaker.admit(), FAILURE, 0.1)
        assert breaker.state == OPEN
        assert not await breaker.sync()
        with pytest.raises(CircuitOpen):
            breaker.admit()
    finally:
        await breaker.aclose()
        await store.aclose()


class GatedStore(MemoryStore):
    """A MemoryStore whose swaps wait until the gate opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def swap(self, registry: str, expected_generation: int, new: SharedState) -> SharedState:
        await self.gate.wait()
        return await super().swap(registry, expected_generation, new)


async def test_the_hot_path_never_waits_for_the_store(fake_time: FakeTime) -> None:
    store = GatedStore()
    breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=store)
    trip(breaker)  # the store would hang forever; the breaker opens anyway
    with pytest.raises(CircuitOpen):
        breaker.admit()
    await asyncio.sleep(0)
    assert await store.load("gbdfl") is None  # the publish is waiting in the background
    store.gate.set()
    await breaker.aclose()  # and aclose waits for it
    assert await store.load("gbdfl") == breaker.shared()


def test_transitions_made_without_an_event_loop_are_published_later(
    fake_time: FakeTime,
) -> None:
    store = MemoryStore()
    breaker = Breaker("gbdfl", POLICY, clock=fake_time.clock, store=store)
    trip(breaker)
    assert asyncio.run(store.load("gbdfl")) is None
    asyncio.run(breaker.aclose())  # no task was running: aclose publishes itself
    assert asyncio.run(store.load("gbdfl")) == breaker.shared()
    fake_time.now += 30.0
    assert breaker.state == HALF_OPEN
    assert asyncio.run(breaker.sync())
    assert asyncio.run(store.load("gbdfl")) == breaker.shared()


def test_shared_records_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="state"):
        SharedState("ajar", 1, 1.0)
    with pytest.raises(ValueError, match="generation"):
        SharedState(OPEN, -1, 1.0)
    with pytest.raises(ValueError, match="changed_at"):
        SharedState(OPEN, 1, float("nan"))
    assert replace(EMPTY) == SharedState(CLOSED, 0, 0.0, "")
