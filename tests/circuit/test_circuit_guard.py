"""The guard's semantics: retries, breaker, bulkhead, deadlines, with a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from regbus.adapters.errors import (
    AnswerTooLarge,
    BulkheadFull,
    CircuitOpen,
    DeadlineExhausted,
    InternalError,
    InvalidParameter,
    OutcomeUnknown,
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
        wall=fake_time.clock,
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
    refused = down()
    refused.delivered = False  # connection refused: the write never left
    attempt, calls = scripted(refused, "done")
    with pytest.raises(RegistryUnavailable):
        await run(guard, attempt, retry_safe=False, writes=True)
    assert calls[0] == 1


@pytest.mark.parametrize(
    "lost", [TimeoutError(), RegistryUnavailable("connection reset", registry="gbdfl")]
)
async def test_a_write_whose_answer_was_lost_is_outcome_unknown(
    fake_time: FakeTime, events: Events, lost: BaseException
) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted(lost, "done")
    with pytest.raises(OutcomeUnknown) as caught:
        await run(guard, attempt, operation="register_birth", retry_safe=False, writes=True)
    assert calls[0] == 1
    assert not caught.value.retryable
    assert caught.value.registry == "gbdfl" and caught.value.operation == "register_birth"
    assert "may or may not have happened" in caught.value.message


async def test_a_write_with_an_idempotency_key_is_retried(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    attempt, _ = scripted(TimeoutError(), "done")
    assert await run(guard, attempt, retry_safe=True, writes=True) == ("done", 2)


async def test_retry_after_from_the_registry_is_honoured_within_the_budget(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    busy = RegistryUnavailable("HTTP 503", registry="gbdfl", retry_after=0.7)
    attempt, _ = scripted(busy, "person")
    assert await run(guard, attempt) == ("person", 2)
    assert fake_time.sleeps == [0.7]
    too_long = RegistryUnavailable("HTTP 503", registry="gbdfl", retry_after=30.0)
    attempt, calls = scripted(too_long, "person")
    with pytest.raises(RegistryUnavailable) as caught:
        await run(guard, attempt, deadline=fake_time.now + 5)
    assert calls[0] == 1 and caught.value.retry_after == 30.0


async def test_the_retry_budget_caps_retries_at_a_share_of_calls(
    fake_time: FakeTime, events: Events
) -> None:
    retry = replace(POLICY.retry, attempts=3, budget_ratio=0.2, budget_reserve=2)
    guard = make_guard(
        fake_time,
        events,
        retry=retry,
        breaker=replace(POLICY.breaker, fail_max=1000, window=1000, min_calls=1000),
    )
    attempt, calls = scripted(down())
    for _ in range(50):
        with pytest.raises(RegistryUnavailable):
            await run(guard, attempt)
    retries = calls[0] - 50
    assert retries <= 2 + 0.2 * 50
    assert retries >= 0.2 * 50 - 1
    assert events.budget_exhausted > 0


async def test_backoff_sleeps_hold_no_bulkhead_slot(fake_time: FakeTime, events: Events) -> None:
    held_while_sleeping: list[int] = []
    guard = make_guard(fake_time, events)

    async def sleep(seconds: float) -> None:
        held_while_sleeping.append(guard.in_flight)
        await fake_time.sleep(seconds)

    guard._sleep = sleep
    attempt, _ = scripted(down(), down(), "person")
    assert await run(guard, attempt) == ("person", 3)
    assert held_while_sleeping == [0, 0]


async def test_an_answer_too_large_counts_but_is_not_retried(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events)
    attempt, calls = scripted(AnswerTooLarge("answer over the limit", registry="gbdfl"))
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(AnswerTooLarge):
            await run(guard, attempt)
    assert calls[0] == POLICY.breaker.fail_max
    assert guard.state == "open"


async def test_one_client_cannot_take_the_whole_bulkhead(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(
        fake_time, events, bulkhead=replace(POLICY.bulkhead, max_concurrent=4, client_share=0.5)
    )
    release = asyncio.Event()

    async def held() -> str:
        await release.wait()
        return "person"

    greedy = [asyncio.create_task(run(guard, held, client="centre-1")) for _ in range(2)]
    await asyncio.sleep(0)
    quick, calls = scripted("person")
    with pytest.raises(BulkheadFull) as caught:
        await run(guard, quick, client="centre-1")
    assert "this client" in caught.value.message and calls[0] == 0
    other = asyncio.create_task(run(guard, held, client="centre-2"))
    await asyncio.sleep(0)
    assert guard.in_flight == 3
    release.set()
    assert [await t for t in [*greedy, other]] == [("person", 1)] * 3
    assert guard.in_flight == 0 and not guard._bulkhead._clients


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


async def test_a_call_counts_once_however_many_attempts_it_made(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=5))
    attempt, calls = scripted(down())
    with pytest.raises(RegistryUnavailable):
        await run(guard, attempt)
    assert calls[0] == 5  # more attempts than fail_max, yet one failed call
    assert guard.state == "closed"
    for _ in range(POLICY.breaker.fail_max - 1):
        with pytest.raises(RegistryUnavailable):
            await run(guard, attempt)
    assert guard.state == "open"


async def test_retries_stop_when_the_breaker_opens_meanwhile(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=5))
    opened = asyncio.Event()
    attempts = [0]

    async def flaky() -> str:
        attempts[0] += 1
        await opened.wait()
        raise down()

    slow_call = asyncio.create_task(run(guard, flaky))
    await asyncio.sleep(0)
    fast, _ = scripted(down())
    for _ in range(POLICY.breaker.fail_max):
        with contextlib.suppress(RegistryUnavailable):
            await run(guard, fast, retry_safe=False)
    assert guard.state == "open"
    opened.set()
    with pytest.raises(RegistryUnavailable):  # the registry's failure, not CIRCUIT_OPEN
        await slow_call
    assert attempts[0] == 1  # no retry into an open breaker


async def test_a_late_success_does_not_close_a_breaker_that_opened_after_it_started(
    fake_time: FakeTime, events: Events
) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    release = asyncio.Event()

    async def slow_ok() -> str:
        await release.wait()
        return "person"

    late = asyncio.create_task(run(guard, slow_ok))
    await asyncio.sleep(0)
    failing, _ = scripted(down())
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(RegistryUnavailable):
            await run(guard, failing)
    release.set()
    assert await late == ("person", 1)
    assert guard.state == "open"


async def tripped_guard(
    fake_time: FakeTime, events: Events
) -> tuple[RegistryGuard, Callable[[], Awaitable[str]], list[int]]:
    """A guard whose breaker just opened, with the reset timeout already past."""
    guard = make_guard(
        fake_time,
        events,
        retry=replace(POLICY.retry, attempts=1),
        bulkhead=replace(POLICY.bulkhead, max_concurrent=10),
    )
    failing, calls = scripted(down())
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(RegistryUnavailable):
            await run(guard, failing)
    assert guard.state == "open"
    fake_time.now += POLICY.breaker.reset_timeout + 1
    return guard, failing, calls


async def test_half_open_lets_a_limited_number_of_trials_through(
    fake_time: FakeTime, events: Events
) -> None:
    guard, _, _ = await tripped_guard(fake_time, events)
    release = asyncio.Event()
    probes = [0]

    async def slow_probe() -> str:
        probes[0] += 1
        await release.wait()
        return "person"

    permits = POLICY.breaker.half_open_permits
    trials = [asyncio.create_task(run(guard, slow_probe)) for _ in range(permits)]
    await asyncio.sleep(0)
    assert guard.state == "half_open"
    for _ in range(3):
        with pytest.raises(CircuitOpen):
            await run(guard, slow_probe)
    assert probes[0] == permits
    release.set()
    assert [await trial for trial in trials] == [("person", 1)] * permits
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
    for _ in range(POLICY.breaker.half_open_permits):  # all permits are free again
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


async def test_a_bug_in_regbus_is_internal_never_retried_nor_charged_to_the_registry(
    fake_time: FakeTime, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    guard = make_guard(fake_time, events)
    broken, calls = scripted(KeyError("lastName"))
    for _ in range(POLICY.breaker.fail_max + 1):
        with pytest.raises(InternalError) as caught:
            await run(guard, broken)
    assert calls[0] == POLICY.breaker.fail_max + 1  # one attempt per call
    assert guard.state == "closed"
    assert "KeyError" in str(caught.value) and caught.value.registry == "gbdfl"
    assert not caught.value.retryable
    assert isinstance(caught.value.__cause__, KeyError)
    assert "Traceback" in caplog.text and "KeyError: 'lastName'" in caplog.text


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
    with pytest.raises(DeadlineExhausted) as caught:
        await guard.run(
            hang, operation="get_person", retry_safe=True, deadline=time.monotonic() + 0.05
        )
    assert loop.time() - started < 5  # bounded by the deadline, not the 30 s attempt timeout
    assert caught.value.registry == "gbdfl" and "caller's deadline" in caught.value.message


async def test_timeouts_cut_short_by_callers_never_open_the_breaker(events: Events) -> None:
    """Impatient callers against a slow registry: their deadlines, not its failures."""
    guard = RegistryGuard(
        "gbdfl",
        replace(POLICY, timeout=1.0, bulkhead=replace(POLICY.bulkhead, max_concurrent=50)),
        observer=events,
    )

    async def slow() -> str:
        await asyncio.sleep(0.3)
        return "person"

    impatient = [
        guard.run(slow, operation="get_person", retry_safe=True, deadline=time.monotonic() + t)
        for t in [0.1 + 0.0025 * i for i in range(40)]
    ]
    outcomes = await asyncio.gather(*impatient, return_exceptions=True)
    assert all(isinstance(o, DeadlineExhausted) for o in outcomes)
    assert guard.state == "closed"
    patient = await guard.run(
        slow, operation="get_person", retry_safe=True, deadline=time.monotonic() + 10
    )
    assert patient == ("person", 1)


async def test_the_registrys_own_timeouts_do_count(fake_time: FakeTime, events: Events) -> None:
    guard = make_guard(fake_time, events, retry=replace(POLICY.retry, attempts=1))
    timed_out, _ = scripted(TimeoutError())
    for _ in range(POLICY.breaker.fail_max):
        with pytest.raises(RegistryTimeout):
            await run(guard, timed_out)
    assert guard.state == "open"


async def test_the_answer_reserve_is_kept_back_from_the_deadline(events: Events) -> None:
    guard = RegistryGuard(
        "gbdfl", replace(POLICY, timeout=30.0, deadline_reserve=0.2), observer=events
    )

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    deadline = time.monotonic() + 1.0
    with pytest.raises(DeadlineExhausted):
        await guard.run(hang, operation="get_person", retry_safe=True, deadline=deadline)
    assert time.monotonic() < deadline  # the caller still has time to receive the answer


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


async def test_callers_giving_up_after_slow_call_seconds_count_as_slow_calls(
    events: Events,
) -> None:
    breaker = replace(POLICY.breaker, window=3, min_calls=3, slow_call=0.05, slow_rate=1.0)
    guard = RegistryGuard("gbdfl", replace(POLICY, timeout=5.0, breaker=breaker), observer=events)

    async def hang() -> str:
        await asyncio.Event().wait()
        return "never"

    for _ in range(3):
        with pytest.raises(DeadlineExhausted):
            await guard.run(
                hang, operation="get_person", retry_safe=True, deadline=time.monotonic() + 0.2
            )
    assert guard.state == "open"
    assert "slower than 0.05s" in guard.breaker.opened_reason
