"""Fixtures shared by the whole suite: a real bus and real mock registries on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from regbus.bus.config import Config, ServerSettings
from regbus.bus.embedded import Embedded, start_embedded
from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.v1 import bus_pb2_grpc

# Small numbers so failures and recoveries happen within a second or two.
TEST_POLICY = Policy(
    timeout=0.5,
    default_deadline=5.0,
    retry=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.05),
    breaker=BreakerPolicy(fail_max=3, reset_timeout=1.0),
    bulkhead=BulkheadPolicy(max_concurrent=10, max_wait=0.2),
)


@pytest.fixture
async def embedded() -> AsyncIterator[Embedded]:
    """The bus and its built-in mock registries, on free loopback ports."""
    config = Config(
        server=ServerSettings(host="127.0.0.1", grpc_port=0, http_port=0, grace=0.5),
        policy=TEST_POLICY,
        source="test",
    )
    running = await start_embedded(config, mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def channel(embedded: Embedded) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{embedded.bus.grpc_port}") as ch:
        yield ch


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> bus_pb2_grpc.RegistryBusStub:
    return bus_pb2_grpc.RegistryBusStub(channel)
