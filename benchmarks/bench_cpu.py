"""The bus's own CPU per call, in one process, against mock registries in another.

    python benchmarks/bench_cpu.py [--calls N] [--concurrency C] [--scenarios LIST]
                                   [--profile FILE.prof] [--servicer]

The mock registries run in a process of their own (``regbus mocks``), so this process's
CPU time (``time.process_time``) is only the bus's: for each scenario (REST, ШЭП SOAP,
plain SOAP, X-Road) ``--calls`` calls of ``Router.query`` (``--servicer``: of
``RegistryBusServicer.Query``, with a stand-in for the gRPC context), ``--concurrency``
at a time, on uvloop as ``regbus serve`` runs. Beside each, the floor: the same number
of aiohttp requests to the same mock, the very request the adapter sends, with nothing
around it. The difference is what the bus adds per call, gRPC aside.

Quieter than the h2load figures (no load generator or gRPC server shares the process),
but still a shared machine: each line is the best of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from regbus.adapters.base import CallContext
from regbus.bus.config import load_config
from regbus.bus.plugins import discover
from regbus.bus.router import Router
from regbus.bus.servicer import RegistryBusServicer
from regbus.monitoring.metrics import Metrics
from regbus.v1 import bus_pb2

SUBJECT_IIN = "850314354052"
SCENARIOS: dict[str, tuple[str, dict[str, str]]] = {
    "vehicles": ("get_vehicle", {"plate": "123ABC01"}),
    "gbdfl": ("get_person", {"iin": SUBJECT_IIN}),
    "zags": ("list_acts", {"iin": SUBJECT_IIN}),
    "insurance": ("get_policy", {"plate": "777KZA09"}),
}


class _Context:
    """What ``RegistryBusServicer.Query`` asks of a ``grpc.aio.ServicerContext``."""

    def time_remaining(self) -> float:
        return 30.0

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50000"

    def invocation_metadata(self) -> tuple[()]:
        return ()

    async def abort(self, code: Any, details: str = "", trailing_metadata: Any = ()) -> None:
        raise RuntimeError(f"aborted: {code} {details}")


def start_mocks(work: Path) -> tuple[subprocess.Popen[bytes], Path]:
    config = work / "regbus.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "regbus.bus.cli", "mocks", "--port", "0", "--write-config",
         str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not config.exists() or not config.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the mock registries did not start")
        time.sleep(0.1)
    time.sleep(0.2)
    return proc, config


async def run(
    call: Callable[[], Awaitable[object]], calls: int, concurrency: int
) -> tuple[float, float]:
    """(CPU seconds per call, wall seconds per call) of ``calls`` calls."""
    left = iter(range(calls))

    async def worker() -> None:
        for _ in left:
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls


async def _query(
    router: Router,
    registry: str,
    operation: str,
    params: Mapping[str, str],
    context: CallContext,
) -> object:
    return await router.query(registry, operation, dict(params), context, 30.0, client="demo")


async def floor_call(router: Router, registry: str, operation: str, params: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """A bare aiohttp request doing what the adapter's does, recorded once."""
    import aiohttp

    lane = router.lane(registry)
    sent: dict[str, Any] = {}
    adapter: Any = lane.adapter
    wire = adapter._wire
    http = (
        wire._api._http
        if hasattr(wire, "_api")
        else (wire._channel._soap._http if hasattr(wire, "_channel") else wire._soap._http)
    )
    original = http.exchange

    async def spy(method, url, operation, *, headers, params, data):  # type: ignore[no-untyped-def]
        sent.update(method=method, url=url, headers=dict(headers or {}), data=data)
        return await original(method, url, operation, headers=headers, params=params, data=data)

    http.exchange = spy
    await adapter.call(operation, dict(params), CallContext(request_id="x", client_id="bench"))
    http.exchange = original
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=20, limit_per_host=0),
        cookie_jar=aiohttp.DummyCookieJar(),
    )

    async def call() -> bytes:
        async with session.request(
            sent["method"], sent["url"], headers=sent["headers"], data=sent["data"]
        ) as answer:
            return await answer.read()

    return session, call


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("regbus.audit").setLevel(logging.WARNING)  # as regbus serve
    work = Path(tempfile.mkdtemp(prefix="regbus-cpu-"))
    proc, config_path = start_mocks(work)
    try:
        config = load_config(config_path)
        router = Router(config, discover(), Metrics())
        servicer = RegistryBusServicer(router)
        grpc_context: Any = _Context()
        profiler = cProfile.Profile() if args.profile else None
        print(
            f"{args.calls} calls per round, {args.concurrency} at a time, best of"
            f" {args.rounds}; CPU µs per call"
        )
        print(f"{'scenario':<22}{'bus':>9}{'floor':>9}{'bus adds':>10}")
        for key in args.scenarios.split(","):
            operation, params = SCENARIOS[key]
            request = bus_pb2.QueryRequest(
                registry=key,
                operation=operation,
                params=params,
                context=bus_pb2.RequestContext(operator_id="bench", purpose="demo"),
            )
            # The mocks' configuration is in demo mode: the client "demo", purpose "demo".
            context = CallContext(
                request_id="bench-req", client_id="demo", operator_id="bench", purpose="demo"
            )

            call: Callable[[], Awaitable[object]]
            if args.servicer:
                call = functools.partial(servicer.Query, request, grpc_context)
            else:
                call = functools.partial(_query, router, key, operation, params, context)

            session, floor = await floor_call(router, key, operation, params)
            try:
                await run(call, args.warmup, args.concurrency)  # warm up
                if not args.no_floor:
                    await run(floor, args.warmup, args.concurrency)
                bus_best = floor_best = float("inf")
                for _ in range(args.rounds):
                    if profiler is not None:
                        profiler.enable()
                    cpu, _ = await run(call, args.calls, args.concurrency)
                    if profiler is not None:
                        profiler.disable()
                    bus_best = min(bus_best, cpu)
                    if not args.no_floor:
                        cpu, _ = await run(floor, args.calls, args.concurrency)
                        floor_best = min(floor_best, cpu)
            finally:
                await session.close()
            print(
                f"{key:<22}{bus_best * 1e6:>9.0f}{floor_best * 1e6:>9.0f}"
                f"{(bus_best - floor_best) * 1e6:>10.0f}",
                flush=True,
            )
        if profiler is not None:
            profiler.dump_stats(args.profile)
        await router.aclose()
    finally:
        proc.terminate()
        proc.wait()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--servicer", action="store_true", help="through the gRPC servicer")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the bus's calls into FILE")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare aiohttp floor")
    parser.add_argument("--warmup", type=int, default=300, help="calls before measuring (300)")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    return args


if __name__ == "__main__":
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(_parse(None)))
