"""Fixtures shared by the whole suite: a real bus and real mock registries on loopback."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from types import ModuleType

import grpc
import pytest
from grpc_tools import protoc

from regbus.adapters.base import CallContext
from regbus.bus.audit.settings import STATE_DIR_VARIABLE
from regbus.bus.config import Config, ServerSettings
from regbus.bus.embedded import Embedded, start_embedded
from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.mocks.server import MockRegistry, MockServer
from regbus.v1 import bus_pb2, bus_pb2_grpc

# Small numbers so failures and recoveries happen within a second or two.
TEST_POLICY = Policy(
    timeout=0.5,
    default_deadline=5.0,
    retry=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.05),
    breaker=BreakerPolicy(fail_max=3, reset_timeout=1.0),
    bulkhead=BulkheadPolicy(max_concurrent=10, max_wait=0.2),
)


# The bus on free loopback ports with the test policy.
TEST_CONFIG = Config(
    # No background probes: tests count the calls a registry gets (tests/test_probes.py
    # turns them on).
    server=ServerSettings(host="127.0.0.1", grpc_port=0, http_port=0, grace=0.5, probe_interval=0),
    policy=TEST_POLICY,
    source="test",
)


# What every request carries: the bus refuses one without an operator and a purpose. The
# embedded bus is in demo mode (bus/demo_access.toml): every call is the client "demo", which
# may state the purpose "demo" and see everything.
CONTEXT = bus_pb2.RequestContext(operator_id="op-test", purpose="demo")
# The same for tests that call a router directly (it checks the rights as the servicer would).
CALL_CONTEXT = CallContext(
    request_id="tests", client_id="demo", operator_id="op-test", purpose="demo"
)


def request_context(**fields: str) -> bus_pb2.RequestContext:
    """``CONTEXT`` with some fields changed (``purpose="roadside_check"``, ``request_id=...``)."""
    context = bus_pb2.RequestContext()
    context.CopyFrom(CONTEXT)
    for name, value in fields.items():
        setattr(context, name, value)
    return context


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture(autouse=True, scope="session")
def audit_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every bus the tests start, in process or as ``regbus serve``, keeps its audit log and
    key in one temporary folder ($REGBUS_STATE_DIR), never in the working directory."""
    folder = str(tmp_path_factory.mktemp("audit"))
    before = os.environ.get(STATE_DIR_VARIABLE)
    os.environ[STATE_DIR_VARIABLE] = folder
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(STATE_DIR_VARIABLE, None)
        else:
            os.environ[STATE_DIR_VARIABLE] = before


@contextlib.asynccontextmanager
async def serving(*registries: MockRegistry) -> AsyncIterator[MockServer]:
    """A mock server with just these registries, on a free loopback port."""
    server = MockServer(list(registries))
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def embedded() -> AsyncIterator[Embedded]:
    """The bus and its built-in mock registries, on free loopback ports."""
    running = await start_embedded(TEST_CONFIG, mocks_port=0)
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


# An integrator's own message, not in regbus's .proto files: for `extension` records.
PARCEL_PROTO = """
syntax = "proto3";
package kg.land.v1;
message Parcel { string number = 1; double area = 2; string owner_iin = 3; }
message ParcelList { repeated Parcel parcels = 1; }
"""


@pytest.fixture(scope="session")
def parcel_pb2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """``kg/land/v1/parcel.proto`` compiled and imported, as a declaration module imports it.

    Session-wide: importing registers the file in protobuf's process-wide default pool.
    """
    root = tmp_path_factory.mktemp("protos")
    source = root / "kg" / "land" / "v1" / "parcel.proto"
    source.parent.mkdir(parents=True)
    source.write_text(PARCEL_PROTO)
    include = resources.files("grpc_tools") / "_proto"
    args = ["protoc", f"-I{root}", f"-I{include}", f"--python_out={root}", str(source)]
    assert protoc.main(args) == 0, "protoc failed"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("kg.land.v1.parcel_pb2")
    finally:
        sys.path.remove(str(root))
