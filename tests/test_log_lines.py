"""``regbus serve --log-format json``: only JSON lines, and no IIN in any of them."""

from __future__ import annotations

import asyncio
import contextlib
import json

import grpc
import httpx

from regbus.v1 import bus_pb2
from tests.test_every_registry import free_port, serve

ARMAN = "850314354052"


async def test_serve_writes_json_lines_without_an_iin() -> None:
    mocks_port = free_port()
    request = bus_pb2.QueryRequest(
        registry="gbdfl",
        operation="get_person",
        params={"iin": ARMAN},
        context=bus_pb2.RequestContext(operator_id=f"op {ARMAN}\nforged", purpose="demo"),
    )
    args = ("--mocks-port", str(mocks_port), "--log-format", "json", "--audit")
    async with serve(*args) as (stub, process):
        await stub.Query(request, timeout=10)
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{mocks_port}/_faults/gbdfl"
            (await http.put(url, content="errors=1")).raise_for_status()
        for _ in range(3):
            with contextlib.suppress(grpc.aio.AioRpcError):  # the failures are what is logged
                await stub.Query(request, timeout=10)
        process.terminate()
        assert process.stderr is not None
        err = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
    lines = [line for line in err.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert ARMAN not in err
    events = [e for e in entries if e.get("logger") == "regbus.audit"]
    assert len(events) >= 4, entries
    assert any(e["level"] == "WARNING" and "gbdfl" in e["event"] for e in entries), entries


async def test_access_log_gives_one_line_per_call_and_request_only_when_asked() -> None:
    ok = bus_pb2.QueryRequest(
        registry="gbdfl",
        operation="get_person",
        params={"iin": ARMAN},
        context=bus_pb2.RequestContext(operator_id="op-1", purpose="demo"),
    )
    bad = bus_pb2.QueryRequest(
        registry="gbdfl",
        operation="get_person",
        params={"iin": "850314354053"},  # a wrong check digit
        context=bus_pb2.RequestContext(operator_id="op-1", purpose="demo"),
    )
    found = {}
    for flags in ((), ("--access-log",)):
        http_port = free_port()
        args = ("--mocks-port", str(free_port()), "--http-port", str(http_port))
        async with serve(*args, "--log-format", "json", *flags) as (stub, process):
            await stub.Query(ok, timeout=10)
            with contextlib.suppress(grpc.aio.AioRpcError):
                await stub.Query(bad, timeout=10)
            async with httpx.AsyncClient() as http:
                (await http.get(f"http://127.0.0.1:{http_port}/healthz")).raise_for_status()
            process.terminate()
            assert process.stderr is not None
            err = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
        entries = [json.loads(line) for line in err.splitlines() if line.strip()]
        found[flags] = [e for e in entries if e.get("logger") == "regbus.access_log"]
    assert found[()] == []
    lines = found[("--access-log",)]
    grpc_lines = [e for e in lines if e.get("method") == "/regbus.v1.RegistryBus/Query"]
    assert [e["grpc_code"] for e in grpc_lines] == ["OK", "INVALID_ARGUMENT"], lines
    assert all(e["latency_ms"] > 0 and "127.0.0.1" in e["event"] for e in grpc_lines)
    assert any(e["event"].startswith('HTTP "GET /healthz') for e in lines), lines
    assert not any(ARMAN in e["event"] for e in lines)
