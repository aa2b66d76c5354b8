"""Chaos: every fault mode against gbdfl under concurrent load while vehicles stays healthy.

Each case asserts outcomes, never timings of the happy path: the healthy registry's calls
all succeed; gbdfl's calls fail with the reasons that fault explains, every one naming
gbdfl; once the breaker opens, failures are fast and do not reach the registry; no call
outlives its deadline; memory stays bounded; and after the fault clears the breaker closes
by itself with callers' trial calls.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import grpc
import pytest

from regbus.bus.client import failure
from regbus.bus.embedded import Embedded, start_embedded
from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.mocks.faults import parse_fault
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import CONTEXT, TEST_CONFIG, rss_mb

ARMAN = "850314354052"
PERSON = bus_pb2.QueryRequest(
    registry="gbdfl", operation="get_person", params={"iin": ARMAN}, context=CONTEXT
)
VEHICLE = bus_pb2.QueryRequest(
    registry="vehicles", operation="get_vehicle", params={"plate": "123ABC01"}, context=CONTEXT
)
DEADLINE = 1.0
CALLERS = 6  # per registry
LOAD_SECONDS = 2.5

CHAOS_POLICY = Policy(
    timeout=0.3,
    default_deadline=5.0,
    deadline_reserve=0.05,
    retry=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.05),
    breaker=BreakerPolicy(
        fail_max=3, window=10, min_calls=5, failure_rate=0.5, slow_call=0.2, reset_timeout=0.6
    ),
    bulkhead=BulkheadPolicy(max_concurrent=8, max_wait=0.2, client_share=1.0),
)

# What each fault may make gbdfl's calls end in; CIRCUIT_OPEN must appear where "opens".
FAULTS = {
    "down": ({"REGISTRY_UNAVAILABLE", "CIRCUIT_OPEN"}, True),
    "hang": ({"REGISTRY_TIMEOUT", "DEADLINE_EXCEEDED", "CIRCUIT_OPEN", "BULKHEAD_FULL"}, True),
    "slow=250": ({"ok", "CIRCUIT_OPEN"}, True),  # slower than slow_call: the slow-call rule
    "errors=0.8": ({"ok", "REGISTRY_UNAVAILABLE", "REGISTRY_FAULT", "CIRCUIT_OPEN"}, True),
    "malformed": ({"REGISTRY_FAULT", "CIRCUIT_OPEN"}, True),
    "flap=150": ({"ok", "REGISTRY_UNAVAILABLE", "CIRCUIT_OPEN"}, False),
    "huge=50": ({"ANSWER_TOO_LARGE", "CIRCUIT_OPEN"}, True),
    "reset": ({"REGISTRY_UNAVAILABLE", "REGISTRY_FAULT", "CIRCUIT_OPEN"}, True),
}


@dataclass
class Ledger:
    """Every call made and how it ended: nothing may go missing."""

    started: Counter[str] = field(default_factory=Counter)
    ended: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)

    def add(self, registry: str, reason: str, named: str, seconds: float) -> None:
        self.ended.setdefault(registry, []).append((reason, named, seconds))

    def reasons(self, registry: str) -> Counter[str]:
        return Counter(reason for reason, _, _ in self.ended.get(registry, []))


@pytest.fixture
async def chaos_bus() -> AsyncIterator[Embedded]:
    running = await start_embedded(replace(TEST_CONFIG, policy=CHAOS_POLICY), mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


async def _caller(
    stub: bus_pb2_grpc.RegistryBusStub,
    request: bus_pb2.QueryRequest,
    ledger: Ledger,
    until: float,
) -> None:
    while time.monotonic() < until:
        ledger.started[request.registry] += 1
        began = time.monotonic()
        try:
            await stub.Query(request, timeout=DEADLINE)
        except grpc.aio.AioRpcError as exc:
            failed = failure(exc)
            reason, named = failed.reason or f"grpc:{exc.code().name}", failed.registry
        else:
            reason, named = "ok", request.registry
        ledger.add(request.registry, reason, named, time.monotonic() - began)
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("mode", list(FAULTS))
async def test_one_registry_in_trouble_costs_only_its_own_answers(
    chaos_bus: Embedded, mode: str
) -> None:
    allowed, opens = FAULTS[mode]
    lane = chaos_bus.bus.router.lanes["gbdfl"]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{chaos_bus.bus.grpc_port}") as channel:
        stub = bus_pb2_grpc.RegistryBusStub(channel)
        await stub.Query(VEHICLE, timeout=5)  # warm up both connections
        await stub.Query(PERSON, timeout=5)
        baseline = rss_mb()
        peak = [baseline]

        async def watch_memory(until: float) -> None:
            while time.monotonic() < until:
                peak[0] = max(peak[0], rss_mb())
                await asyncio.sleep(0.02)

        chaos_bus.mocks.faults.set("gbdfl", parse_fault(mode))
        ledger = Ledger()
        until = time.monotonic() + LOAD_SECONDS
        await asyncio.gather(
            watch_memory(until),
            *(_caller(stub, VEHICLE, ledger, until) for _ in range(CALLERS)),
            *(_caller(stub, PERSON, ledger, until) for _ in range(CALLERS)),
        )
        sent_while_faulty = chaos_bus.mocks.requests["gbdfl"]

        # Nothing lost: every call that started ended with an answer or a named error.
        for registry in ("vehicles", "gbdfl"):
            assert len(ledger.ended[registry]) == ledger.started[registry]
        # What kept working: every call to the healthy registry.
        assert set(ledger.reasons("vehicles")) == {"ok"}
        # What failed, and how: only with reasons this fault explains, naming gbdfl.
        gbdfl = ledger.ended["gbdfl"]
        assert set(ledger.reasons("gbdfl")) <= allowed, ledger.reasons("gbdfl")
        assert all(named == "gbdfl" for reason, named, _ in gbdfl if reason != "ok")
        # No call outlived its deadline (the bus answers before it, naming the registry).
        assert not [r for r in ledger.reasons("gbdfl") if r.startswith("grpc:")]
        if opens:
            assert ledger.reasons("gbdfl")["CIRCUIT_OPEN"] > 0
            fast = sorted(s for reason, _, s in gbdfl if reason == "CIRCUIT_OPEN")
            assert fast[len(fast) // 2] < 0.2  # failing fast, not waiting on the registry
            calls_to_gbdfl = len(gbdfl)
            assert sent_while_faulty < calls_to_gbdfl * CHAOS_POLICY.retry.attempts
        # Memory stays bounded, whatever the registry sends.
        assert peak[0] - baseline < 100, f"RSS grew {peak[0] - baseline:.0f} MB"

        # The fault clears: the breaker closes by itself through callers' trial calls.
        chaos_bus.mocks.faults.set("gbdfl", parse_fault("ok"))
        recovered_by = time.monotonic() + CHAOS_POLICY.breaker.reset_timeout + 5
        while time.monotonic() < recovered_by:
            try:
                await stub.Query(PERSON, timeout=DEADLINE)
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.05)
                continue
            if lane.guard.state == "closed":
                break
        assert lane.guard.state == "closed"
        answer = await stub.Query(PERSON, timeout=DEADLINE)
        assert answer.record.person.iin == ARMAN
