"""Retry policies as small tenacity pieces: which errors, how long to wait, when to stop."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import RetryCallState
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from regbus.adapters.errors import RegistryFailure


def is_transient(error: BaseException) -> bool:
    """Only technical failures of the registry are worth another attempt."""
    return isinstance(error, RegistryFailure)


class wait_full_jitter(wait_base):
    """Full-jitter exponential backoff: uniform in [0, min(max, initial * 2**(n-1))]."""

    def __init__(self, initial: float, maximum: float, rng: Callable[[], float]) -> None:
        self.initial = initial
        self.maximum = maximum
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        ceiling = min(self.maximum, self.initial * 2 ** (retry_state.attempt_number - 1))
        return float(self.rng() * ceiling)


class stop_before_deadline(stop_base):
    """Stop when the coming wait would reach the caller's deadline, as tenacity's
    ``stop_before_delay`` does for a delay, on an injectable clock."""

    def __init__(self, deadline: float, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep >= self.deadline
