"""Two bus processes sharing breaker state through Redis fail fast together."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from regbus.bus.client import failure
from regbus.mocks.faults import parse_fault
from regbus.mocks.gbdfl import GbdflMock
from regbus.mocks.population import Population
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.circuit.conftest import REDIS_URL, redis_store
from tests.conftest import CONTEXT, serving

PERSON = bus_pb2.QueryRequest(
    registry="gbdfl", operation="get_person", params={"iin": "850314354052"}, context=CONTEXT
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def bus_process(config: Path) -> AsyncIterator[bus_pb2_grpc.RegistryBusStub]:
    """``regbus serve --config`` in its own process, until it answers."""
    grpc_port, http_port = _free_port(), _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        "serve",
        "--config",
        str(config),
        "--grpc-port",
        str(grpc_port),
        "--http-port",
        str(http_port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), timeout=30)
            yield bus_pb2_grpc.RegistryBusStub(channel)
    finally:
        process.terminate()
        await process.wait()


async def _reason(stub: bus_pb2_grpc.RegistryBusStub) -> str:
    try:
        await stub.Query(PERSON, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return failure(exc).reason
    return "ok"


async def test_a_breaker_opened_by_one_process_is_open_in_the_other(tmp_path: Path) -> None:
    prefix = f"regbus-test:{uuid.uuid4().hex}:"
    store = await redis_store(prefix)  # skips without Redis; fails under CI=true
    try:
        async with serving(GbdflMock(Population.load())) as mocks:
            config = tmp_path / "bus.toml"
            config.write_text(
                # demo = true: mock registries (the demo client may call them).
                f'[server]\nbreaker_store = "{REDIS_URL}"\nbreaker_prefix = "{prefix}"\n'
                "demo = true\n"
                "[policy]\ntimeout = 0.5\n"
                "[policy.retry]\nattempts = 1\n"
                "[policy.breaker]\nfail_max = 3\nreset_timeout = 60.0\n"
                f'[registries.gbdfl]\nurl = "{mocks.endpoints()["gbdfl"]}"\n'
            )
            async with bus_process(config) as first, bus_process(config) as second:
                assert await _reason(second) == "ok"
                mocks.faults.set("gbdfl", parse_fault("down"))
                reasons = [await _reason(first) for _ in range(4)]
                assert reasons[-1] == "CIRCUIT_OPEN"
                assert (await store.load("gbdfl")).state == "open"  # type: ignore[union-attr]
                sent = mocks.requests["gbdfl"]
                await asyncio.sleep(1.5)  # a few sync intervals
                # The second process never saw gbdfl fail, yet fails fast without calling it.
                assert await _reason(second) == "CIRCUIT_OPEN"
                assert mocks.requests["gbdfl"] == sent
    finally:
        keys = [key async for key in store.client.scan_iter(match=prefix + "*")]
        if keys:
            await store.client.delete(*keys)
        await store.aclose()
