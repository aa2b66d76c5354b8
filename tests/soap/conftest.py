"""Fixtures for the SOAP registries: the real mock server with gbdfl and zags on
loopback, the real adapters against it, and a scripted ШЭП for unit tests."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.declared import declared
from regbus.adapters.gbdfl import GBDFL
from regbus.adapters.soap.shep import SyncChannel
from regbus.adapters.zags import ZAGS
from regbus.mocks.gbdfl import GbdflMock
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.mocks.zags import ZagsMock
from tests.conftest import serving
from tests.scripted_http import Handler, ScriptedHttp

GbdflAdapter = declared(GBDFL)
ZagsAdapter = declared(ZAGS)

SHEP_URL = "http://shep.test/bip-sync/"


@pytest.fixture
def context() -> CallContext:
    return CallContext(request_id="req-42", client_id="tests", operator_id="op-7")


@pytest.fixture(scope="session")
def population() -> Population:
    return Population.load()


@pytest.fixture
async def mock_server(population: Population) -> AsyncIterator[MockServer]:
    async with serving(GbdflMock(population), ZagsMock(population)) as server:
        yield server


@pytest.fixture
async def gbdfl(mock_server: MockServer) -> AsyncIterator[GbdflAdapter]:
    adapter = GbdflAdapter(Endpoint(url=mock_server.endpoints()["gbdfl"]))
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
async def zags(mock_server: MockServer) -> AsyncIterator[ZagsAdapter]:
    adapter = ZagsAdapter(Endpoint(url=mock_server.endpoints()["zags"]))
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
async def scripted_channel() -> AsyncIterator[Callable[..., SyncChannel]]:
    """``scripted_channel(handler, **options)``: a SyncChannel to ``http://shep.test/``
    whose HTTP answers come from ``handler``, not a network."""
    channels: list[SyncChannel] = []

    def make(handler: Handler, **options: str) -> SyncChannel:
        endpoint = Endpoint(url=SHEP_URL, options=options)
        http = ScriptedHttp(handler, registry="gbdfl")
        channel = SyncChannel(endpoint, registry="gbdfl", service_id="TEST_SERVICE", http=http)
        channels.append(channel)
        return channel

    yield make
    for channel in channels:
        await channel.aclose()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
