"""The guard's semantics: retries, breaker, bulkhead, deadlines, with a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from regbus.adapters.errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExhausted,
    InvalidParameter,
    RegistryFault,
    RegistryTimeout,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.circuit.guard import RegistryGuard
from tests.circuit.conftest import POLICY, Events, FakeTime


def make_guard(fake_time: FakeTime, events: Events, **changes: object) -> RegistryGuard:
    policy = replace(POLICY, **changes) if changes else POLICY  # type: ignore[arg-type]
    return RegistryGuard(
        "gbdfl",
        policy,
        observer=events,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rng=lambda: 0.5,
    )


def scripted(*results: object) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """An attempt that raises or returns the given results in turn; counts its calls."""
    calls = [0]

    async def attempt() -> str:
        result = results[min(calls[0], len(results) - 1)]
        calls[0] += 1
        if isinstance(result, BaseException):
            raise result
        return str(result)

    return attempt, calls


def down() -> RegistryUnavailable:
    return RegistryUnavailable("HTTP 503", registry="gbdfl")


async def run(
    guard: RegistryGuard, attempt: Callable[[], Awaitable[str]], **kw: object
) -> tuple[str, int]:
    options: dict[str, object] = {"operation": "get_person", "retry_safe": True}
    options.update(kw)
    return await guard.run(attempt, **options)  # type: ignore[arg-type]


async def test_transient_failures_are_retried_with_jittered_backoff(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted(down(), down(), "person")
    assert await run(guard, attempt) == ("person", 3)
    assert calls[0] == 3
    # full jitter with rng=0.5: half of 0.1, then half of 0.2
    assert fake_time.sleeps == pytest.approx([0.05, 0.1])
    assert events.retries == ["REGISTRY_UNAVAILABLE", "REGISTRY_UNAVAILABLE"]
    assert [o for _, o in events.attempts] == ["unavailable", "unavailable", "ok"]
    assert guard.state == "closed"


async def test_the_last_failure_is_raised_after_the_last_attempt(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, breaker=replace(POLICY.breaker, fail_max=10))
    attempt, calls = scripted(down())
    with pytest.raises(RegistryUnavailable) as caught:
        await run(guard, attempt)
    assert calls[0] == POLICY.retry.attempts
    assert caught.value.registry == "gbdfl"


async def test_not_found_is_never_retried_and_never_trips(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted(SubjectNotFound("no such person", registry="gbdfl"))
    for _ in range(POLICY.breaker.fail_max + 2):
        with pytest.raises(SubjectNotFound):
            await run(guard, attempt)
    assert calls[0] == POLICY.breaker.fail_max + 2
    assert guard.state == "closed"
    assert fake_time.sleeps == []


async def test_a_write_without_idempotency_key_is_tried_once(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted(down(), "done")
    with pytest.raises(RegistryUnavailable):
        await run(guard, attempt, retry_safe=False)
    assert calls[0] == 1


async def test_breaker_opens_after_consecutive_failures_and_fails_fast(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    attempt, calls = scripted(down())
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(RegistryUnavailable):
            await run(guard, attempt)
    assert guard.state == "open"
    assert events.transitions == [("closed", "open")]
    fake_time.now += 10
    with pytest.raises(CircuitOpen) as caught:
        await run(guard, attempt)
    assert calls[0] == POLICY.breaker.fail_max  # the registry was not called
    assert caught.value.registry == "gbdfl"
    assert caught.value.retry_after == pytest.approx(20.0)
    assert events.rejections == ["circuit_open"]


async def test_a_success_resets_the_consecutive_count(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    attempt, _ = scripted(down(), down(), "ok", down(), down(), "ok")
    for _ in range(6):
        with contextlib.suppress(RegistryUnavailable):
            await run(guard, attempt)
    assert guard.state == "closed"


async def test_breaker_opening_during_retries_reports_the_registry_failure(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=5))
    attempt, calls = scripted(down())
    with pytest.raises(RegistryUnavailable):
        await run(guard, attempt)
    assert calls[0] == POLICY.breaker.fail_max
    assert guard.state == "open"


async def tripped_guard(
    fake_time: FakeTime, events: Events
) -> tuple[RegistryGuard, Callable[[], Awaitable[str]], list[int]]:
    """A guard whose breaker just opened, with the reset timeout already past."""
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    failing, calls = scripted(down())
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(RegistryUnavailable):
            await run(guard, failing)
    assert guard.state == "open"
    fake_time.now += POLICY.breaker.reset_timeout + 1
    return guard, failing, calls


async def test_half_open_lets_exactly_one_probe_through(
    fake_time: FakeTime, events: Events
) -> None:
    guard, _, _ = await tripped_guard(fake_time, events)
    release = asyncio.Event()
    probes = [0]

    async def slow_probe() -> str:
        probes[0] += 1
        await release.wait()
        return "person"

    probe = asyncio.create_task(run(guard, slow_probe))
    await asyncio.sleep(0)
    assert guard.state == "half_open"
    for _ in range(3):
        with pytest.raises(CircuitOpen):
            await run(guard, slow_probe)
    assert probes[0] == 1
    release.set()
    assert await probe == ("person", 1)
    assert guard.state == "closed"
    assert events.transitions[-2:] == [("open", "half_open"), ("half_open", "closed")]


async def test_a_failed_probe_reopens_for_a_full_period(
    fake_time: FakeTime, events: Events
) -> None:
    guard, failing, calls = await tripped_guard(fake_time, events)
    with pytest.raises(RegistryUnavailable):
        await run(guard, failing)  # the probe
    assert guard.state == "open"
    assert guard.retry_after == pytest.approx(POLICY.breaker.reset_timeout)
    with pytest.raises(CircuitOpen):
        await run(guard, failing)
    assert calls[0] == POLICY.breaker.fail_max + 1


async def test_a_cancelled_probe_counts_nothing_and_frees_the_probe(
    fake_time: FakeTime, events: Events
) -> None:
    guard, _, _ = await tripped_guard(fake_time, events)

    async def never() -> str:
        await asyncio.Event().wait()
        return "never"

    probe = asyncio.create_task(run(guard, never))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert guard.state == "half_open"
    ok, _ = scripted("person")
    assert await run(guard, ok) == ("person", 1)
    assert guard.state == "closed"


async def test_cancellations_never_count_as_failures(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(fake_time, events)

    async def never() -> str:
        await asyncio.Event().wait()
        return "never"

    for _ in range(POLICY.breaker.fail_max + 1):
        task = asyncio.create_task(run(guard, never))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert guard.state == "closed"
    assert guard.in_flight == 0


async def test_invalid_requests_from_an_adapter_do_not_count(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    bad, calls = scripted(InvalidParameter("bad", field="iin", reason="INVALID_IIN"))
    for _ in range(POLICY.breaker.fail_max + 1):
        with pytest.raises(InvalidParameter):
            await run(guard, bad)
    assert calls[0] == POLICY.breaker.fail_max + 1
    assert guard.state == "closed"


async def test_unexpected_exceptions_become_registry_faults(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    broken, _ = scripted(KeyError("lastName"))
    with pytest.raises(RegistryFault) as caught:
        await run(guard, broken)
    assert "KeyError" in str(caught.value) and caught.value.registry == "gbdfl"
    assert isinstance(caught.value.__cause__, KeyError)


async def test_each_attempt_is_bounded_by_the_attempt_timeout(events: Events) -> None:
    guard = RegistryGuard(
        "gbdfl",
        replace(POLICY, timeout=0.01, retry=replace(POLICY.retry, attempts=2, backoff_initial=0)),
        observer=events,
    )

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    with pytest.raises(RegistryTimeout) as caught:
        await guard.run(hang, operation="get_person", retry_safe=True)
    assert caught.value.registry == "gbdfl" and caught.value.retryable
    assert [o for _, o in events.attempts] == ["timeout", "timeout"]


async def test_the_deadline_clamps_the_attempt_timeout(events: Events) -> None:
    guard = RegistryGuard("gbdfl", replace(POLICY, timeout=30.0), observer=events)
    loop = asyncio.get_running_loop()

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    started = loop.time()
    with pytest.raises(RegistryTimeout):
        await guard.run(
            hang, operation="get_person", retry_safe=True, deadline=time.monotonic() + 0.05
        )
    assert loop.time() - started < 5  # bounded by the deadline, not the 30 s attempt timeout


async def test_retries_stop_before_the_deadline(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(
        fake_time,
        events,
        retry=replace(POLICY.retry, attempts=10, backoff_initial=1.0, backoff_max=1.0),
    )
    attempt, calls = scripted(down())
    with pytest.raises(RegistryUnavailable):
        await run(guard, attempt, deadline=fake_time.now + 0.9)
    # one attempt, a 0.5 s wait, a second attempt; a further 0.5 s wait would pass the deadline
    assert calls[0] == 2
    assert fake_time.sleeps == [0.5]


async def test_no_time_left_is_refused_without_calling(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted("person")
    with pytest.raises(DeadlineExhausted):
        await run(guard, attempt, deadline=fake_time.now)
    assert calls[0] == 0
    assert events.rejections == ["deadline"]


async def test_bulkhead_limits_calls_in_flight(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(fake_time, events)
    release = asyncio.Event()

    async def held() -> str:
        await release.wait()
        return "person"

    holders = [asyncio.create_task(run(guard, held)) for _ in range(POLICY.bulkhead.max_concurrent)]
    await asyncio.sleep(0)
    assert guard.in_flight == POLICY.bulkhead.max_concurrent
    quick, calls = scripted("person")
    with pytest.raises(BulkheadFull) as caught:
        await run(guard, quick)
    assert calls[0] == 0
    assert caught.value.registry == "gbdfl" and caught.value.retry_after
    assert events.rejections == ["bulkhead_full"]
    release.set()
    assert [await h for h in holders] == [("person", 1)] * POLICY.bulkhead.max_concurrent
    assert guard.in_flight == 0
    assert max(events.in_flight_counts) == POLICY.bulkhead.max_concurrent
    assert await run(guard, quick) == ("person", 1)
