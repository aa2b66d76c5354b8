"""Prometheus metrics of the bus, all prefixed ``regbus_``, labels bounded.

``Metrics`` owns its own ``CollectorRegistry`` (several buses can live in one
process, as in tests) and is the ``circuit.observer.Observer`` the guards
report to.

Under ``regbus serve --workers N`` every worker process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, chosen when the
process starts, from the environment the supervisor gives it) and ``exposition``
reads all of them: a scrape on any worker returns the sum over every worker. Counters
and histograms of a worker that died still count; gauges are ``live*``, so its
in-flight calls and breaker states go away with it (``mark_process_dead``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, cast

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client import multiprocess as _multiprocess

# Registries behind SOAP gateways answer in seconds, not milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BREAKER_STATES = ("closed", "open", "half_open")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# prometheus_client leaves these unannotated.
disable_created_metrics = cast(Callable[[], None], prometheus_client.disable_created_metrics)
mark_process_dead = cast(Callable[[int, str], None], _multiprocess.mark_process_dead)
_multiprocess_collector = cast(Callable[..., object], _multiprocess.MultiProcessCollector)


def multiprocess_dir() -> str | None:
    """The folder the workers' metric files are in, or None when this process is alone.

    prometheus_client reads the same variable once, when it is first imported: it has to
    be in the environment the process starts with (the worker supervisor sees to that).
    """
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    """Every metric the bus exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # Counters and histograms without `_created` series: one timestamp per label set is
        # noise on a dashboard, and multiprocess mode cannot report it at all.
        disable_created_metrics()
        self.registry = registry or CollectorRegistry()
        self._children: dict[tuple[str, ...], tuple[Any, Any]] = {}
        self._gauges: dict[str, Any] = {}
        self.multiprocess_dir = multiprocess_dir()
        r = self.registry
        self.requests = Counter(
            "regbus_requests",
            "Queries answered by the bus, by registry, operation and outcome.",
            ["registry", "operation", "outcome"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "regbus_request_duration_seconds",
            "Time to answer a query, retries and waits included.",
            ["registry", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.attempts = Counter(
            "regbus_registry_attempts",
            "Attempts sent to a registry, by outcome.",
            ["registry", "operation", "outcome"],
            registry=r,
        )
        self.attempt_seconds = Histogram(
            "regbus_registry_attempt_duration_seconds",
            "Time of one attempt against a registry.",
            ["registry"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "regbus_retries",
            "Retries scheduled after a failed attempt, by the failure's reason.",
            ["registry", "operation", "reason"],
            registry=r,
        )
        self.retry_budget_exhausted_total = Counter(
            "regbus_retry_budget_exhausted",
            "Retries skipped because the registry's retry budget was spent.",
            ["registry"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "regbus_breaker_state",
            "Circuit breaker state per registry: 1 for the current state, 0 for the others.",
            ["registry", "state"],
            registry=r,
            # Each worker has its own breaker (until they share a breaker store): across
            # workers a state is 1 while any live worker's breaker is in it.
            multiprocess_mode="livemax",
        )
        self.breaker_transitions = Counter(
            "regbus_breaker_transitions",
            "Circuit breaker state changes, by the state entered.",
            ["registry", "state"],
            registry=r,
        )
        self.fail_fast = Counter(
            "regbus_fail_fast",
            "Calls refused without contacting the registry, by reason.",
            ["registry", "reason"],
            registry=r,
        )
        self.in_flight_calls = Gauge(
            "regbus_bulkhead_in_flight",
            "Calls holding a bulkhead slot of the registry.",
            ["registry"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.bulkhead_limit = Gauge(
            "regbus_bulkhead_limit",
            "Bulkhead size (concurrent calls allowed) of the registry.",
            ["registry"],
            registry=r,
            multiprocess_mode="livesum",  # every worker has a bulkhead of its own
        )
        self.info = Info("regbus_build", "regbus version.", registry=r)
        self.exposition = self._exposition()

    def _exposition(self) -> CollectorRegistry:
        """What ``/metrics`` shows: this registry, or with workers every worker's files."""
        if self.multiprocess_dir is None:
            return self.registry
        exposition = CollectorRegistry()
        _multiprocess_collector(exposition, path=self.multiprocess_dir)
        # Info has no multiprocess support; the version is the same in every worker.
        exposition.register(self.info)
        return exposition

    def register_registry(self, registry: str, max_concurrent: int) -> None:
        """Create the per-registry series at start-up so dashboards see zeros."""
        self.breaker_transition(registry, "", "closed")
        self.in_flight_calls.labels(registry).set(0)
        self.bulkhead_limit.labels(registry).set(max_concurrent)
        for reason in ("circuit_open", "bulkhead_full", "deadline"):
            self.fail_fast.labels(registry, reason)
        self.retry_budget_exhausted_total.labels(registry)

    # The hot path: every call reports here several times. Label lookups take a lock and
    # build a key each time, so each label set's child is looked up once and kept.
    def request(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        key = (registry, operation, outcome)
        counted = self._children.get(key)
        if counted is None:
            counted = self._children[key] = (
                self.requests.labels(registry, operation, outcome),
                self.request_seconds.labels(registry, operation),
            )
        counted[0].inc()
        counted[1].observe(seconds)

    # circuit.observer.Observer
    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        key = ("attempt", registry, operation, outcome)
        counted = self._children.get(key)
        if counted is None:
            counted = self._children[key] = (
                self.attempts.labels(registry, operation, outcome),
                self.attempt_seconds.labels(registry),
            )
        counted[0].inc()
        counted[1].observe(seconds)

    def retry(self, registry: str, operation: str, reason: str) -> None:
        self.retries.labels(registry, operation, reason.lower()).inc()

    def retry_budget_exhausted(self, registry: str) -> None:
        self.retry_budget_exhausted_total.labels(registry).inc()

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        for state in BREAKER_STATES:
            self.breaker_state.labels(registry, state).set(1 if state == new else 0)
        if old:
            self.breaker_transitions.labels(registry, new).inc()

    def rejected(self, registry: str, reason: str) -> None:
        self.fail_fast.labels(registry, reason).inc()

    def in_flight(self, registry: str, count: int) -> None:
        gauge = self._gauges.get(registry)
        if gauge is None:
            gauge = self._gauges[registry] = self.in_flight_calls.labels(registry)
        gauge.set(count)
