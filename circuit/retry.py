"""Retry policies as small tenacity pieces: which errors, how long to wait, when to stop,
and a budget that keeps retries a small share of a registry's calls."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from regbus.adapters.errors import RegbusError, RegistryFailure


def is_transient(error: BaseException) -> bool:
    """Only technical failures of the registry that another attempt may cure."""
    return isinstance(error, RegistryFailure) and error.retryable


class RetryBudget:
    """Retries at most ``ratio`` of calls over time: every call earns ``ratio`` of a
    token, every retry spends a whole one, and at most ``reserve`` tokens bank up
    (so a quiet registry can still retry a few at once).

    A failing registry under load thus gets ~``1 + ratio`` attempts per call, not
    ``attempts`` times its load.
    """

    def __init__(self, ratio: float, reserve: int) -> None:
        self.ratio = ratio
        self.reserve = float(reserve)
        self.tokens = float(reserve)

    def earn(self) -> None:
        self.tokens = min(self.reserve, self.tokens + self.ratio)

    def spend(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class wait_full_jitter(wait_base):
    """Full-jitter exponential backoff: uniform in [0, min(max, initial * 2**(n-1))],
    but never shorter than a ``Retry-After`` the registry asked for."""

    def __init__(self, initial: float, maximum: float, rng: Callable[[], float]) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** (retry_state.attempt_number - 1))
        wait = float(self.rng() * ceiling)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, RegbusError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


class stop_before_deadline(stop_base):
    """Stop unless, after the coming wait, ``room`` seconds are left before the
    deadline for another attempt (tenacity's ``stop_before_delay`` on an
    injectable clock, with room for the attempt itself)."""

    def __init__(self, deadline: float, clock: Callable[[], float], room: float = 0.0) -> None:
        self.deadline = deadline
        self.clock = clock
        self.room = room

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep + self.room > self.deadline


class stop_when(stop_base):
    """Stop when ``refuse()`` says so (the breaker opened, the retry budget is spent).

    Put it last in ``stop_a | stop_b | ...``: it is asked only when nothing
    else stopped, so a budget is spent only on retries that really happen.
    """

    def __init__(self, refuse: Callable[[], bool]) -> None:
        self.refuse = refuse

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.refuse()
