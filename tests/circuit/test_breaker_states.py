"""The breaker's state machine on a fake clock: every transition, and what must not move it."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pybreaker
import pytest

from regbus.adapters.errors import CircuitOpen
from regbus.circuit.state import (
    CLOSED,
    FAILURE,
    HALF_OPEN,
    IGNORED,
    OPEN,
    PYBREAKER_STATES,
    SUCCESS,
    Breaker,
    BreakerPolicy,
    Outcome,
    Permit,
)
from tests.circuit.conftest import FakeTime

# Rates never judge in these tests unless a test asks for it.
ONLY_CONSECUTIVE = BreakerPolicy(fail_max=3, window=20, min_calls=20, reset_timeout=30.0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, old: str, new: str) -> None:
        self.calls.append((old, new))


def make(fake_time: FakeTime, policy: BreakerPolicy) -> tuple[Breaker, Recorder]:
    seen = Recorder()
    return Breaker("gbdfl", policy, clock=fake_time.clock, on_transition=seen), seen


def call(breaker: Breaker, outcome: Outcome, duration: float = 0.01) -> None:
    permit = breaker.admit("get_person")
    breaker.record(permit, outcome, duration)


def calls(breaker: Breaker, *outcomes: Outcome, duration: float = 0.01) -> None:
    for outcome in outcomes:
        call(breaker, outcome, duration)


def open_breaker(breaker: Breaker) -> None:
    calls(breaker, *[FAILURE] * breaker.policy.fail_max)
    assert breaker.state == OPEN


# -- closed -------------------------------------------------------------------


def test_a_new_breaker_is_closed_and_admits_everyone(fake_time: FakeTime) -> None:
    breaker, seen = make(fake_time, ONLY_CONSECUTIVE)
    permits = [breaker.admit("get_person") for _ in range(50)]
    assert breaker.state == CLOSED
    assert all(p == Permit(generation=0, trial=False) for p in permits)
    assert breaker.generation == 0
    assert breaker.retry_after() == 0.0
    assert breaker.opened_reason == ""
    assert breaker.since == fake_time.now
    assert seen.calls == []


def test_consecutive_failures_open_it(fake_time: FakeTime) -> None:
    breaker, seen = make(fake_time, ONLY_CONSECUTIVE)
    calls(breaker, FAILURE, FAILURE)
    assert breaker.state == CLOSED
    fake_time.now += 2.0
    call(breaker, FAILURE)
    assert breaker.state == OPEN
    assert breaker.opened_reason == "3 consecutive calls failed"
    assert breaker.generation == 1
    assert breaker.since == fake_time.now
    assert seen.calls == [(CLOSED, OPEN)]


def test_a_success_breaks_the_run_of_failures(fake_time: FakeTime) -> None:
    breaker, _ = make(fake_time, ONLY_CONSECUTIVE)
    calls(breaker, FAILURE, FAILURE, SUCCESS, FAILURE, FAILURE, SUCCESS, FAILURE, FAILURE)
    assert breaker.state == CLOSED
    call(breaker, FAILURE)
    assert breaker.state == OPEN


def test_the_failure_rate_opens_it_once_there_are_enough_calls(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, min_calls=10, failure_rate=0.5)
    breaker, seen = make(fake_time, policy)
    calls(breaker, *[FAILURE] * 9)
    assert breaker.state == CLOSED  # 9 of 9 failed, but no verdict before min_calls
    call(breaker, FAILURE)
    assert breaker.state == OPEN
    assert breaker.opened_reason == "10 of the last 10 calls failed"
    assert seen.calls == [(CLOSED, OPEN)]


def test_a_failure_rate_below_the_threshold_keeps_it_closed(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, min_calls=10, failure_rate=0.5)
    breaker, _ = make(fake_time, policy)
    calls(breaker, *[SUCCESS] * 6, FAILURE, FAILURE, FAILURE, FAILURE)
    assert breaker.state == CLOSED  # 4 of 10
    assert breaker.window_counts() == (10, 4, 0)
    call(breaker, FAILURE)  # 5 of the last 10
    assert breaker.state == OPEN
    assert breaker.opened_reason == "5 of the last 10 calls failed"


def test_a_fractional_rate_is_compared_exactly(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=25, min_calls=25, failure_rate=0.28)
    breaker, _ = make(fake_time, policy)
    calls(breaker, *[SUCCESS] * 18, *[FAILURE] * 7)  # 7/25 is 0.28
    assert breaker.state == OPEN  # though 0.28 * 25 is 7.000000000000001 in floating point
    assert breaker.opened_reason == "7 of the last 25 calls failed"


def test_the_window_forgets_calls_beyond_its_size(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, min_calls=10, failure_rate=0.5)
    breaker, _ = make(fake_time, policy)
    calls(breaker, *[FAILURE] * 4, *[SUCCESS] * 10)
    assert breaker.window_counts() == (10, 0, 0)
    calls(breaker, FAILURE, FAILURE, FAILURE, FAILURE)
    assert breaker.state == CLOSED  # the first four failures slid out
    call(breaker, FAILURE)
    assert breaker.state == OPEN


def test_the_window_forgets_calls_older_than_window_seconds(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, window_seconds=10.0, min_calls=4)
    breaker, _ = make(fake_time, policy)
    calls(breaker, FAILURE, FAILURE, FAILURE)
    fake_time.now += 10.0
    assert breaker.window_counts() == (3, 3, 0)  # exactly window_seconds old: still in
    fake_time.now += 0.5
    assert breaker.window_counts() == (0, 0, 0)
    calls(breaker, SUCCESS, SUCCESS, SUCCESS, FAILURE)  # 1 of 4, the old three gone
    assert breaker.state == CLOSED


def test_recording_alone_lets_old_calls_expire(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, window_seconds=10.0, min_calls=4)
    breaker, _ = make(fake_time, policy)
    calls(breaker, FAILURE, FAILURE, FAILURE)
    fake_time.now += 10.5
    calls(breaker, SUCCESS, SUCCESS, SUCCESS, FAILURE)
    assert breaker.state == CLOSED  # with the three old failures it would be 4 of 7


def test_window_seconds_zero_counts_calls_of_any_age(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=10, window_seconds=0.0, min_calls=4)
    breaker, _ = make(fake_time, policy)
    calls(breaker, FAILURE, FAILURE, FAILURE)
    fake_time.now += 3600.0
    call(breaker, SUCCESS)
    assert breaker.state == OPEN
    assert breaker.opened_reason == "3 of the last 4 calls failed"


def test_slow_successes_open_it_by_their_rate(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(
        fail_max=100, window=5, min_calls=5, slow_call=2.0, slow_rate=0.8, reset_timeout=30.0
    )
    breaker, seen = make(fake_time, policy)
    calls(breaker, SUCCESS, SUCCESS, SUCCESS, duration=2.0)  # at slow_call counts as slow
    call(breaker, SUCCESS, 1.99)
    assert breaker.state == CLOSED  # 3 of 4: too few calls for a verdict
    assert breaker.window_counts() == (4, 0, 3)
    call(breaker, SUCCESS, 9.0)
    assert breaker.state == OPEN
    assert breaker.opened_reason == "4 of the last 5 calls were slower than 2.0s"
    assert seen.calls == [(CLOSED, OPEN)]


def test_slow_calls_below_the_slow_rate_keep_it_closed(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=5, min_calls=5, slow_call=2.0, slow_rate=0.8)
    breaker, _ = make(fake_time, policy)
    calls(breaker, SUCCESS, SUCCESS, SUCCESS, duration=3.0)
    calls(breaker, SUCCESS, SUCCESS, duration=0.1)
    assert breaker.state == CLOSED


def test_a_slow_failure_is_a_failure_not_a_slow_call(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=100, window=5, min_calls=5, slow_call=2.0, failure_rate=1.0)
    breaker, _ = make(fake_time, policy)
    calls(breaker, FAILURE, FAILURE, FAILURE, FAILURE, duration=30.0)
    assert breaker.window_counts() == (4, 4, 0)
    call(breaker, FAILURE, 30.0)
    assert breaker.opened_reason == "5 of the last 5 calls failed"


def test_ignored_outcomes_count_nothing_in_closed(fake_time: FakeTime) -> None:
    breaker, seen = make(fake_time, ONLY_CONSECUTIVE)
    calls(breaker, FAILURE, FAILURE, *[IGNORED] * 10)
    assert breaker.window_counts() == (2, 2, 0)
    assert breaker.state == CLOSED
    call(breaker, FAILURE)  # the run of failures was not broken either
    assert breaker.state == OPEN
    assert seen.calls == [(CLOSED, OPEN)]


# -- open ---------------------------------------------------------------------


def test_open_fails_fast_with_the_time_left(fake_time: FakeTime) -> None:
    breaker, _ = make(fake_time, ONLY_CONSECUTIVE)
    open_breaker(breaker)
    fake_time.now += 10.0
    with pytest.raises(CircuitOpen) as raised:
        breaker.admit("get_person")
    error = raised.value
    assert error.registry == "gbdfl"
    assert error.operation == "get_person"
    assert error.retry_after == pytest.approx(20.0)
    assert error.reason == "CIRCUIT_OPEN"
    assert error.retryable
    assert "3 consecutive calls failed" in error.message
    assert breaker.retry_after() == pytest.approx(20.0)
    fake_time.now += 19.9
    assert breaker.state == OPEN
    assert breaker.retry_after() == pytest.approx(0.1)


def test_outcomes_recorded_while_open_change_nothing(fake_time: FakeTime) -> None:
    breaker, _ = make(fake_time, ONLY_CONSECUTIVE)
    current = breaker.admit()
    calls(breaker, FAILURE, FAILURE, FAILURE)
    breaker.record(Permit(breaker.generation), SUCCESS, 0.1)  # even with the right generation
    assert breaker.state == OPEN
    breaker.record(current, SUCCESS, 0.1)
    assert breaker.state == OPEN


def test_open_turns_half_open_by_time_alone(fake_time: FakeTime) -> None:
    breaker, seen = make(fake_time, ONLY_CONSECUTIVE)
    open_breaker(breaker)
    opened_at = fake_time.now
    fake_time.now += 45.0  # nobody called in between
    assert breaker.state == HALF_OPEN
    assert breaker.generation == 2
    assert breaker.since == opened_at + 30.0  # when the timeout ran out, not when it was read
    assert breaker.retry_after() == 0.0
    assert breaker.opened_reason == "3 consecutive calls failed"
    assert seen.calls == [(CLOSED, OPEN), (OPEN, HALF_OPEN)]


# -- half-open ----------------------------------------------------------------


def half_open(fake_time: FakeTime, permits: int = 3, **changes: Any) -> tuple[Breaker, Recorder]:
    policy = replace(ONLY_CONSECUTIVE, half_open_permits=permits, **changes)
    breaker, seen = make(fake_time, policy)
    open_breaker(breaker)
    fake_time.now += 30.0
    assert breaker.state == HALF_OPEN
    return breaker, seen


def test_half_open_lets_only_its_trial_calls_through(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=2)
    trials = [breaker.admit(), breaker.admit()]
    assert all(t.trial and t.generation == breaker.generation for t in trials)
    with pytest.raises(CircuitOpen) as raised:
        breaker.admit("get_person")
    assert raised.value.retry_after == 1.0
    assert raised.value.operation == "get_person"
    breaker.record(trials[0], SUCCESS, 0.1)
    with pytest.raises(CircuitOpen):
        breaker.admit()  # one trial is in, one is out: two were enough
    assert breaker.state == HALF_OPEN


def test_the_fail_fast_delay_in_half_open_is_capped_by_reset_timeout(
    fake_time: FakeTime,
) -> None:
    breaker, _ = make(fake_time, BreakerPolicy(fail_max=1, reset_timeout=0.25, half_open_permits=1))
    call(breaker, FAILURE)
    fake_time.now += 0.25
    breaker.admit()
    with pytest.raises(CircuitOpen) as raised:
        breaker.admit()
    assert raised.value.retry_after == 0.25


def test_half_open_closes_once_every_trial_succeeded(fake_time: FakeTime) -> None:
    breaker, seen = half_open(fake_time, permits=3)
    trials = [breaker.admit() for _ in range(3)]
    breaker.record(trials[0], SUCCESS, 0.1)
    breaker.record(trials[1], SUCCESS, 0.1)
    assert breaker.state == HALF_OPEN  # not before the last trial is in
    fake_time.now += 1.0
    breaker.record(trials[2], SUCCESS, 0.1)
    assert breaker.state == CLOSED
    assert breaker.since == fake_time.now
    assert breaker.generation == 3
    assert breaker.opened_reason == ""
    assert breaker.window_counts() == (0, 0, 0)
    assert seen.calls == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    assert breaker.admit() == Permit(3, trial=False)


def test_closing_starts_from_an_empty_window(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=1)
    breaker.record(breaker.admit(), SUCCESS, 0.1)
    assert breaker.state == CLOSED
    calls(breaker, FAILURE, FAILURE)
    assert breaker.state == CLOSED  # the failures that opened it were forgotten
    call(breaker, FAILURE)
    assert breaker.state == OPEN


def test_the_first_trial_failure_reopens_it(fake_time: FakeTime) -> None:
    breaker, seen = half_open(fake_time, permits=3)
    trials = [breaker.admit() for _ in range(3)]
    breaker.record(trials[0], SUCCESS, 0.1)
    fake_time.now += 2.0
    breaker.record(trials[1], FAILURE, 0.1)
    assert breaker.state == OPEN
    assert breaker.generation == 3
    assert breaker.retry_after() == 30.0  # a full period again
    assert "trial call failed" in breaker.opened_reason
    assert seen.calls[-1] == (HALF_OPEN, OPEN)
    breaker.record(trials[2], SUCCESS, 0.1)  # the last trial is stale now
    assert breaker.state == OPEN


def test_slow_trials_reopen_it(fake_time: FakeTime) -> None:
    breaker, seen = half_open(fake_time, permits=3, slow_call=2.0, slow_rate=0.6)
    trials = [breaker.admit() for _ in range(3)]
    breaker.record(trials[0], SUCCESS, 2.5)
    breaker.record(trials[1], SUCCESS, 0.1)
    breaker.record(trials[2], SUCCESS, 4.0)
    assert breaker.state == OPEN
    assert breaker.opened_reason == "2 of 3 trial calls were slower than 2.0s"
    assert seen.calls[-1] == (HALF_OPEN, OPEN)


def test_few_slow_trials_still_close_it(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=3, slow_call=2.0, slow_rate=0.6)
    trials = [breaker.admit() for _ in range(3)]
    breaker.record(trials[0], SUCCESS, 2.5)
    breaker.record(trials[1], SUCCESS, 0.1)
    breaker.record(trials[2], SUCCESS, 0.1)
    assert breaker.state == CLOSED


def test_an_ignored_trial_frees_its_permit_and_counts_nothing(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=1)
    trial = breaker.admit()
    with pytest.raises(CircuitOpen):
        breaker.admit()
    breaker.record(trial, IGNORED, 5.0)
    assert breaker.state == HALF_OPEN  # neither closed nor reopened
    second = breaker.admit()  # the permit is free again
    assert second.trial
    breaker.record(second, SUCCESS, 0.1)
    assert breaker.state == CLOSED


def test_a_non_trial_permit_cannot_decide_half_open(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=1)
    forged = Permit(breaker.generation, trial=False)
    breaker.record(forged, FAILURE, 0.1)
    breaker.record(forged, SUCCESS, 0.1)
    assert breaker.state == HALF_OPEN


# -- generations --------------------------------------------------------------


def test_a_late_success_cannot_close_a_breaker_that_opened_after_it_started(
    fake_time: FakeTime,
) -> None:
    breaker, _ = make(fake_time, ONLY_CONSECUTIVE)
    slow_call = breaker.admit()
    open_breaker(breaker)
    fake_time.now += 30.0  # half-open now: a success would count there
    assert breaker.state == HALF_OPEN
    breaker.record(slow_call, SUCCESS, 31.0)
    assert breaker.state == HALF_OPEN
    trial = breaker.admit()
    breaker.record(trial, FAILURE, 0.1)
    assert breaker.state == OPEN  # the late success did not stand in for a trial


def test_a_late_failure_cannot_reopen_a_freshly_closed_breaker(fake_time: FakeTime) -> None:
    policy = BreakerPolicy(fail_max=1, window=20, min_calls=20, reset_timeout=30.0)
    breaker, seen = make(fake_time, policy)
    late = breaker.admit()
    call(breaker, FAILURE)
    fake_time.now += 30.0
    for trial in [breaker.admit() for _ in range(3)]:
        breaker.record(trial, SUCCESS, 0.1)
    assert breaker.state == CLOSED
    breaker.record(late, FAILURE, 40.0)  # one failure would open it (fail_max=1)...
    assert breaker.state == CLOSED  # ...but not one that started three generations ago
    assert seen.calls[-1] == (HALF_OPEN, CLOSED)
    call(breaker, FAILURE)
    assert breaker.state == OPEN


def test_a_trial_permit_from_an_earlier_half_open_is_stale(fake_time: FakeTime) -> None:
    breaker, _ = half_open(fake_time, permits=2)
    first, second = breaker.admit(), breaker.admit()
    breaker.record(first, FAILURE, 0.1)  # reopened
    fake_time.now += 30.0
    assert breaker.state == HALF_OPEN
    breaker.record(second, FAILURE, 0.1)  # from the previous half-open
    assert breaker.state == HALF_OPEN
    assert breaker.admit().trial and breaker.admit().trial  # both permits still free


def test_every_transition_bumps_the_generation(fake_time: FakeTime) -> None:
    breaker, seen = make(fake_time, ONLY_CONSECUTIVE)
    generations = [breaker.generation]
    open_breaker(breaker)
    generations.append(breaker.generation)
    fake_time.now += 30.0
    generations.append(breaker.generation)
    for trial in [breaker.admit() for _ in range(3)]:
        breaker.record(trial, SUCCESS, 0.1)
    generations.append(breaker.generation)
    assert generations == [0, 1, 2, 3]
    assert seen.calls == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]


# -- listeners and settings ---------------------------------------------------


def test_a_failing_listener_does_not_break_the_breaker(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(old: str, new: str) -> None:
        raise RuntimeError("metrics are down")

    breaker = Breaker("gbdfl", ONLY_CONSECUTIVE, clock=fake_time.clock, on_transition=broken)
    with caplog.at_level(logging.ERROR, logger="regbus.circuit"):
        calls(breaker, FAILURE, FAILURE, FAILURE)
    assert breaker.state == OPEN
    assert "on_transition(closed, open) failed" in caplog.text


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="min_calls"):
        Breaker("gbdfl", BreakerPolicy(window=10, min_calls=11))
    problems = BreakerPolicy(
        fail_max=0, failure_rate=1.5, slow_rate=0.0, reset_timeout=0.0, half_open_permits=0
    ).problems()
    assert len(problems) == 5
    assert BreakerPolicy().problems() == []


def test_state_names_line_up_with_pybreaker() -> None:
    assert PYBREAKER_STATES[pybreaker.STATE_CLOSED] == CLOSED == "closed"
    assert PYBREAKER_STATES[pybreaker.STATE_OPEN] == OPEN == "open"
    assert PYBREAKER_STATES[pybreaker.STATE_HALF_OPEN] == HALF_OPEN == "half_open"
