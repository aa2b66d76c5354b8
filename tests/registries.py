"""Registries under test: their real mocks over real sockets, the real router and adapters."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from regbus.adapters.declared import declared
from regbus.adapters.errors import RegbusError
from regbus.adapters.spec import Registry
from regbus.bus.access import with_demo_access
from regbus.bus.config import Config, with_endpoints
from regbus.bus.router import Router
from regbus.mocks.population import Population
from regbus.mocks.server import MockRegistry, MockServer
from regbus.monitoring.metrics import Metrics
from regbus.v1 import records_pb2
from tests.conftest import CALL_CONTEXT, TEST_POLICY

CONTEXT = CALL_CONTEXT


@dataclass
class Routed:
    """A router in front of some mock registries."""

    router: Router
    population: Population

    async def record(self, registry: str, operation: str, **params: str) -> records_pb2.Record:
        answer = await self.router.query(registry, operation, params, CONTEXT)
        return answer.record

    async def content(self, registry: str, operation: str, **params: str) -> Any:
        """The message the record holds (``record.licence``, ``record.queue_entry``...)."""
        record = await self.record(registry, operation, **params)
        return getattr(record, record.WhichOneof("kind"))

    async def failure(self, registry: str, operation: str, **params: str) -> RegbusError:
        with pytest.raises(RegbusError) as caught:
            await self.router.query(registry, operation, params, CONTEXT)
        return caught.value


@contextlib.asynccontextmanager
async def routed(
    mocks: Sequence[MockRegistry], specs: Sequence[Registry], population: Population
) -> AsyncIterator[Router]:
    """``mocks`` served on a free loopback port and a router with ``specs`` against them."""
    server = MockServer(list(mocks), population=population)
    await server.start("127.0.0.1", 0)
    try:
        adapters = {spec.registry: declared(spec) for spec in specs}
        config = with_endpoints(
            with_demo_access(Config(policy=TEST_POLICY, source="test")), server.adapter_endpoints()
        )
        router = Router(config, adapters, Metrics(CollectorRegistry()))
        try:
            yield router
        finally:
            await router.aclose()
    finally:
        await server.stop()


def day(date: records_pb2.Date) -> str:
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
