"""The status wall's memory: each registry's health, since when, and 15 minutes of calls.

A registry's health, as the wall shows it:

- ``down``: its circuit breaker is open;
- ``degraded``: the breaker is half-open, or closed with at least 10% of the calls of
  the last minute failed, a failure being what the bus counts against a registry (a
  ``RegistryFailure``: unavailable, timeout, fault; or a ``FailFast``: circuit open,
  bulkhead full, deadline, dependency failed), not a business answer such as not found;
- ``unknown``: no calls and no state information yet (closed since start, never called);
- ``up`` otherwise.

Nothing here is on the hot path. :meth:`Wall.refresh` samples ``Bus.status()`` rows and
the ``regbus_requests_total`` counter (:meth:`Wall.sample` reads the counter in a
thread); the HTTP app runs :meth:`Wall.run` in the background (a sample every 2 s, a
history point every 10 s, 90 points kept) and samples on demand when ``/status`` is
asked (at most every half second).

"Since" is when the health really began, from the wall's own record of changes: calls
and half-open probes do not reset it, and an outage whose half-open probe failed goes on
from when it began.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry

from regbus.adapters.errors import FailFast, RegistryFailure

log = logging.getLogger("regbus.wall")

UP, DEGRADED, DOWN, UNKNOWN = "up", "degraded", "down", "unknown"
HEALTHS = (UP, DEGRADED, DOWN, UNKNOWN)
WINDOW = 60.0  # seconds of calls behind a tile's error rate
THRESHOLD = 0.10  # a closed breaker with this share of failed calls is degraded
TICK = 2.0  # seconds between background samples
INTERVAL = 10.0  # seconds per history point
POINTS = 90  # history points kept: 15 minutes
MIN_GAP = 0.5  # an on-demand refresh sooner than this reuses the last sample
CHANGES = 20  # state changes remembered per registry
REQUESTS_SAMPLE = "regbus_requests_total"

StatusSource = Callable[[], list[dict[str, Any]]]


class Counts(NamedTuple):
    """Queries answered for a registry so far, and how many of them failed."""

    calls: int
    failures: int


CountsSource = Callable[[], Mapping[str, Counts]]


def failure_outcomes() -> frozenset[str]:
    """The ``outcome`` label values that count as a registry's failure (as the router's
    recent-calls memory counts them): every ``RegistryFailure`` and ``FailFast``."""
    found: set[str] = set()
    todo: list[type] = [RegistryFailure, FailFast]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        reason = cls.__dict__.get("reason")  # FailFast inherits INTERNAL: not its own
        if isinstance(reason, str):
            found.add(reason.lower())
    return frozenset(found)


def request_counts(registry: CollectorRegistry) -> dict[str, Counts]:
    """Calls and failures per registry from ``regbus_requests_total`` (every worker's,
    under ``regbus serve --workers N``)."""
    failing = failure_outcomes()
    calls: dict[str, float] = {}
    failures: dict[str, float] = {}
    families = list(registry.restricted_registry([REQUESTS_SAMPLE]).collect())
    if not families:  # no calls yet, or a collector that names nothing (the workers' files)
        families = list(registry.collect())
    for family in families:
        for sample in family.samples:
            if sample.name != REQUESTS_SAMPLE:
                continue
            name = sample.labels.get("registry", "")
            calls[name] = calls.get(name, 0.0) + sample.value
            if sample.labels.get("outcome", "") in failing:
                failures[name] = failures.get(name, 0.0) + sample.value
    return {name: Counts(int(n), int(failures.get(name, 0.0))) for name, n in calls.items()}


def health_of(breaker: str, calls: int, failures: int, known: bool) -> str:
    """A registry's health from its breaker and its last minute of calls."""
    if breaker == "open":
        return DOWN
    if breaker == "half_open":
        return DEGRADED
    if calls and failures / calls >= THRESHOLD:
        return DEGRADED
    return UP if known else UNKNOWN


def overall(counts: Mapping[str, int]) -> str:
    """The bus's state over its registries: down when every registry it knows about is
    down, degraded when some are, up when all are up, unknown before anything is known."""
    known = counts.get(UP, 0) + counts.get(DEGRADED, 0) + counts.get(DOWN, 0)
    if not known:
        return UNKNOWN
    if counts.get(DOWN, 0) == known:
        return DOWN
    if counts.get(DOWN, 0) or counts.get(DEGRADED, 0):
        return DEGRADED
    return UP


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Change:
    at: float  # wall-clock seconds
    health: str
    breaker: str


@dataclass(frozen=True)
class Tile:
    """What the wall shows of one registry."""

    id: str
    health: str
    since: float  # wall-clock seconds: when this health began
    calls: int  # in the last minute
    failures: int  # in the last minute

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.calls if self.calls else None


@dataclass
class _Record:
    health: str
    since: float
    breaker: str
    known: bool
    changes: deque[Change] = field(default_factory=lambda: deque(maxlen=CHANGES))
    points: deque[Counts] = field(default_factory=lambda: deque(maxlen=POINTS))
    # The outage a half-open probe interrupted: it goes on if the probe fails.
    outage_since: float | None = None


class Wall:
    """Per-registry health and history, fed by sampling ``status`` and ``counts``."""

    def __init__(
        self,
        status: StatusSource,
        counts: CountsSource,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._status = status
        self._counts = counts
        self._clock = clock
        self._monotonic = monotonic
        self._records: dict[str, _Record] = {}
        self._tiles: dict[str, Tile] = {}
        # (monotonic time, counts): the oldest is the baseline of the last minute.
        self._snapshots: deque[tuple[float, Mapping[str, Counts]]] = deque()
        self._point_base: Mapping[str, Counts] | None = None
        self._next_point = 0.0
        self._sampled_at: float | None = None  # monotonic
        self.updated_at = clock()  # wall clock of the last sample

    # -- sampling -----------------------------------------------------------

    def _fresh(self) -> bool:
        return self._sampled_at is not None and self._monotonic() - self._sampled_at < MIN_GAP

    async def sample(self, rows: list[dict[str, Any]] | None = None) -> dict[str, Tile]:
        """:meth:`refresh`, with the counters read in a thread: under ``--workers`` that
        reads every worker's metric files, which the event loop should not wait for."""
        if self._fresh():
            return self._tiles
        counts = await asyncio.to_thread(self._counts)
        return self.refresh(rows, counts)

    def refresh(
        self,
        rows: list[dict[str, Any]] | None = None,
        counts: Mapping[str, Counts] | None = None,
    ) -> dict[str, Tile]:
        """Sample now (``rows`` and ``counts`` if the caller has just read them) and return
        the tiles; within ``MIN_GAP`` of the last sample, the tiles of that one."""
        if self._fresh():
            return self._tiles
        now_m, now = self._monotonic(), self._clock()
        rows = self._status() if rows is None else rows
        counts = self._counts() if counts is None else counts
        self._sampled_at, self.updated_at = now_m, now
        self._snapshots.append((now_m, counts))
        while len(self._snapshots) > 1 and self._snapshots[1][0] <= now_m - WINDOW:
            self._snapshots.popleft()
        base = self._snapshots[0][1]
        tiles = {}
        for row in rows:
            registry = str(row["id"])
            total = counts.get(registry, Counts(0, 0))
            before = base.get(registry, Counts(0, 0))
            calls = max(0, total.calls - before.calls)
            failures = min(calls, max(0, total.failures - before.failures))
            tiles[registry] = self._observe(row, total, calls, failures, now)
        self._tiles = tiles
        self._record_point(now_m, counts)
        return tiles

    def _observe(
        self, row: Mapping[str, Any], total: Counts, calls: int, failures: int, now: float
    ) -> Tile:
        registry, breaker = str(row["id"]), str(row["breaker"])
        record = self._records.get(registry)
        known = (
            total.calls > 0
            or int(row.get("recent_calls") or 0) > 0
            or breaker != "closed"
            or (record is not None and record.known)
        )
        health = health_of(breaker, calls, failures, known)
        breaker_since = _parse_time(row.get("state_since"), now)
        if record is None:
            since = breaker_since if breaker != "closed" else now
            record = self._records[registry] = _Record(health, since, breaker, known)
            record.changes.append(Change(since, health, breaker))
        elif health != record.health:
            since = now
            if breaker != record.breaker:
                # The breaker moved between two samples: it knows when.
                since = min(now, max(breaker_since, record.since))
            resumed = record.outage_since
            record.outage_since = None
            if health == DEGRADED and record.health == DOWN and breaker == "half_open":
                record.outage_since = record.since
            elif health == DOWN and resumed is not None and record.breaker == "half_open":
                since = resumed  # the probe failed: the outage goes on
            record.health, record.since = health, since
            record.changes.append(Change(since, health, breaker))
        record.breaker, record.known = breaker, known
        return Tile(registry, health, record.since, calls, failures)

    def _record_point(self, now_m: float, counts: Mapping[str, Counts]) -> None:
        if self._point_base is None:
            self._point_base, self._next_point = counts, now_m + INTERVAL
            return
        if now_m < self._next_point:
            return
        for registry, record in self._records.items():
            total = counts.get(registry, Counts(0, 0))
            before = self._point_base.get(registry, Counts(0, 0))
            calls = max(0, total.calls - before.calls)
            record.points.append(
                Counts(calls, min(calls, max(0, total.failures - before.failures)))
            )
        self._point_base = counts
        # Late by more than an interval (a stalled loop): the next point counts from now.
        self._next_point = max(self._next_point + INTERVAL, now_m + INTERVAL / 2)

    async def run(self, tick: float = TICK) -> None:
        """Sample every ``tick`` seconds until cancelled."""
        while True:
            try:
                await self.sample()
            except Exception:
                log.exception("status wall: sampling the bus's status failed")
            await asyncio.sleep(tick)

    # -- what the HTTP side shows --------------------------------------------

    def annotate(
        self, rows: Iterable[dict[str, Any]], *, history: bool = False
    ) -> list[dict[str, Any]]:
        """``rows`` (``Bus.status()``) with the wall's fields added to each."""
        out = []
        for row in rows:
            registry = str(row["id"])
            tile = self._tiles.get(registry)
            extra: dict[str, Any] = (
                {"health": UNKNOWN, "health_since": None}
                if tile is None
                else {
                    "health": tile.health,
                    "health_since": iso(tile.since),
                    "calls_1m": tile.calls,
                    "failures_1m": tile.failures,
                    "error_rate_1m": None if tile.error_rate is None else round(tile.error_rate, 4),
                }
            )
            record = self._records.get(registry)
            if history and record is not None:
                extra["history"] = {
                    "calls": [p.calls for p in record.points],
                    "failures": [p.failures for p in record.points],
                }
                extra["changes"] = [
                    {"at": iso(c.at), "health": c.health, "breaker": c.breaker}
                    for c in list(record.changes)[-5:]
                ]
            out.append({**row, **extra})
        return out

    def summary(self) -> dict[str, Any]:
        counts = {health: 0 for health in HEALTHS}
        for tile in self._tiles.values():
            counts[tile.health] += 1
        return {
            **counts,
            "overall": overall(counts),
            "updated_at": iso(self.updated_at),
            "window_seconds": WINDOW,
            "error_threshold": THRESHOLD,
            "history_interval_seconds": INTERVAL,
            "history_points": POINTS,
        }

    def changes(self, registry: str) -> list[Change]:
        """The state changes remembered for ``registry``, oldest first."""
        record = self._records.get(registry)
        return [] if record is None else list(record.changes)

    def history(self, registry: str) -> list[Counts]:
        """Calls and failures per ``INTERVAL``, oldest first (at most ``POINTS``)."""
        record = self._records.get(registry)
        return [] if record is None else list(record.points)


def _parse_time(value: object, default: float) -> float:
    if not isinstance(value, str):
        return default
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return default
