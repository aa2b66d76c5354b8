"""Side-by-side measurements of the bus, printed as ratios.

    python benchmarks/bench_bus.py [--requests N] [--concurrency C]

Everything runs on loopback in this process: the bus, its mock registries,
and a bare grpc.aio server doing no work as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import time
from collections.abc import Awaitable, Callable

import grpc

from regbus.adapters.base import CallContext, Endpoint
from regbus.bus.config import Config, ServerSettings
from regbus.bus.embedded import start_embedded
from regbus.bus.plugins import discover
from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.mocks.faults import parse_fault
from regbus.v1 import bus_pb2, bus_pb2_grpc, records_pb2

POLICY = Policy(
    timeout=0.5,
    retry=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.05),
    breaker=BreakerPolicy(fail_max=3, reset_timeout=60.0),
    bulkhead=BulkheadPolicy(max_concurrent=50, max_wait=0.5),
)
# Who asks and why, as every request must say (the embedded bus is in demo mode).
CONTEXT = bus_pb2.RequestContext(operator_id="bench", purpose="demo")
VEHICLE = bus_pb2.QueryRequest(
    registry="vehicles", operation="get_vehicle", params={"plate": "123ABC01"}, context=CONTEXT
)
PERSON = bus_pb2.QueryRequest(
    registry="gbdfl", operation="get_person", params={"iin": "850314354052"}, context=CONTEXT
)


class _Bare(bus_pb2_grpc.RegistryBusServicer):
    """The baseline: the same contract, answering a canned record, doing no work."""

    answer = bus_pb2.QueryResponse(
        record=records_pb2.Record(vehicle=records_pb2.Vehicle(plate="123ABC01"))
    )

    async def Query(self, request, context):  # type: ignore[no-untyped-def]
        return self.answer


async def _load(
    call: Callable[[], Awaitable[object]], requests: int, concurrency: int
) -> tuple[float, list[float], float]:
    """Run ``requests`` calls, ``concurrency`` at a time: (throughput/s, latencies, cpu s)."""
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            with contextlib.suppress(grpc.aio.AioRpcError):
                await call()
            latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - wall
    return requests / wall, latencies, (time.process_time() - cpu) / requests


def _p(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(requests: int, concurrency: int) -> None:
    config = Config(server=ServerSettings(grpc_port=0, http_port=0), policy=POLICY)
    running = await start_embedded(config, mocks_port=0)
    bare = grpc.aio.server()
    bus_pb2_grpc.add_RegistryBusServicer_to_server(_Bare(), bare)
    bare_port = bare.add_insecure_port("127.0.0.1:0")
    await bare.start()
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{running.bus.grpc_port}") as bus_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{bare_port}") as bare_channel,
        ):
            bus = bus_pb2_grpc.RegistryBusStub(bus_channel)
            baseline = bus_pb2_grpc.RegistryBusStub(bare_channel)
            adapter = discover()["vehicles"](Endpoint(running.mocks.endpoints()["vehicles"]))
            context = CallContext(request_id="bench")

            async def direct() -> object:
                return await adapter.call("get_vehicle", {"plate": "123ABC01"}, context)

            await _load(lambda: bus.Query(VEHICLE), 50, 5)  # warm up connections
            await _load(direct, 50, 5)

            bare_tput, _bare_lat, bare_cpu = await _load(
                lambda: baseline.Query(VEHICLE), requests, concurrency
            )
            bus_tput, bus_lat, bus_cpu = await _load(
                lambda: bus.Query(VEHICLE), requests, concurrency
            )
            direct_tput, direct_lat, _ = await _load(direct, requests, concurrency)
            print(f"requests={requests} concurrency={concurrency}")
            print(
                f"bus vs bare grpc.aio server: throughput {bus_tput / bare_tput:.2f}x "
                f"({bus_tput:.0f}/s vs {bare_tput:.0f}/s), CPU per query "
                f"{bus_cpu / bare_cpu:.1f}x ({bus_cpu * 1e3:.2f} ms vs {bare_cpu * 1e3:.2f} ms;"
                " bus CPU includes its in-process mock registry)"
            )
            added = statistics.median(bus_lat) - statistics.median(direct_lat)
            print(
                f"bus vs calling the registry directly: median latency "
                f"{statistics.median(bus_lat) / statistics.median(direct_lat):.2f}x "
                f"(+{added * 1e3:.2f} ms), direct throughput {direct_tput:.0f}/s"
            )

            healthy_tput, healthy_lat, _ = await _load(
                lambda: bus.Query(VEHICLE), requests, concurrency
            )
            running.mocks.faults.set("gbdfl", parse_fault("hang"))
            hanging = asyncio.gather(
                *(_load(lambda: bus.Query(PERSON, timeout=5), 20, 1) for _ in range(10))
            )
            await asyncio.sleep(0.1)
            during_tput, during_lat, _ = await _load(
                lambda: bus.Query(VEHICLE), requests, concurrency
            )
            await hanging
            print(
                f"vehicles while gbdfl hangs vs healthy: throughput "
                f"{during_tput / healthy_tput:.2f}x, p99 {_p(during_lat, 0.99) * 1e3:.1f} ms vs "
                f"{_p(healthy_lat, 0.99) * 1e3:.1f} ms"
            )

            state = running.bus.router.lanes["gbdfl"].guard.state
            _, open_lat, _ = await _load(lambda: bus.Query(PERSON), 200, 1)
            running.mocks.faults.set("gbdfl", parse_fault("ok"))
            print(
                f"fail fast with gbdfl's breaker {state}: median "
                f"{statistics.median(open_lat) * 1e3:.2f} ms, "
                f"{POLICY.timeout / statistics.median(open_lat):.0f}x faster than one attempt "
                f"timeout ({POLICY.timeout * 1e3:.0f} ms)"
            )
            await adapter.aclose()
    finally:
        await bare.stop(0)
        await running.stop()


if __name__ == "__main__":
    # The in-process mocks log every request the bus abandons while gbdfl hangs.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
