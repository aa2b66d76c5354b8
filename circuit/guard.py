"""Everything the bus applies around one registry's calls, in order:

breaker (once per call) → (bulkhead slot → per-attempt timeout → adapter) retried by tenacity

The call works inside the caller's deadline minus a reserve for sending the
answer back; each attempt gets the smaller of the policy's timeout and what is
left, and holds its bulkhead slot only while it talks to the registry (backoff
sleeps hold nothing). The breaker hears one outcome per call, and only the
registry's own failures count against it: a timeout cut short by the caller's
deadline, a cancelled call or a bug in regbus says nothing about the registry.

    guard = RegistryGuard("gbdfl", policy, observer=metrics)
    record, attempts = await guard.run(attempt, operation="get_person", retry_safe=True,
                                       deadline=time.monotonic() + 5, client="centre-12")
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from regbus.adapters.errors import (
    AnswerTooLarge,
    BulkheadFull,
    CircuitOpen,
    DeadlineExhausted,
    InternalError,
    OutcomeUnknown,
    RegbusError,
    RegistryAnswer,
    RegistryFailure,
    RegistryRejected,
    RegistryTimeout,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.circuit.bulkhead import Bulkhead
from regbus.circuit.observer import NullObserver, Observer
from regbus.circuit.policy import Policy
from regbus.circuit.retry import (
    RetryBudget,
    is_transient,
    stop_before_deadline,
    stop_when,
    wait_full_jitter,
)
from regbus.circuit.state import Breaker, Outcome, Permit
from regbus.circuit.store import BreakerStore

T = TypeVar("T")
log = logging.getLogger("regbus.circuit")

# The answer reserve never takes more than this share of a short deadline.
_RESERVE_SHARE = 0.2


def answer_reserve(policy: Policy, left: float) -> float:
    """What of ``left`` seconds to a caller's deadline is kept back to send the answer:
    ``policy.deadline_reserve``, but never more than a fifth of a short deadline."""
    return min(policy.deadline_reserve, max(0.0, left) * _RESERVE_SHARE)


@dataclass(slots=True)
class _Call:
    """What one call learned across its attempts."""

    attempts: int = 0
    registry_failed: bool = False  # an attempt failed through the registry's own fault
    gave_up_slow: bool = False  # the caller's deadline cut an attempt already slow_call long
    busy: float = 0.0  # seconds spent in attempts, for the slow-call rule


class RegistryGuard:
    """Bulkhead, breaker, retries and deadlines for one registry."""

    def __init__(
        self,
        registry: str,
        policy: Policy,
        *,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        store: BreakerStore | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy
        self._observer: Observer = observer or NullObserver()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._budget = RetryBudget(policy.retry.budget_ratio, policy.retry.budget_reserve)
        self._bulkhead = Bulkhead(
            registry,
            policy.bulkhead.max_concurrent,
            on_change=functools.partial(self._observer.in_flight, registry),
            client_share=policy.bulkhead.client_share,
        )
        self.breaker = Breaker(
            registry,
            policy.breaker,
            clock=wall,
            store=store,
            on_transition=lambda old, new: self._observer.breaker_transition(registry, old, new),
        )

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        return self.breaker.state

    @property
    def state_since(self) -> float:
        return self.breaker.since

    @property
    def in_flight(self) -> int:
        return self._bulkhead.in_flight

    @property
    def retry_after(self) -> float:
        return self.breaker.retry_after()

    async def aclose(self) -> None:
        await self.breaker.aclose()

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        operation: str,
        retry_safe: bool,
        deadline: float | None = None,
        writes: bool = False,
        client: str = "",
    ) -> tuple[T, int]:
        """Run ``attempt`` under the policy; return its result and the attempts made.

        ``deadline`` is the caller's, on this guard's clock; ``writes`` marks an
        operation that changes the registry (an answer lost in flight is then
        ``OutcomeUnknown`` unless it is ``retry_safe``); ``client`` is whose
        share of the bulkhead the call takes.
        """
        now = self._clock()
        policy = self.policy
        if deadline is None:
            deadline = now + policy.default_deadline
        work_until = deadline - answer_reserve(policy, deadline - now)
        if work_until <= now:
            self._observer.rejected(self.registry, "deadline")
            raise DeadlineExhausted(
                "the caller's deadline left no time to call the registry"
                " (a longer deadline may help)",
                registry=self.registry,
                operation=operation,
            )
        breaker = self.breaker
        try:
            permit = breaker.admit(operation)
        except CircuitOpen:
            self._observer.rejected(self.registry, "circuit_open")
            raise
        self._budget.earn()
        call = _Call()
        outcome = Outcome.IGNORED
        try:
            # The first attempt runs without tenacity: most calls succeed at once, and that
            # path should cost nothing. A failure worth retrying hands over to tenacity,
            # which sees the first attempt's error as its own first outcome.
            try:
                result = await self._once(attempt, operation, work_until, call, client, now)
            except RegbusError as exc:
                safe = retry_safe and not permit.trial
                lost = _lost_write(exc, operation) if writes and not safe else exc
                if lost is not exc:
                    raise lost from exc
                if not (safe and policy.retry.attempts > 1 and is_transient(exc)):
                    raise
                result = await self._retried(
                    attempt, operation, work_until, call, permit, exc, client
                )
            outcome = Outcome.SUCCESS
            return result, call.attempts
        except RegistryAnswer:
            outcome = Outcome.SUCCESS  # the registry works; the answer is just "no"
            raise
        finally:
            if outcome is not Outcome.SUCCESS:
                if call.registry_failed:
                    outcome = Outcome.FAILURE
                elif call.gave_up_slow:
                    outcome = Outcome.SLOW
            breaker.record(permit, outcome, call.busy)

    async def _retried(
        self,
        attempt: Callable[[], Awaitable[T]],
        operation: str,
        work_until: float,
        call: _Call,
        permit: Permit,
        first_error: RegbusError,
        client: str,
    ) -> T:
        """The attempts after a first one that failed with ``first_error``, by tenacity."""
        last: list[RegbusError] = [first_error]
        first: RegbusError | None = first_error
        retry = self.policy.retry

        def refuse_retry() -> bool:
            if self.breaker.generation != permit.generation:
                return True  # the breaker changed state meanwhile: this call's view is stale
            if not self._budget.spend():
                self._observer.retry_budget_exhausted(self.registry)
                return True
            return False

        def before_sleep(state: RetryCallState) -> None:
            self._observer.retry(self.registry, operation, last[-1].reason)

        retrying = AsyncRetrying(
            # stop_when must stay last: it spends the retry budget when asked.
            stop=stop_after_attempt(retry.attempts)
            | stop_before_deadline(work_until, self._clock, retry.min_attempt)
            | stop_when(refuse_retry),
            wait=wait_full_jitter(retry.backoff_initial, retry.backoff_max, self._rng),
            retry=retry_if_exception(is_transient),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        async for try_ in retrying:
            with try_:
                if first is not None:
                    replay, first = first, None
                    raise replay  # the first attempt's outcome, already known
                try:
                    return await self._once(attempt, operation, work_until, call, client)
                except RegbusError as exc:
                    last.append(exc)
                    raise
        raise AssertionError("unreachable: tenacity returns or re-raises")

    async def _once(
        self,
        attempt: Callable[[], Awaitable[T]],
        operation: str,
        work_until: float,
        call: _Call,
        client: str,
        now: float | None = None,
    ) -> T:
        """One attempt: a bulkhead slot, then ``attempt`` within its timeout (``now``: the
        guard's clock, when the caller has just read it)."""
        clock = self._clock
        remaining = work_until - (clock() if now is None else now)
        if remaining <= 0:
            self._observer.rejected(self.registry, "deadline")
            raise self._out_of_time(operation)
        policy = self.policy
        bulkhead = self._bulkhead
        held = bulkhead.take(client)
        if held is False:  # none free at once: wait for one
            try:
                held = await bulkhead.acquire(min(policy.bulkhead.max_wait, remaining), client)
            except BulkheadFull as exc:
                exc.operation = operation
                self._observer.rejected(self.registry, "bulkhead_full")
                raise
        try:
            # Holding a bulkhead slot from here.
            started = clock()
            remaining = work_until - started
            if remaining <= 0:
                self._observer.rejected(self.registry, "deadline")
                raise self._out_of_time(operation)
            # A timeout shorter than the policy's is the caller's doing, not the registry's.
            timeout = policy.timeout
            cut_by_caller = remaining < timeout
            if cut_by_caller:
                timeout = remaining
            call.attempts += 1
            outcome = "fault"
            try:
                async with asyncio.timeout(timeout):
                    result = await attempt()
            except TimeoutError as exc:
                if cut_by_caller:
                    outcome = "deadline"
                    call.gave_up_slow = timeout >= policy.breaker.slow_call
                    raise DeadlineExhausted(
                        f"no answer within the {timeout:.2f}s the caller's deadline left"
                        " (a longer deadline may help)",
                        registry=self.registry,
                        operation=operation,
                    ) from exc
                outcome = "timeout"
                call.registry_failed = True
                raise RegistryTimeout(
                    f"no answer within {timeout:.2f}s", registry=self.registry, operation=operation
                ) from exc
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except RegistryAnswer as exc:
                outcome = "not_found" if isinstance(exc, SubjectNotFound) else "rejected"
                raise
            except RegistryFailure as exc:
                outcome = _outcome(exc)
                call.registry_failed = True
                raise
            except RegbusError:
                outcome = "refused"
                raise
            except Exception as exc:
                outcome = "internal"
                log.exception(
                    "bug in regbus while calling %s.%s; not charged to the registry",
                    self.registry,
                    operation,
                )
                raise InternalError(
                    f"internal error in regbus ({type(exc).__name__}) while calling the"
                    " registry; it has been logged",
                    registry=self.registry,
                    operation=operation,
                ) from exc
            else:
                outcome = "ok"
                return result
            finally:
                elapsed = clock() - started
                call.busy += elapsed
                if outcome != "cancelled":
                    self._observer.attempt(self.registry, operation, outcome, elapsed)
        finally:
            bulkhead.release(client, held)

    def _out_of_time(self, operation: str) -> DeadlineExhausted:
        return DeadlineExhausted(
            "the caller's deadline passed before the registry could be called"
            " (a longer deadline may help)",
            registry=self.registry,
            operation=operation,
        )


def _lost_write(error: RegbusError, operation: str) -> RegbusError:
    """A write without an idempotency key whose answer may have been lost in flight."""
    if isinstance(error, RegistryTimeout | DeadlineExhausted) or (
        isinstance(error, RegistryUnavailable) and error.delivered is not False
    ):
        return OutcomeUnknown(
            "the write was sent but its answer was lost, so it may or may not have happened;"
            " check with the registry before sending it again (it carried no idempotency key)",
            registry=error.registry,
            operation=error.operation or operation,
            detail=error.message,
        )
    return error


def _outcome(error: RegbusError) -> str:
    if isinstance(error, RegistryTimeout):
        return "timeout"
    if isinstance(error, RegistryUnavailable):
        return "unavailable"
    if isinstance(error, AnswerTooLarge):
        return "too_large"
    if isinstance(error, RegistryRejected):
        return "rejected"
    return "fault"
