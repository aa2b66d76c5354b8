"""Health that tells the truth without callers: the bus probes idle and failing
registries, health follows the breaker without flapping, readiness says when not to
send traffic."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from regbus.bus.embedded import Embedded, start_embedded
from regbus.bus.server import health_name
from regbus.circuit.policy import BreakerPolicy
from regbus.mocks.faults import parse_fault
from tests.conftest import TEST_CONFIG, TEST_POLICY
from tests.test_bus_integration import metric

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
INTERVAL = 0.5
RESET = 1.0


@pytest.fixture
async def probed() -> AsyncIterator[Embedded]:
    """The bus probing every INTERVAL seconds, breakers opening after 3 failures."""
    config = dataclasses.replace(
        TEST_CONFIG,
        server=dataclasses.replace(TEST_CONFIG.server, probe_interval=INTERVAL),
        policy=dataclasses.replace(
            TEST_POLICY, breaker=BreakerPolicy(fail_max=3, reset_timeout=RESET)
        ),
    )
    running = await start_embedded(config, mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


async def watch(port: int, service: str, seen: list[tuple[float, int]]) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        async for answer in stub.Watch(health_pb2.HealthCheckRequest(service=service)):
            seen.append((time.monotonic(), answer.status))


async def until(seen: list[tuple[float, int]], status: int, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if seen and seen[-1][1] == status:
            return seen[-1][0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"health never became {status} within {within}s: {seen}")


async def test_an_idle_registry_goes_down_and_comes_back_by_itself(probed: Embedded) -> None:
    seen: list[tuple[float, int]] = []
    watcher = asyncio.create_task(watch(probed.bus.grpc_port, health_name("gbdfl"), seen))
    try:
        await until(seen, SERVING, 5)
        probed.mocks.faults.set("gbdfl", parse_fault("down"))
        went_down = time.monotonic()
        await until(seen, NOT_SERVING, INTERVAL * 1.2 + 3 * 1.0 + 2)  # probes, then rechecks
        probed.mocks.faults.set("gbdfl", parse_fault("ok"))
        recovered = time.monotonic()
        back = await until(seen, SERVING, RESET + INTERVAL * 1.2 + 2)
        assert back - recovered <= RESET + INTERVAL * 1.2 + 2
        # Never SERVING while the registry was down (half-open trials do not flap it).
        down_window = [s for t, s in seen if went_down + 0.01 < t < recovered]
        assert SERVING not in down_window, seen
    finally:
        watcher.cancel()
    # Probes are not callers' calls.
    assert await metric(probed, "regbus_requests_total", registry="gbdfl") == 0
    assert await metric(probed, "regbus_probes_total", registry="gbdfl", outcome="failed") >= 3
    assert await metric(probed, "regbus_probes_total", registry="gbdfl", outcome="ok") >= 1


async def test_readiness_follows_the_registries_and_the_drain(probed: Embedded) -> None:
    url = f"http://127.0.0.1:{probed.bus.http_port}/readyz"
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
        assert answer.status_code == 200 and answer.json()["status"] == "ready"
        # Ready only while every registry is up; then one goes down.
        everyone = len(probed.bus.router.lanes)
        server = dataclasses.replace(probed.bus.config.server, ready_min_registries=everyone)
        probed.bus.config = dataclasses.replace(probed.bus.config, server=server)
        probed.mocks.faults.set("gbdfl", parse_fault("down"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            answer = await http.get(url)
            if answer.status_code == 503:
                break
            await asyncio.sleep(0.2)
        assert answer.status_code == 503, answer.text
        assert "registries up" in answer.json()["reason"]
        assert (
            await http.get(f"http://127.0.0.1:{probed.bus.http_port}/healthz")
        ).status_code == 200
    async with grpc.aio.insecure_channel(f"127.0.0.1:{probed.bus.grpc_port}") as channel:
        check = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
        assert check.status == NOT_SERVING
    assert await metric(probed, "regbus_ready") == 0
    await probed.bus.stop()
    ready, why = probed.bus.readiness()
    assert not ready and "draining" in why
