"""A fake clock and sleep, so policy tests never wait in real time."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy


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

    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        self.attempts.append((operation, outcome))

    def retry(self, registry: str, operation: str, reason: str) -> None:
        self.retries.append(reason)

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
    bulkhead=BulkheadPolicy(max_concurrent=2, max_wait=0.05),
)
