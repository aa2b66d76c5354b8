"""The resilience promise at its edges: impatient callers, hanging parts, greedy composes."""

from __future__ import annotations

import asyncio
import time

import grpc

from regbus.bus.client import failure
from regbus.bus.embedded import Embedded
from regbus.mocks.faults import parse_fault
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import CONTEXT, rss_mb

ARMAN = "850314354052"
PERSON = bus_pb2.QueryRequest(
    registry="gbdfl", operation="get_person", params={"iin": ARMAN}, context=CONTEXT
)


async def _reason(call: asyncio.Future[object] | object) -> str:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return failure(exc).reason or exc.code().name
    return "ok"


async def test_impatient_callers_do_not_open_the_breaker_for_everyone(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    embedded.mocks.faults.set("gbdfl", parse_fault("slow=300"))
    deadlines = [0.100 + 0.090 * i / 39 for i in range(40)]
    reasons = await asyncio.gather(*(_reason(stub.Query(PERSON, timeout=t)) for t in deadlines))
    # Every impatient caller hears that its own deadline ran out (or, past the bulkhead's
    # ten slots, that the registry is busy); none of it is charged to the registry.
    assert set(reasons) <= {"DEADLINE_EXCEEDED", "BULKHEAD_FULL"}
    assert reasons.count("DEADLINE_EXCEEDED") >= 10
    assert embedded.bus.router.lanes["gbdfl"].guard.state == "closed"
    answer = await stub.Query(PERSON, timeout=10)
    assert answer.record.person.iin == ARMAN


async def test_a_query_that_runs_out_of_time_names_its_registry(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    embedded.mocks.faults.set("gbdfl", parse_fault("hang"))
    try:
        await stub.Query(PERSON, timeout=0.8)
    except grpc.aio.AioRpcError as exc:
        failed = failure(exc)
    else:
        raise AssertionError("a hanging registry answered")
    assert failed.reason in {"DEADLINE_EXCEEDED", "REGISTRY_TIMEOUT"}
    assert failed.registry == "gbdfl"


async def test_a_hanging_part_costs_a_compose_only_itself(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    embedded.mocks.faults.set("gbdfl", parse_fault("hang"))
    request = bus_pb2.ComposeRequest(
        params={"iin": ARMAN},
        context=CONTEXT,
        parts=[
            bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person"),
            bus_pb2.ComposeRequest.Part(registry="zags", operation="list_acts"),
            bus_pb2.ComposeRequest.Part(
                registry="vehicles", operation="get_vehicle", params={"plate": "123ABC01"}
            ),
        ],
    )
    started = time.monotonic()
    response = await stub.Compose(request, timeout=1.0)  # OK, not DEADLINE_EXCEEDED
    elapsed = time.monotonic() - started
    gbdfl, zags, vehicles = response.parts
    assert zags.HasField("response") and vehicles.HasField("response")
    assert vehicles.response.record.vehicle.plate == "123ABC01"
    assert gbdfl.HasField("error") and gbdfl.error.registry == "gbdfl"
    assert gbdfl.error.reason in {"DEADLINE_EXCEEDED", "REGISTRY_TIMEOUT"}
    assert "gbdfl" in gbdfl.error.message
    assert elapsed < 1.0  # answered before the caller's deadline, with what it had


async def test_copies_of_one_part_cost_the_registry_one_call(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    before = embedded.mocks.requests["gbdfl"]
    part = bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person")
    request = bus_pb2.ComposeRequest(params={"iin": ARMAN}, parts=[part] * 32, context=CONTEXT)
    response = await stub.Compose(request, timeout=10)
    assert len(response.parts) == 32
    assert {p.response.record.person.iin for p in response.parts} == {ARMAN}
    assert embedded.mocks.requests["gbdfl"] - before == 1


async def test_five_concurrent_50_mb_answers_are_refused_with_memory_bounded(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    await stub.Query(PERSON, timeout=10)  # connections and caches warm
    baseline = peak = rss_mb()
    embedded.mocks.faults.set("gbdfl", parse_fault("huge=50"))
    calls = [asyncio.ensure_future(_reason(stub.Query(PERSON, timeout=10))) for _ in range(5)]
    while not all(call.done() for call in calls):
        peak = max(peak, rss_mb())
        await asyncio.sleep(0.01)
    reasons = [call.result() for call in calls]
    assert reasons == ["ANSWER_TOO_LARGE"] * 5
    assert peak - baseline < 100, f"RSS grew {peak - baseline:.0f} MB"
    # The other registries never noticed.
    vehicle = await stub.Query(
        bus_pb2.QueryRequest(
            registry="vehicles",
            operation="get_vehicle",
            params={"plate": "123ABC01"},
            context=CONTEXT,
        ),
        timeout=10,
    )
    assert vehicle.record.vehicle.plate == "123ABC01"
    # Five failed calls in a row: gbdfl's breaker has opened, so the next refusal is fast.
    assert await _reason(stub.Query(PERSON, timeout=10)) == "CIRCUIT_OPEN"
