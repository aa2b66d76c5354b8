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

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any, cast

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client import multiprocess as _multiprocess

from regbus.adapters.errors import RegbusError

# Every duration, 1 ms to 30 s, about x1.5-2 apart (1-2-3-5-7.5 a decade), so p99 reads
# as well at 5 ms as at 5 s: registries behind SOAP gateways answer in seconds, the
# mocks and caches in milliseconds. 2 s is a bound: RegbusRegistrySlow's threshold.
LATENCY_BUCKETS = (
    0.001, 0.002, 0.003, 0.005, 0.0075,
    0.01, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.2, 0.3, 0.5, 0.75,
    1.0, 2.0, 3.0, 5.0, 7.5,
    10.0, 20.0, 30.0,
)  # fmt: skip
# Answer bodies, 256 B to 4 MiB (the default max_answer_bytes), x4 apart.
ANSWER_BUCKETS = tuple(float(256 * 4**i) for i in range(8))
BREAKER_STATES = ("closed", "open", "half_open")
PROBE_OUTCOMES = ("ok", "failed")
# Compose's profile label for a request that lists its parts instead of naming a profile.
PARTS_PROFILE = "parts"
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
        self._children: dict[tuple[str, ...], Callable[[float], None]] = {}
        self._gauges: dict[str, Any] = {}
        self.multiprocess_dir = multiprocess_dir()
        r = self.registry
        self.requests = Counter(
            "regbus_requests",
            "Queries answered by the bus, by registry, operation, outcome and its class"
            " (error: none, invalid, denied, business, registry, fail_fast, unknown,"
            " internal, cancelled).",
            ["registry", "operation", "outcome", "error"],
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
        self.registry_up = Gauge(
            "regbus_registry_up",
            "1 while the registry's circuit breaker is closed, 0 while open or half-open.",
            ["registry"],
            registry=r,
            multiprocess_mode="livemin",  # down while any live worker's breaker is not closed
        )
        self.ready = Gauge(
            "regbus_ready",
            "1 while the bus is ready for traffic (/readyz), 0 while draining or not ready.",
            registry=r,
            multiprocess_mode="livemin",
        )
        self.probes = Counter(
            "regbus_probes",
            "Probes of a registry by the bus itself (not callers' queries), by outcome.",
            ["registry", "outcome"],
            registry=r,
        )
        self.answer_bytes = Histogram(
            "regbus_answer_bytes",
            "Size of the registry's answer bodies, in bytes (every attempt's).",
            ["registry"],
            buckets=ANSWER_BUCKETS,
            registry=r,
        )
        self.compose_total = Counter(
            "regbus_compose",
            "Compose requests answered, by profile ('parts' for parts listed in the request)"
            " and outcome: complete when every part has its answer, partial otherwise.",
            ["profile", "outcome"],
            registry=r,
        )
        self.compose_seconds = Histogram(
            "regbus_compose_duration_seconds",
            "Time to answer a Compose request.",
            ["profile"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        # gRPC server metrics by go-grpc-prometheus's names (monitoring.grpc_metrics).
        grpc_labels = ["grpc_service", "grpc_method", "grpc_type"]
        self.grpc_started = Counter(
            "grpc_server_started",
            "Total number of RPCs started on the server.",
            grpc_labels,
            registry=r,
        )
        self.grpc_handled = Counter(
            "grpc_server_handled",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            [*grpc_labels, "grpc_code"],
            registry=r,
        )
        self.grpc_handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been"
            " application-level handled by the server.",
            grpc_labels,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.info = Info("regbus_build", "regbus version.", registry=r)
        _standard_collectors(r)
        self.exposition = self._exposition()

    def _exposition(self) -> CollectorRegistry:
        """What ``/metrics`` shows: this registry, or with workers every worker's files."""
        if self.multiprocess_dir is None:
            return self.registry
        exposition = CollectorRegistry()
        _multiprocess_collector(exposition, path=self.multiprocess_dir)
        # Info has no multiprocess support; the version is the same in every worker.
        exposition.register(self.info)
        # process_* and python_* are of the worker that answers the scrape.
        _standard_collectors(exposition)
        return exposition

    def register_registry(
        self, registry: str, max_concurrent: int, operations: Iterable[str] = ()
    ) -> None:
        """Create the per-registry series at start-up so dashboards see zeros (and
        ``increase()`` counts from the first scrape): for each of ``operations``, its
        successful requests and attempts and their durations."""
        self.breaker_transition(registry, "", "closed")
        self.in_flight_calls.labels(registry).set(0)
        self.bulkhead_limit.labels(registry).set(max_concurrent)
        for reason in ("circuit_open", "bulkhead_full", "deadline"):
            self.fail_fast.labels(registry, reason)
        self.retry_budget_exhausted_total.labels(registry)
        for outcome in PROBE_OUTCOMES:
            self.probes.labels(registry, outcome)
        self.answer_bytes.labels(registry)
        for operation in operations:
            self._requests(registry, operation, "ok", "none")
            self._attempts(registry, operation, "ok")

    def register_profiles(self, profiles: Iterable[str]) -> None:
        """Create Compose's series of every profile, and of listed parts, at start-up."""
        for profile in (*profiles, ""):
            for outcome in ("complete", "partial"):
                self._composing(profile, outcome)

    def set_ready(self, ready: bool) -> None:
        self.ready.set(1 if ready else 0)

    def probe(self, registry: str, ok: bool) -> None:
        """One probe of ``registry`` by the bus ended: answered (``ok``) or failed."""
        self.probes.labels(registry, "ok" if ok else "failed").inc()

    def answer_sizes(self, registry: str) -> Callable[[int], None]:
        """What observes one answer body's size of ``registry`` (its HTTP transport's
        ``Endpoint.on_answer``)."""
        return _observing(self.answer_bytes.labels(registry))

    def compose(self, profile: str, complete: bool, seconds: float) -> None:
        """A Compose request answered: ``profile`` "" for parts listed in the request,
        ``complete`` when every part has its answer."""
        outcome = "complete" if complete else "partial"
        count = self._children.get(("compose", profile, outcome))
        if count is None:
            count = self._composing(profile, outcome)
        count(seconds)

    def _composing(self, profile: str, outcome: str) -> Callable[[float], None]:
        label = profile or PARTS_PROFILE
        count = self._children[("compose", profile, outcome)] = _counting(
            self.compose_total.labels(label, outcome), self.compose_seconds.labels(label)
        )
        return count

    # gRPC server metrics (monitoring.grpc_metrics keeps what these return, per method).
    def rpc_started(self, service: str, method: str, kind: str) -> Callable[[], None]:
        """What counts one RPC of the method started."""
        return _adding_one(self.grpc_started.labels(service, method, kind))

    def rpc_handled(
        self, service: str, method: str, kind: str, code: str
    ) -> Callable[[float], None]:
        """What counts one RPC of the method ended with ``code`` (``OK``, ``NOT_FOUND``...)
        and observes its duration."""
        return _counting(
            self.grpc_handled.labels(service, method, kind, code),
            self.grpc_handling_seconds.labels(service, method, kind),
        )

    # The hot path: every call reports here several times. Label lookups take a lock and
    # build a key each time, so each label set's children are looked up once, and kept as
    # one function that counts and observes (see _counting).
    def request(
        self, registry: str, operation: str, outcome: str, seconds: float, error: str = ""
    ) -> None:
        """One query answered. ``error`` is the outcome's class (``RegbusError.error_class``,
        "none" for ok); an outcome has one class, so it is read only for a new outcome, and
        when not given is looked up by the outcome (:func:`error_class`)."""
        key = (registry, operation, outcome)
        count = self._children.get(key)
        if count is None:
            count = self._requests(registry, operation, outcome, error or error_class(outcome))
        count(seconds)

    def _requests(
        self, registry: str, operation: str, outcome: str, error: str
    ) -> Callable[[float], None]:
        count = self._children[(registry, operation, outcome)] = _counting(
            self.requests.labels(registry, operation, outcome, error),
            self.request_seconds.labels(registry, operation),
        )
        return count

    # circuit.observer.Observer
    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        key = ("attempt", registry, operation, outcome)
        count = self._children.get(key)
        if count is None:
            count = self._attempts(registry, operation, outcome)
        count(seconds)

    def _attempts(self, registry: str, operation: str, outcome: str) -> Callable[[float], None]:
        count = self._children[("attempt", registry, operation, outcome)] = _counting(
            self.attempts.labels(registry, operation, outcome),
            self.attempt_seconds.labels(registry),
        )
        return count

    def retry(self, registry: str, operation: str, reason: str) -> None:
        self.retries.labels(registry, operation, reason.lower()).inc()

    def retry_budget_exhausted(self, registry: str) -> None:
        self.retry_budget_exhausted_total.labels(registry).inc()

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        for state in BREAKER_STATES:
            self.breaker_state.labels(registry, state).set(1 if state == new else 0)
        self.registry_up.labels(registry).set(1 if new == "closed" else 0)
        if old:
            self.breaker_transitions.labels(registry, new).inc()

    def rejected(self, registry: str, reason: str) -> None:
        self.fail_fast.labels(registry, reason).inc()

    @property
    def live_gauges(self) -> bool:
        """Whether a gauge can be read when scraped (:meth:`live_in_flight`): in a process
        of its own, not with workers, whose every change is written for the others."""
        return self.multiprocess_dir is None

    def live_in_flight(self, registry: str, read: Callable[[], int]) -> None:
        """Report ``registry``'s calls in flight by calling ``read()`` when scraped, so
        that calls need not report each change (:meth:`in_flight`); only when
        :attr:`live_gauges`."""
        if not self.live_gauges:
            raise RuntimeError("with workers, calls in flight are reported by in_flight()")
        self.in_flight_calls.labels(registry).set_function(lambda: float(read()))

    def in_flight(self, registry: str, count: int) -> None:
        gauge = self._gauges.get(registry)
        if gauge is None:
            gauge = self._gauges[registry] = self.in_flight_calls.labels(registry)
        gauge.set(count)


def _error_classes() -> dict[str, str]:
    """Each outcome of a ``RegbusError`` class (its reason, lowercased) and its class."""
    found = {"ok": "none", "cancelled": "cancelled", "internal": "internal"}
    todo: list[type[RegbusError]] = [RegbusError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        reason = cls.__dict__.get("reason")  # FailFast inherits INTERNAL: not its own
        if isinstance(reason, str):
            found.setdefault(reason.lower(), cls.error_class)
    return found


_ERROR_CLASSES: dict[str, str] = {}


def error_class(outcome: str) -> str:
    """The ``error`` label of an outcome (``not_found`` is "business"), for callers with
    no exception to ask (the router passes ``error_class``); "internal" for an outcome
    no error class declares as its reason."""
    if not _ERROR_CLASSES:
        _ERROR_CLASSES.update(_error_classes())
    return _ERROR_CLASSES.get(outcome, "internal")


def _standard_collectors(registry: CollectorRegistry) -> None:
    """process_* (CPU, memory, file descriptors), python_info and python_gc_* of this
    process, as prometheus_client's default registry has them."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)  # only where the interpreter has gc.get_stats


def _adding_one(counter: Any) -> Callable[[], None]:
    """``counter.inc()`` for a labelled child, working on its value directly (as
    :func:`_counting` does)."""
    try:
        return functools.partial(counter._value.inc, 1)
    except AttributeError:
        return cast(Callable[[], None], counter.inc)


def _observing(histogram: Any) -> Callable[[float], None]:
    """``histogram.observe(value)`` for a labelled child, working on its values directly
    (as :func:`_counting` does)."""
    try:
        add_value = histogram._sum.inc
        buckets = list(
            zip(histogram._upper_bounds, [b.inc for b in histogram._buckets], strict=True)
        )
    except AttributeError:
        return cast(Callable[[float], None], histogram.observe)

    def observe(value: float) -> None:
        add_value(value)
        for bound, add in buckets:
            if value <= bound:
                add(1)
                break

    return observe


def _counting(counter: Any, histogram: Any) -> Callable[[float], None]:
    """``counter.inc(); histogram.observe(seconds)`` for a labelled child of each, as one
    function working on their values directly: what those two methods do for a child
    (``tests/test_hot_path.py`` holds them to it), without their checks and calls each
    time. The public methods where the children are not made as expected."""
    try:
        add_one = counter._value.inc
        add_seconds = histogram._sum.inc
        buckets = list(
            zip(histogram._upper_bounds, [b.inc for b in histogram._buckets], strict=True)
        )
    except AttributeError:

        def public(seconds: float) -> None:
            counter.inc()
            histogram.observe(seconds)

        return public

    def count(seconds: float) -> None:
        add_one(1)
        add_seconds(seconds)
        for bound, add in buckets:
            if seconds <= bound:
                add(1)
                break

    return count
