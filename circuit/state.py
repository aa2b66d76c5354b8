"""A circuit breaker that judges the registry, not the caller, for asyncio.

One :class:`Breaker` per registry. Before a call, ``admit()`` returns a
:class:`Permit` or raises ``CircuitOpen``; after it, ``record()`` hands back
the permit with the call's :class:`Outcome` and duration::

    permit = breaker.admit("get_person")          # or CircuitOpen
    ...                                           # one call, retries included
    breaker.record(permit, Outcome.SUCCESS, 0.42)

Both are synchronous, never await and cost O(1) amortised, so they run on the
event loop for every call. The states and their transitions:

- closed: every call is let through. It opens when ``fail_max`` calls in a
  row failed (what trips a low-traffic registry), or, once the sliding window
  (the last ``window`` outcomes no older than ``window_seconds``) holds at
  least ``min_calls`` calls, when the share of failures reaches
  ``failure_rate`` or the share of slow successes reaches ``slow_rate``.
- open: callers fail fast with the time left; after ``reset_timeout`` it is
  half-open by itself, computed from the clock.
- half-open: ``half_open_permits`` trial calls are let through, the rest fail
  fast. The first trial failure re-opens it; once every trial is in, it
  re-opens if too many were slow and closes (with an empty window) otherwise.

Every transition bumps ``generation``; a permit remembers the generation it
was given in, and an outcome from an older generation changes nothing: a call
that started before the breaker opened cannot close it, and one that started
before it closed cannot re-open it. ``Outcome.IGNORED`` (the caller cancelled,
the caller's own deadline cut the call short, regbus refused) counts nothing
and only frees a trial permit. ``Outcome.SLOW`` is a call the caller gave up on
after it had already waited ``slow_call`` seconds: it counts as a slow call (the
registry was that slow whatever the caller's patience), not as a success.

Why the state machine is ours and not pybreaker's: pybreaker counts
consecutive failures only (no failure rate over a window, no minimum of
calls, no slow calls); its shared storage is synchronous (a blocking Redis
round trip on the event loop for every call); its half-open state lets every
concurrent caller through; and ``calling()`` counts ``CancelledError`` as a
failure. pybreaker's state names are kept (``PYBREAKER_STATES`` maps its
``STATE_*`` constants onto ours, ``half-open`` being spelled ``half_open``
here), and ``on_transition(old, new)`` plays the part of its listeners'
``state_change``.

Sharing with other replicas (``store=``, see :mod:`regbus.circuit.store`):
the breaker decides from its local copy and talks to the store only in the
background. A local transition is published by compare-and-set in a task the
breaker tracks; ``await sync()`` (the bus calls it periodically, and the
breaker once by itself when it is made inside a running event loop) loads the
shared record and adopts it when its generation is newer, so an "open" from
another replica opens this one too, with the same opening time and therefore
the same ``retry_after``. Generations order the records: the higher one wins,
and between two different records of one generation the one stored first wins.
A store that cannot be reached is logged once and the breaker goes on deciding
locally. Each replica lets its own ``half_open_permits`` trials through.

The breaker is not thread-safe: use it from one event loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import pybreaker

from regbus.adapters.errors import CircuitOpen
from regbus.circuit.policy import BreakerPolicy
from regbus.circuit.store import CLOSED, HALF_OPEN, OPEN, STATES, BreakerStore, SharedState

__all__ = [
    "CLOSED",
    "FAILURE",
    "HALF_OPEN",
    "IGNORED",
    "OPEN",
    "PYBREAKER_STATES",
    "STATES",
    "SUCCESS",
    "Breaker",
    "BreakerPolicy",
    "Outcome",
    "Permit",
    "Window",
]

log = logging.getLogger("regbus.circuit")

PYBREAKER_STATES = {
    pybreaker.STATE_CLOSED: CLOSED,
    pybreaker.STATE_OPEN: OPEN,
    pybreaker.STATE_HALF_OPEN: HALF_OPEN,
}
"""pybreaker's state names (``STATE_CLOSED`` ...) to the ones used here."""

# How many compare-and-set rounds one publish may take before leaving the rest
# to the next sync (only replicas racing each other need more than two).
_MAX_ROUNDS = 4


class Outcome(enum.Enum):
    """What one call says about the registry."""

    SUCCESS = "success"  # the registry answered (a business "no" included)
    FAILURE = "failure"  # the registry failed: unreachable, 5xx, its own timeout, a fault
    IGNORED = "ignored"  # says nothing about the registry: cancelled, caller's deadline, refused
    SLOW = "slow"  # no answer yet after slow_call seconds when the caller stopped waiting


SUCCESS = Outcome.SUCCESS
FAILURE = Outcome.FAILURE
IGNORED = Outcome.IGNORED


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; hand it back to ``Breaker.record``."""

    generation: int
    trial: bool = False


_OK, _FAILED, _SLOW = 0, 1, 2


class Window:
    """The last ``size`` call outcomes no older than ``seconds`` (0: any age),
    with running counts so nothing is summed on the hot path."""

    __slots__ = ("_entries", "calls", "failures", "seconds", "size", "slow")

    def __init__(self, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: deque[tuple[float, int]] = deque()
        self.calls = 0
        self.failures = 0
        self.slow = 0

    def add(self, now: float, kind: int) -> None:
        entries = self._entries
        if self.seconds > 0 and entries and entries[0][0] < now - self.seconds:
            self.expire(now)
        entries.append((now, kind))
        self.calls += 1
        if kind == _FAILED:
            self.failures += 1
        elif kind == _SLOW:
            self.slow += 1
        if len(entries) > self.size:
            self._count(entries.popleft()[1], -1)

    def expire(self, now: float) -> None:
        if self.seconds <= 0:
            return
        horizon = now - self.seconds
        entries = self._entries
        while entries and entries[0][0] < horizon:
            self._count(entries.popleft()[1], -1)

    def clear(self) -> None:
        self._entries.clear()
        self.calls = self.failures = self.slow = 0

    def _count(self, kind: int, step: int) -> None:
        self.calls += step
        if kind == _FAILED:
            self.failures += step
        elif kind == _SLOW:
            self.slow += step


class Breaker:
    """One registry's circuit breaker (see the module's documentation)."""

    def __init__(
        self,
        registry: str,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        store: BreakerStore | None = None,
        on_transition: Callable[[str, str], None] | None = None,
    ) -> None:
        policy = policy if policy is not None else BreakerPolicy()
        problems = policy.problems()
        if problems:
            raise ValueError(f"breaker for {registry}: " + "; ".join(problems))
        self.registry = registry
        self.policy = policy
        self._clock = clock
        self._store = store
        self._on_transition = on_transition

        self._state = CLOSED
        self._generation = 0
        self._since = clock()
        self._opened_at = 0.0
        self._opened_reason = ""
        self._window = Window(policy.window, policy.window_seconds)
        self._consecutive = 0
        self._trials_out = 0  # trial permits given and not yet recorded
        self._trials_done = 0  # trial outcomes counted (successes)
        self._trials_slow = 0
        self._permit = Permit(0, trial=False)
        self._trial_permit = Permit(0, trial=True)

        # The shared side, touched only off the hot path.
        self._stored_generation = 0  # generation of the record last seen in the store
        self._dirty = False  # a local change the store has not taken yet
        self._task: asyncio.Task[bool] | None = None
        self._io_lock = asyncio.Lock()
        self._store_failing = False
        if store is not None:
            self._start(load=True)  # a process that starts while the registry is open starts open

    # -- what callers read -------------------------------------------------

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open`` (open turns half-open by itself in time)."""
        self._advance(self._clock())
        return self._state

    @property
    def generation(self) -> int:
        """Bumped by every transition (and shared with the other replicas)."""
        self._advance(self._clock())
        return self._generation

    @property
    def since(self) -> float:
        """Clock time of the last transition (of the breaker's creation before any)."""
        self._advance(self._clock())
        return self._since

    @property
    def opened_reason(self) -> str:
        """Why it last opened, e.g. ``5 consecutive calls failed``; empty when closed."""
        self._advance(self._clock())
        return self._opened_reason

    def retry_after(self) -> float:
        """Seconds until an open breaker admits trial calls; 0 when not open."""
        now = self._clock()
        self._advance(now)
        if self._state != OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.policy.reset_timeout - now)

    def window_counts(self) -> tuple[int, int, int]:
        """(calls, failures, slow successes) in the window now; for status pages."""
        self._window.expire(self._clock())
        return self._window.calls, self._window.failures, self._window.slow

    def shared(self) -> SharedState:
        """The local state as the record other replicas see."""
        self._advance(self._clock())
        return self._record()

    # -- the hot path --------------------------------------------------------

    def admit(self, operation: str = "") -> Permit:
        """A permit for one call, or ``CircuitOpen`` with the time to wait."""
        state = self._state
        if state == CLOSED:  # only an open breaker changes by itself in time
            return self._permit
        now = self._clock()
        self._advance(now)
        state = self._state
        policy = self.policy
        if state == OPEN:
            left = max(0.0, self._opened_at + policy.reset_timeout - now)
            raise CircuitOpen(
                f"circuit open: {self._opened_reason}; failing fast without calling the "
                f"registry (next trial calls in {left:.1f}s)",
                registry=self.registry,
                operation=operation,
                retry_after=left,
            )
        if self._trials_out + self._trials_done < policy.half_open_permits:
            self._trials_out += 1
            return self._trial_permit
        raise CircuitOpen(
            f"circuit half-open: {policy.half_open_permits} trial calls are testing the "
            "registry; failing fast",
            registry=self.registry,
            operation=operation,
            retry_after=min(1.0, policy.reset_timeout),
        )

    def record(self, permit: Permit, outcome: Outcome, duration: float) -> None:
        """The outcome of the call ``permit`` let through, and how long it took."""
        now = self._clock()
        if self._state == OPEN:
            self._advance(now)
        if permit.generation != self._generation:
            return  # the call started before a transition: it cannot judge the new state
        if permit.trial:
            if self._state == HALF_OPEN:
                self._trial(now, outcome, duration)
            return
        if self._state != CLOSED or outcome is Outcome.IGNORED:
            return
        policy = self.policy
        window = self._window
        if outcome is Outcome.FAILURE:
            self._consecutive += 1
            window.add(now, _FAILED)
        elif outcome is Outcome.SLOW:
            window.add(now, _SLOW)  # evidence of slowness, not of success
        else:
            self._consecutive = 0
            window.add(now, _SLOW if duration >= policy.slow_call else _OK)
        calls = window.calls
        reason = ""
        if calls >= policy.min_calls and window.failures / calls >= policy.failure_rate:
            reason = f"{window.failures} of the last {calls} calls failed"
        elif self._consecutive >= policy.fail_max:
            reason = f"{self._consecutive} consecutive calls failed"
        elif calls >= policy.min_calls and window.slow / calls >= policy.slow_rate:
            reason = (
                f"{window.slow} of the last {calls} calls were slower than "
                f"{float(policy.slow_call)}s"
            )
        if reason:
            self._transition(OPEN, now, reason)

    def _trial(self, now: float, outcome: Outcome, duration: float) -> None:
        policy = self.policy
        if self._trials_out > 0:
            self._trials_out -= 1
        if outcome is Outcome.IGNORED:
            return
        if outcome is Outcome.FAILURE:
            self._transition(OPEN, now, "a trial call failed after the circuit had been open")
            return
        self._trials_done += 1
        if outcome is Outcome.SLOW or duration >= policy.slow_call:
            self._trials_slow += 1
        done = self._trials_done
        if done < policy.half_open_permits:
            return
        if self._trials_slow / done >= policy.slow_rate:
            self._transition(
                OPEN,
                now,
                f"{self._trials_slow} of {done} trial calls were slower than "
                f"{float(policy.slow_call)}s",
            )
        else:
            self._transition(CLOSED, now)

    # -- transitions ---------------------------------------------------------

    def _advance(self, now: float) -> None:
        if self._state == OPEN:
            due = self._opened_at + self.policy.reset_timeout
            if now >= due:
                self._transition(HALF_OPEN, due)

    def _transition(self, new: str, at: float, reason: str = "") -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._since = at
        if new == OPEN:
            self._opened_at = at
            self._opened_reason = reason
        elif new == CLOSED:
            self._opened_reason = ""
        self._reset()
        self._publish()
        self._notify(old, new)

    def _reset(self) -> None:
        self._window.clear()
        self._consecutive = 0
        self._trials_out = self._trials_done = self._trials_slow = 0
        self._permit = Permit(self._generation, trial=False)
        self._trial_permit = Permit(self._generation, trial=True)

    def _notify(self, old: str, new: str) -> None:
        if self._on_transition is None:
            return
        try:
            self._on_transition(old, new)
        except Exception:
            log.exception("breaker %s: on_transition(%s, %s) failed", self.registry, old, new)

    def _record(self) -> SharedState:
        return SharedState(self._state, self._generation, self._since, self._opened_reason)

    def _adopt(self, shared: SharedState) -> None:
        old = self._state
        same = shared.generation == self._generation and shared.state == old
        self._state = shared.state
        self._generation = shared.generation
        self._since = shared.changed_at
        self._opened_reason = shared.opened_reason
        if shared.state == OPEN:
            self._opened_at = shared.changed_at
        if not same:
            self._reset()
        self._stored_generation = shared.generation
        self._dirty = False  # the local state is the stored one now
        log.info(
            "breaker %s: adopted the shared state %s (generation %d)",
            self.registry,
            shared.state,
            shared.generation,
        )
        if old != shared.state:
            self._notify(old, shared.state)

    # -- the shared side -----------------------------------------------------

    async def sync(self) -> bool:
        """Publish what is pending, load the shared record and adopt it when it is
        newer. True when the store answered; its failures are logged, not raised."""
        if self._store is None:
            return True
        async with self._io_lock:
            return await self._exchange(load=True)

    async def aclose(self) -> None:
        """Wait for pending publishes (the store itself is its owner's to close)."""
        task = self._task
        if task is not None and not task.done():
            await task
        if self._store is not None and self._dirty:
            await self.sync()

    def _publish(self) -> None:
        if self._store is None:
            return
        self._dirty = True
        self._start(load=False)

    def _start(self, *, load: bool) -> None:
        if self._task is not None and not self._task.done():
            return  # the running task publishes whatever is dirty before it ends
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop here: the next sync() does it
        self._task = loop.create_task(self._background(load), name=f"breaker-{self.registry}")

    async def _background(self, load: bool) -> bool:
        async with self._io_lock:
            return await self._exchange(load=load)

    async def _exchange(self, *, load: bool) -> bool:
        store = self._store
        assert store is not None
        try:
            self._advance(self._clock())
            if load and not self._dirty:
                self._reconcile(await store.load(self.registry))
            rounds = 0
            while self._dirty and rounds < _MAX_ROUNDS:
                rounds += 1
                self._advance(self._clock())
                mine = self._record()
                self._dirty = False
                try:
                    stored = await store.swap(self.registry, self._stored_generation, mine)
                except BaseException:
                    self._dirty = True
                    raise
                self._reconcile(stored)
        except Exception as exc:
            if not self._store_failing:
                self._store_failing = True
                log.warning(
                    "breaker %s: the shared breaker store failed (%s: %s); deciding locally "
                    "until it answers again",
                    self.registry,
                    type(exc).__name__,
                    exc,
                )
            return False
        if self._store_failing:
            self._store_failing = False
            log.info("breaker %s: the shared breaker store answers again", self.registry)
        return True

    def _reconcile(self, stored: SharedState | None) -> None:
        local = self._generation
        if stored is None or stored.generation == 0:
            self._stored_generation = 0
            if local > 0:
                self._dirty = True  # nothing shared yet (or the store was emptied)
            return
        if stored.generation > local:
            self._adopt(stored)
        elif stored.generation == local:
            if stored != self._record():
                self._adopt(stored)  # one generation, two histories: the first stored wins
            self._stored_generation = stored.generation
        else:
            self._stored_generation = stored.generation
            self._dirty = True  # this replica is ahead: publish on top of what is stored

    def __repr__(self) -> str:
        return (
            f"Breaker({self.registry!r}, state={self._state}, generation={self._generation}, "
            f"reason={self._opened_reason!r})"
        )
