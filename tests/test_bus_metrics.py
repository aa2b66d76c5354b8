"""What a running bus exports to Prometheus: every series at zero from the start, the
class of each outcome, gRPC server metrics, answer sizes, Compose, the process's own
metrics, and OpenMetrics for a scraper that asks for it."""

from __future__ import annotations

import asyncio
import itertools

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from regbus.adapters import errors
from regbus.bus.client import CallFailed
from regbus.bus.embedded import Embedded
from regbus.bus.server import SERVICE_NAME
from regbus.mocks.faults import parse_fault
from regbus.monitoring.grpc_metrics import grpc_type
from regbus.monitoring.metrics import LATENCY_BUCKETS, error_class
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.test_bus_integration import ARMAN, CONTEXT, query

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(embedded: Embedded, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"http://127.0.0.1:{embedded.bus.http_port}/metrics", headers=headers
        )
    response.raise_for_status()
    return response


async def samples(embedded: Embedded) -> Samples:
    text = (await scrape(embedded)).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    """The sample with exactly these labels, or None if there is none."""
    return found.get((name, frozenset(labels.items())))


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples that have these labels (and any others)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= ls)


def test_every_error_class_has_its_label() -> None:
    classes = {
        errors.UnknownRegistry: "invalid",
        errors.InvalidParameter: "invalid",
        errors.SubjectNotFound: "business",
        errors.RegistryRejected: "business",
        errors.RegistryUnavailable: "registry",
        errors.AnswerTooLarge: "registry",
        errors.CircuitOpen: "fail_fast",
        errors.BulkheadFull: "fail_fast",
        errors.DeadlineExhausted: "fail_fast",
        errors.DependencyFailed: "fail_fast",
        errors.OutcomeUnknown: "unknown",
        errors.InternalError: "internal",
    }
    for cls, expected in classes.items():
        assert cls.error_class == expected, cls
    # By outcome, for callers without the exception.
    assert error_class("ok") == "none"
    assert error_class("not_found") == "business"
    assert error_class("registry_timeout") == "registry"
    assert error_class("circuit_open") == "fail_fast"
    assert error_class("cancelled") == "cancelled"
    assert error_class("internal") == "internal"


def test_latency_buckets_resolve_1ms_to_30s() -> None:
    assert LATENCY_BUCKETS[0] == 0.001 and LATENCY_BUCKETS[-1] == 30.0
    assert 2.0 in LATENCY_BUCKETS  # RegbusRegistrySlow's threshold
    ratios = [b / a for a, b in itertools.pairwise(LATENCY_BUCKETS)]
    assert all(1.3 <= r <= 2.0 for r in ratios), ratios
    assert 18 <= len(LATENCY_BUCKETS) <= 25


def test_grpc_types_are_go_grpc_prometheus_names() -> None:
    assert grpc_type(False, False) == "unary"
    assert grpc_type(True, False) == "client_stream"
    assert grpc_type(False, True) == "server_stream"
    assert grpc_type(True, True) == "bidi_stream"


async def test_every_series_is_there_at_zero_before_any_call(embedded: Embedded) -> None:
    found = await samples(embedded)
    lanes = embedded.bus.router.lanes
    assert lanes
    for registry, lane in lanes.items():
        assert lane.operations
        for operation in lane.operations:
            ok = {"registry": registry, "operation": operation}
            assert value(found, "regbus_requests_total", **ok, outcome="ok", error="none") == 0
            assert value(found, "regbus_request_duration_seconds_count", **ok) == 0
            assert value(found, "regbus_registry_attempts_total", **ok, outcome="ok") == 0
        one = {"registry": registry}
        assert value(found, "regbus_registry_attempt_duration_seconds_count", **one) == 0
        assert value(found, "regbus_breaker_state", **one, state="closed") == 1
        assert value(found, "regbus_breaker_state", **one, state="open") == 0
        assert value(found, "regbus_registry_up", **one) == 1
        assert value(found, "regbus_bulkhead_limit", **one) == 10
        assert value(found, "regbus_bulkhead_in_flight", **one) == 0
        assert value(found, "regbus_retry_budget_exhausted_total", **one) == 0
        assert value(found, "regbus_probes_total", **one, outcome="ok") == 0
        assert value(found, "regbus_probes_total", **one, outcome="failed") == 0
        assert value(found, "regbus_answer_bytes_count", **one) == 0
        assert value(found, "regbus_fail_fast_total", **one, reason="circuit_open") == 0
    for method in ("Query", "Compose", "ListRegistries"):
        rpc = {"grpc_service": SERVICE_NAME, "grpc_method": method, "grpc_type": "unary"}
        assert value(found, "grpc_server_started_total", **rpc) == 0
        assert value(found, "grpc_server_handled_total", **rpc, grpc_code="OK") == 0
        assert value(found, "grpc_server_handling_seconds_count", **rpc) == 0
    for outcome in ("complete", "partial"):
        assert value(found, "regbus_compose_total", profile="parts", outcome=outcome) == 0
    assert value(found, "regbus_compose_duration_seconds_count", profile="parts") == 0
    assert value(found, "regbus_ready") == 1


async def test_each_outcome_is_counted_with_its_class(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    await query(stub, "gbdfl", "get_person", iin=ARMAN)
    with pytest.raises(CallFailed):
        await query(stub, "gbdfl", "get_person", iin="940512410508")  # not found
    with pytest.raises(CallFailed):
        await query(stub, "gbdfl", "get_person", iin="850314354053")  # bad check digit
    embedded.mocks.faults.set("gbdfl", parse_fault("down"))
    reasons = []
    for _ in range(10):  # down until the breaker opens (fail_max 3)
        with pytest.raises(CallFailed) as caught:
            await query(stub, "gbdfl", "get_person", iin=ARMAN)
        reasons.append(caught.value.reason)
        if caught.value.reason == "CIRCUIT_OPEN":
            break
    assert reasons[0] == "REGISTRY_UNAVAILABLE" and reasons[-1] == "CIRCUIT_OPEN", reasons

    found = await samples(embedded)
    calls = {"registry": "gbdfl", "operation": "get_person"}
    by_outcome = {
        dict(labels)["outcome"]: (dict(labels)["error"], n)
        for (name, labels), n in found.items()
        if name == "regbus_requests_total" and calls.items() <= dict(labels).items()
    }
    down = reasons.count("REGISTRY_UNAVAILABLE")
    assert by_outcome == {
        "ok": ("none", 1),
        "not_found": ("business", 1),
        "invalid_iin": ("invalid", 1),
        "registry_unavailable": ("registry", down),
        "circuit_open": ("fail_fast", 1),
    }
    assert value(found, "regbus_registry_up", registry="gbdfl") == 0
    assert value(found, "regbus_breaker_state", registry="gbdfl", state="open") == 1
    assert value(found, "regbus_registry_up", registry="zags") == 1

    # The gRPC side: one started and one handled per Query, by its status code.
    rpc = {"grpc_service": SERVICE_NAME, "grpc_method": "Query", "grpc_type": "unary"}
    queries = 3 + len(reasons)
    assert value(found, "grpc_server_started_total", **rpc) == queries
    assert total(found, "grpc_server_handled_total", **rpc) == queries
    assert value(found, "grpc_server_handled_total", **rpc, grpc_code="OK") == 1
    assert value(found, "grpc_server_handled_total", **rpc, grpc_code="NOT_FOUND") == 1
    assert value(found, "grpc_server_handled_total", **rpc, grpc_code="INVALID_ARGUMENT") == 1
    assert value(found, "grpc_server_handled_total", **rpc, grpc_code="UNAVAILABLE") == down + 1
    assert value(found, "grpc_server_handling_seconds_count", **rpc) == queries

    # Answer sizes: the one answer the registry gave with a body (the person), and the
    # not-found answer; the refused connections have none.
    assert total(found, "regbus_answer_bytes_count", registry="gbdfl") >= 1
    assert total(found, "regbus_answer_bytes_sum", registry="gbdfl") > 100


async def test_compose_counts_complete_and_partial_answers(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    request = bus_pb2.ComposeRequest(
        params={"iin": ARMAN},
        context=CONTEXT,
        parts=[
            bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person"),
            bus_pb2.ComposeRequest.Part(registry="zags", operation="list_acts"),
        ],
    )
    await stub.Compose(request, timeout=10)
    embedded.mocks.faults.set("gbdfl", parse_fault("down"))
    await stub.Compose(request, timeout=10)
    found = await samples(embedded)
    assert value(found, "regbus_compose_total", profile="parts", outcome="complete") == 1
    assert value(found, "regbus_compose_total", profile="parts", outcome="partial") == 1
    assert value(found, "regbus_compose_duration_seconds_count", profile="parts") == 2
    rpc = {"grpc_service": SERVICE_NAME, "grpc_method": "Compose", "grpc_type": "unary"}
    assert value(found, "grpc_server_handled_total", **rpc, grpc_code="OK") == 2


async def test_streams_and_cancelled_calls_are_counted(
    channel: grpc.aio.Channel, embedded: Embedded
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError):
        await health.Check(health_pb2.HealthCheckRequest(service="nothing"), timeout=5)
    watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
    first = await watch.read()
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    watch.cancel()

    service = "grpc.health.v1.Health"
    check = {"grpc_service": service, "grpc_method": "Check", "grpc_type": "unary"}
    watched = {"grpc_service": service, "grpc_method": "Watch", "grpc_type": "server_stream"}
    for _ in range(100):  # the server learns of the cancellation shortly after
        found = await samples(embedded)
        if value(found, "grpc_server_handled_total", **watched, grpc_code="CANCELLED"):
            break
        await asyncio.sleep(0.02)
    assert value(found, "grpc_server_handled_total", **check, grpc_code="OK") == 1
    assert value(found, "grpc_server_handled_total", **check, grpc_code="NOT_FOUND") == 1
    assert value(found, "grpc_server_started_total", **watched) == 1
    assert value(found, "grpc_server_handled_total", **watched, grpc_code="CANCELLED") == 1
    # An unknown method is not counted: its name would be an unbounded label.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary("/no.Such/Method")(b"", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    found = await samples(embedded)
    assert not total(found, "grpc_server_started_total", grpc_service="no.Such")


async def test_the_process_and_python_metrics_are_exported(embedded: Embedded) -> None:
    found = await samples(embedded)
    assert (value(found, "process_resident_memory_bytes") or 0) > 0
    assert (value(found, "process_cpu_seconds_total") or 0) > 0
    assert value(found, "process_open_fds") is not None
    assert total(found, "python_info") == 1
    assert total(found, "python_gc_objects_collected_total") > 0
    assert total(found, "regbus_build_info") == 1


async def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    await query(stub, "gbdfl", "get_person", iin=ARMAN)
    plain = await scrape(embedded)
    assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    answer = await scrape(embedded, accept)
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text")
    assert "version=1.0.0" in answer.headers["Content-Type"]
    assert answer.text.endswith("# EOF\n")
    assert "_created" not in answer.text
    families = {f.name: f for f in openmetrics_families(answer.text)}
    ok = {"registry": "gbdfl", "operation": "get_person", "outcome": "ok", "error": "none"}
    (sample,) = [
        s
        for s in families["regbus_requests"].samples
        if s.name == "regbus_requests_total" and s.labels == ok
    ]
    assert sample.value == 1
    assert families["regbus_build"].type == "info"
    assert families["grpc_server_handling_seconds"].type == "histogram"
