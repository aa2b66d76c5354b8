"""A circuit breaker that is correct under asyncio, built on pybreaker.

pybreaker keeps the state, the failure count (in its storage, in memory or in
Redis) and the listeners. Its ``call()`` holds a lock around the whole call and
its ``calling()`` lets every concurrent call through when half-open and counts
cancellations, so calls are gated here instead:

- open: fail fast with the time left until a probe is allowed;
- half-open: exactly one probe at a time, others fail fast;
- only failures of the registry count; business answers are successes and
  cancelled calls count as nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pybreaker

from regbus.adapters.errors import CircuitOpen

_NAMES = {
    pybreaker.STATE_CLOSED: "closed",
    pybreaker.STATE_OPEN: "open",
    pybreaker.STATE_HALF_OPEN: "half_open",
}


class _Listener(pybreaker.CircuitBreakerListener):
    def __init__(self, owner: Breaker) -> None:
        self._owner = owner

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        old = _NAMES.get(old_state.name, old_state.name) if old_state else ""
        self._owner._transitioned(old, _NAMES.get(new_state.name, new_state.name))


class Breaker:
    """One registry's breaker. Call ``admit()`` before an attempt, then exactly one
    of ``succeeded``, ``failed`` or ``abandoned`` with the ticket it returned."""

    def __init__(
        self,
        registry: str,
        fail_max: int,
        reset_timeout: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Callable[[str, str], None] | None = None,
        storage: pybreaker.CircuitBreakerStorage | None = None,
    ) -> None:
        self.registry = registry
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._on_transition = on_transition
        self._opened_at = 0.0
        self._since = time.time()
        self._probing = False
        self._cb = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            state_storage=storage or pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED),
            listeners=[_Listener(self)],
            name=registry,
        )
        if self._cb.current_state == pybreaker.STATE_OPEN:
            self._opened_at = clock()  # shared storage says open: wait a full period here

    @property
    def state(self) -> str:
        return _NAMES[self._cb.current_state]

    @property
    def since(self) -> float:
        """Wall-clock time of the last transition this process saw."""
        return self._since

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through; 0 when not open."""
        if self._cb.current_state != pybreaker.STATE_OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout - self._clock())

    def admit(self, operation: str = "") -> bool:
        """Let an attempt through or raise ``CircuitOpen``; True when it is the probe."""
        state = self._cb.current_state
        if state == pybreaker.STATE_OPEN:
            left = self.retry_after()
            if left > 0:
                raise CircuitOpen(
                    f"circuit open after {self._cb.fail_max} consecutive failures; failing fast"
                    f" without calling the registry (next probe in {left:.1f}s)",
                    registry=self.registry,
                    operation=operation,
                    retry_after=left,
                )
            self._cb.half_open()
            state = pybreaker.STATE_HALF_OPEN
        if state == pybreaker.STATE_HALF_OPEN:
            if self._probing:
                raise CircuitOpen(
                    "circuit half-open: one probe call is testing the registry; failing fast",
                    registry=self.registry,
                    operation=operation,
                    retry_after=min(1.0, self.reset_timeout),
                )
            self._probing = True
            return True
        return False

    def succeeded(self, probe: bool) -> None:
        if probe:
            self._probing = False
        if self._cb.current_state != pybreaker.STATE_CLOSED:
            self._cb.close()  # resets the failure count too
        elif self._cb.fail_counter:
            self._cb._state_storage.reset_counter()

    def failed(self, probe: bool) -> None:
        if probe:
            self._probing = False
            self._trip()
            return
        if self._cb.current_state != pybreaker.STATE_CLOSED:
            return  # a call admitted before the breaker opened; it is open already
        self._cb._state_storage.increment_counter()
        if self._cb.fail_counter >= self._cb.fail_max:
            self._trip()

    def abandoned(self, probe: bool) -> None:
        """The caller went away: count nothing, free the probe slot."""
        if probe:
            self._probing = False

    def _trip(self) -> None:
        self._opened_at = self._clock()
        self._cb.open()

    def _transitioned(self, old: str, new: str) -> None:
        self._since = time.time()
        if self._on_transition is not None:
            self._on_transition(old, new)
