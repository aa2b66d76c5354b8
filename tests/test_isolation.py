"""One registry hangs; the others keep answering; it recovers by itself."""

from __future__ import annotations

import asyncio

import grpc

from regbus.bus.client import failure
from regbus.bus.embedded import Embedded
from regbus.mocks.faults import parse_fault
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import CONTEXT, TEST_POLICY

ARMAN = "850314354052"


async def _call(stub: bus_pb2_grpc.RegistryBusStub, registry: str, **params: str) -> str:
    operation = "get_person" if registry == "gbdfl" else "get_vehicle"
    request = bus_pb2.QueryRequest(
        registry=registry, operation=operation, params=params, context=CONTEXT
    )
    try:
        await stub.Query(request, timeout=10)
    except grpc.aio.AioRpcError as exc:
        return failure(exc).reason
    return "ok"


async def test_hanging_registry_is_isolated_and_recovers(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    embedded.mocks.faults.set("gbdfl", parse_fault("hang"))
    vehicles: list[str] = []
    gbdfl: list[str] = []
    done = asyncio.Event()

    async def vehicles_traffic() -> None:
        while not done.is_set():
            vehicles.append(await _call(stub, "vehicles", plate="123ABC01"))
            await asyncio.sleep(0.02)

    async def gbdfl_traffic() -> None:
        for _ in range(12):
            gbdfl.append(await _call(stub, "gbdfl", iin=ARMAN))
        done.set()

    await asyncio.wait_for(asyncio.gather(vehicles_traffic(), gbdfl_traffic()), timeout=60)

    # What kept working: every vehicles call, while gbdfl hung.
    assert len(vehicles) >= 10
    assert set(vehicles) == {"ok"}
    # What failed: gbdfl, first by timing out, then fast, without calling the registry.
    assert gbdfl[0] == "REGISTRY_TIMEOUT"
    assert "CIRCUIT_OPEN" in gbdfl
    assert set(gbdfl) <= {"REGISTRY_TIMEOUT", "CIRCUIT_OPEN"}
    lane = embedded.bus.router.lanes["gbdfl"]
    assert lane.guard.state == "open"
    sent = embedded.bus.metrics.attempts.labels("gbdfl", "get_person", "timeout")._value.get()
    # At most the attempts that opened the breaker plus a half-open probe per reset period.
    assert sent <= TEST_POLICY.breaker.fail_max + TEST_POLICY.retry.attempts + 2

    # The fault clears; after the reset timeout the next calls are trials that close it.
    embedded.mocks.faults.set("gbdfl", parse_fault("ok"))
    await asyncio.sleep(TEST_POLICY.breaker.reset_timeout + 0.3)
    for _ in range(TEST_POLICY.breaker.half_open_permits):
        assert await _call(stub, "gbdfl", iin=ARMAN) == "ok"
    assert lane.guard.state == "closed"
    assert await _call(stub, "gbdfl", iin=ARMAN) == "ok"
