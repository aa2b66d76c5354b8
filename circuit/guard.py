"""Everything the bus applies around one registry's calls, in order:

bulkhead → (breaker → per-attempt timeout → adapter) retried by tenacity

guard = RegistryGuard("gbdfl", policy, observer=metrics)
record, attempts = await guard.run(attempt, operation="get_person", retry_safe=True,
                                   deadline=time.monotonic() + 5)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pybreaker
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from regbus.adapters.errors import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExhausted,
    FailFast,
    InvalidRequest,
    RegbusError,
    RegistryAnswer,
    RegistryFault,
    RegistryRejected,
    RegistryTimeout,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.circuit.breaker import Breaker
from regbus.circuit.bulkhead import Bulkhead
from regbus.circuit.observer import NullObserver, Observer
from regbus.circuit.policy import Policy
from regbus.circuit.retry import is_transient, stop_before_deadline, wait_full_jitter

T = TypeVar("T")


class RegistryGuard:
    """Bulkhead, breaker, retries and deadlines for one registry."""

    def __init__(
        self,
        registry: str,
        policy: Policy,
        *,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        storage: pybreaker.CircuitBreakerStorage | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self._observer: Observer = observer or NullObserver()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._bulkhead = Bulkhead(
            registry,
            policy.bulkhead.max_concurrent,
            on_change=lambda n: self._observer.in_flight(registry, n),
        )
        self._breaker = Breaker(
            registry,
            policy.breaker.fail_max,
            policy.breaker.reset_timeout,
            clock=clock,
            on_transition=lambda old, new: self._observer.breaker_transition(registry, old, new),
            storage=storage,
        )

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        return self._breaker.state

    @property
    def state_since(self) -> float:
        return self._breaker.since

    @property
    def in_flight(self) -> int:
        return self._bulkhead.in_flight

    @property
    def retry_after(self) -> float:
        return self._breaker.retry_after()

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        operation: str,
        retry_safe: bool,
        deadline: float | None = None,
    ) -> tuple[T, int]:
        """Run ``attempt`` under the policy; return its result and the attempts made."""
        now = self._clock()
        if deadline is None:
            deadline = now + self.policy.default_deadline
        if deadline <= now:
            self._observer.rejected(self.registry, "deadline")
            raise DeadlineExhausted(
                "the caller's deadline left no time to call the registry",
                registry=self.registry,
                operation=operation,
            )
        left = self._breaker.retry_after()
        if left > 0:  # fail fast without queueing for a slot
            self._observer.rejected(self.registry, "circuit_open")
            self._breaker.admit(operation)  # raises CircuitOpen with the message and delay
        try:
            async with self._bulkhead.slot(min(self.policy.bulkhead.max_wait, deadline - now)):
                return await self._retried(attempt, operation, retry_safe, deadline)
        except BulkheadFull as exc:
            if exc.registry == self.registry and not exc.operation:
                exc.operation = operation
                self._observer.rejected(self.registry, "bulkhead_full")
            raise

    async def _retried(
        self,
        attempt: Callable[[], Awaitable[T]],
        operation: str,
        retry_safe: bool,
        deadline: float,
    ) -> tuple[T, int]:
        retry = self.policy.retry
        count = 0

        def before_sleep(state: object) -> None:
            if error is not None:
                self._observer.retry(self.registry, operation, error.reason)

        error: RegbusError | None = None
        retrying = AsyncRetrying(
            stop=stop_after_attempt(retry.attempts if retry_safe else 1)
            | stop_before_deadline(deadline, self._clock),
            wait=wait_full_jitter(retry.backoff_initial, retry.backoff_max, self._rng),
            retry=retry_if_exception(is_transient),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for try_ in retrying:
                with try_:
                    count += 1
                    try:
                        result = await self._once(attempt, operation, deadline)
                    except RegbusError as exc:
                        error = exc if error is None or not isinstance(exc, FailFast) else error
                        raise
                    return result, count
        except FailFast as exc:
            # The breaker opened (or time ran out) during this call's own retries: what
            # this caller needs to hear is the registry failure that caused it.
            if error is not None and error is not exc:
                raise error from None
            raise
        raise AssertionError("unreachable: tenacity returns or re-raises")

    async def _once(
        self, attempt: Callable[[], Awaitable[T]], operation: str, deadline: float
    ) -> T:
        try:
            probe = self._breaker.admit(operation)
        except CircuitOpen:
            self._observer.rejected(self.registry, "circuit_open")
            raise
        remaining = deadline - self._clock()
        if remaining <= 0:
            self._breaker.abandoned(probe)
            self._observer.rejected(self.registry, "deadline")
            raise DeadlineExhausted(
                "the caller's deadline passed before the registry could be called",
                registry=self.registry,
                operation=operation,
            )
        timeout = min(self.policy.timeout, remaining)
        started = self._clock()
        outcome = "fault"
        try:
            async with asyncio.timeout(timeout):
                result = await attempt()
        except TimeoutError as exc:
            outcome = "timeout"
            self._breaker.failed(probe)
            raise RegistryTimeout(
                f"no answer within {timeout:.2f}s", registry=self.registry, operation=operation
            ) from exc
        except asyncio.CancelledError:
            outcome = "cancelled"
            self._breaker.abandoned(probe)
            raise
        except RegistryAnswer as exc:
            outcome = "not_found" if isinstance(exc, SubjectNotFound) else "rejected"
            self._breaker.succeeded(probe)  # the registry works; the answer is just "no"
            raise
        except (InvalidRequest, CircuitOpen, BulkheadFull, DeadlineExhausted):
            outcome = "refused"
            self._breaker.abandoned(probe)
            raise
        except RegbusError as exc:
            outcome = _outcome(exc)
            self._breaker.failed(probe)
            raise
        except Exception as exc:
            self._breaker.failed(probe)
            raise RegistryFault(
                f"unexpected error in adapter: {type(exc).__name__}: {exc}",
                registry=self.registry,
                operation=operation,
            ) from exc
        else:
            outcome = "ok"
            self._breaker.succeeded(probe)
            return result
        finally:
            if outcome != "cancelled":
                self._observer.attempt(self.registry, operation, outcome, self._clock() - started)


def _outcome(error: RegbusError) -> str:
    if isinstance(error, RegistryTimeout):
        return "timeout"
    if isinstance(error, RegistryUnavailable):
        return "unavailable"
    if isinstance(error, RegistryRejected):
        return "rejected"
    return "fault"
