"""Every registry and operation the bus lists answers its demo subject, through the
program a user starts: ``regbus serve`` with its built-in mocks, and ``regbus mocks`` +
``regbus serve --config``. What to call comes from ListRegistries, not from a list here."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from importlib.metadata import distribution
from pathlib import Path

import grpc

from regbus.bus.client import failure
from regbus.v1 import bus_pb2, bus_pb2_grpc

BUILT_IN = {ep.name for ep in distribution("regbus").entry_points if ep.group == "regbus.adapters"}
CONTEXT = bus_pb2.RequestContext(operator_id="walk", purpose="demo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def regbus(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``regbus ARGS`` in its own process, stopped on the way out."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


@contextlib.asynccontextmanager
async def bus(*args: str) -> AsyncIterator[bus_pb2_grpc.RegistryBusStub]:
    """``regbus serve ARGS`` until it answers gRPC."""
    async with serve(*args) as (stub, _):
        yield stub


@contextlib.asynccontextmanager
async def serve(
    *args: str,
) -> AsyncIterator[tuple[bus_pb2_grpc.RegistryBusStub, asyncio.subprocess.Process]]:
    """``regbus serve ARGS`` until it answers gRPC: a stub and the process."""
    port = free_port()
    ports = ("--grpc-port", str(port), "--http-port", str(free_port()))
    async with (
        regbus("serve", *ports, *args) as process,
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        try:
            await asyncio.wait_for(channel.channel_ready(), timeout=60)
        except TimeoutError:
            assert process.stderr is not None
            process.terminate()
            raise AssertionError((await process.stderr.read()).decode()) from None
        yield bus_pb2_grpc.RegistryBusStub(channel), process


async def walk(stub: bus_pb2_grpc.RegistryBusStub) -> list[str]:
    """Call every listed operation with its example; the failures, as text."""
    listed = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=10)
    assert {r.id for r in listed.registries} >= BUILT_IN
    failed = []
    for registry in listed.registries:
        assert registry.sensitivity, f"{registry.id} declares no sensitivity"
        for op in registry.operations:
            where = f"{registry.id}.{op.name}"
            if not op.example:
                failed.append(f"{where}: ListRegistries gives no example")
                continue
            request = bus_pb2.QueryRequest(
                registry=registry.id, operation=op.name, params=op.example, context=CONTEXT
            )
            try:
                response = await stub.Query(request, timeout=10)
            except grpc.aio.AioRpcError as exc:
                problem = failure(exc)
                failed.append(f"{where} {dict(op.example)}: {problem.reason} {problem.message}")
                continue
            if not response.record.WhichOneof("kind"):
                failed.append(f"{where}: an empty record")
    return failed


async def test_every_operation_answers_through_serve_with_its_built_in_mocks() -> None:
    async with bus("--mocks-port", str(free_port())) as stub:
        assert await walk(stub) == []


async def test_every_operation_answers_through_mocks_and_serve_with_a_config(
    tmp_path: Path,
) -> None:
    config = tmp_path / "bus.toml"
    async with regbus("mocks", "--port", str(free_port()), "--write-config", str(config)):
        for _ in range(600):
            if config.exists() and config.stat().st_size:
                break
            await asyncio.sleep(0.05)
        assert config.exists(), "regbus mocks wrote no configuration"
        async with bus("--config", str(config)) as stub:
            assert await walk(stub) == []
