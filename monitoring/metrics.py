"""Prometheus metrics of the bus, all prefixed ``regbus_``, labels bounded.

``Metrics`` owns its own ``CollectorRegistry`` (several buses can live in one
process, as in tests) and is the ``circuit.observer.Observer`` the guards
report to.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

# Registries behind SOAP gateways answer in seconds, not milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BREAKER_STATES = ("closed", "open", "half_open")


class Metrics:
    """Every metric the bus exposes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
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
        self.breaker_state = Gauge(
            "regbus_breaker_state",
            "Circuit breaker state per registry: 1 for the current state, 0 for the others.",
            ["registry", "state"],
            registry=r,
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
        )
        self.bulkhead_limit = Gauge(
            "regbus_bulkhead_limit",
            "Bulkhead size (concurrent calls allowed) of the registry.",
            ["registry"],
            registry=r,
        )
        self.info = Info("regbus_build", "regbus version.", registry=r)

    def register_registry(self, registry: str, max_concurrent: int) -> None:
        """Create the per-registry series at start-up so dashboards see zeros."""
        self.breaker_transition(registry, "", "closed")
        self.in_flight_calls.labels(registry).set(0)
        self.bulkhead_limit.labels(registry).set(max_concurrent)
        for reason in ("circuit_open", "bulkhead_full", "deadline"):
            self.fail_fast.labels(registry, reason)

    def request(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        self.requests.labels(registry, operation, outcome).inc()
        self.request_seconds.labels(registry, operation).observe(seconds)

    # circuit.observer.Observer
    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        self.attempts.labels(registry, operation, outcome).inc()
        self.attempt_seconds.labels(registry).observe(seconds)

    def retry(self, registry: str, operation: str, reason: str) -> None:
        self.retries.labels(registry, operation, reason.lower()).inc()

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        for state in BREAKER_STATES:
            self.breaker_state.labels(registry, state).set(1 if state == new else 0)
        if old:
            self.breaker_transitions.labels(registry, new).inc()

    def rejected(self, registry: str, reason: str) -> None:
        self.fail_fast.labels(registry, reason).inc()

    def in_flight(self, registry: str, count: int) -> None:
        self.in_flight_calls.labels(registry).set(count)
