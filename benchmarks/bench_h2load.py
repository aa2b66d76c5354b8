"""The bus under h2load, side by side with a bare grpc.aio server: every figure a ratio.

    python benchmarks/bench_h2load.py [--quick] [--duration S | --requests N] [--workers N]
                                      [-c 8] [-m 16] [--scenarios vehicles,gbdfl,zags,insurance]
                                      [--json FILE]

Needs h2load (Debian/Ubuntu: ``apt-get install nghttp2-client``; macOS: ``brew install
nghttp2``); without it, says so and exits 2. Everything runs on loopback, each server in a
process of its own, all stopped on exit (Ctrl-C and SIGTERM included):

* a bare grpc.aio server implementing ``regbus.v1.RegistryBus/Query`` that returns a canned
  ``QueryResponse`` (the bus's real answer, captured at start: the same message sizes) and does
  no work: the floor of any grpc.aio service (this file, run with a hidden ``--serve-bare``);
* the mock registries: ``regbus mocks --port 0 --write-config FILE``;
* the bus: ``regbus serve --config FILE --grpc-port P --http-port Q``; and, when ``serve`` has
  ``--workers``, once more with ``--workers N`` (default 2; 0 skips it).

What it measures, every load run preceded by a warm-up run:

1. throughput, h2load over h2c (``-c 8 -m 16``): per scenario (REST, ШЭП SOAP, plain SOAP,
   X-Road) the bare server, then the bus right after it: the bus's throughput as a ratio to
   the bare server's; CPU per call of the bus (its process and children), of the bare server
   and of the mock registries, from utime + stime in ``/proc/PID/stat``;
2. added latency at low load: one call at a time, through the bus (grpc.aio) and straight to
   the mock registry (aiohttp, one connection) with the very HTTP request the adapter sends
   (recorded once through a proxy), interleaved: p50 and p99 differences;
3. Compose of gbdfl + zags + vehicles against the slowest of them alone: p50 ratio;
4. isolation: vehicles throughput while gbdfl hangs (``regbus fault gbdfl hang``) and 64
   callers with 1 s deadlines keep calling it, as a ratio to vehicles right before; how the
   gbdfl calls ended; then how fast gbdfl calls fail with its breaker open, against a call
   to the bare server.

h2load sees HTTP statuses only (gRPC statuses travel in trailers), so each body is first sent
with a real gRPC client, and each bus run is checked against the bus's ``regbus_requests_total``
counters. The table goes to stdout, progress to stderr; the exit status is 1 if any run had a
failed request or call (server logs are then kept and named).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc

from regbus.v1 import bus_pb2, bus_pb2_grpc

HOST = "127.0.0.1"
QUERY_PATH = "/regbus.v1.RegistryBus/Query"
SUBJECT_IIN = "850314354052"
INSTALL_HINT = (
    "h2load not found. Install it: `apt-get install nghttp2-client` (Debian/Ubuntu),"
    " `dnf install nghttp2` (Fedora), `brew install nghttp2` (macOS); or pass --h2load PATH."
)


@dataclass(frozen=True)
class Scenario:
    key: str  # the registry id, also the --scenarios name
    wire: str
    operation: str
    params: Mapping[str, str]

    @property
    def label(self) -> str:
        return f"{self.wire} {self.key}.{self.operation}"

    def request(self) -> bus_pb2.QueryRequest:
        return bus_pb2.QueryRequest(
            registry=self.key,
            operation=self.operation,
            params=dict(self.params),
            context=bus_pb2.RequestContext(client_id="bench"),
        )


SCENARIOS = (
    Scenario("vehicles", "REST", "get_vehicle", {"plate": "123ABC01"}),
    Scenario("gbdfl", "SOAP ШЭП", "get_person", {"iin": SUBJECT_IIN}),
    Scenario("zags", "SOAP", "list_acts", {"iin": SUBJECT_IIN}),
    Scenario("insurance", "X-Road", "get_policy", {"plate": "777KZA09"}),
)
COMPOSE_PARTS = (
    ("gbdfl", "get_person"),
    ("zags", "list_acts"),
    ("vehicles", "list_vehicles_by_owner"),
)


# processes ------------------------------------------------------------------------------------


class Processes:
    """Servers started by this run, each in a session of its own; all stopped on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop them in order
        )
        log.close()
        self.running[name] = proc
        return proc

    def check(self, name: str) -> None:
        proc = self.running[name]
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text("utf-8", "replace") if path.exists() else ""
        return "\n".join("    " + line for line in text.splitlines()[-lines:])

    def stop(self, name: str, timeout: float = 20.0) -> None:
        proc = self.running.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # a supervisor stops its own workers in order
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # The group is the one the process leads (start_new_session): workers left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def regbus_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "regbus.bus.cli", *args]


def serve_has_workers() -> bool:
    helptext = subprocess.run(
        regbus_argv("serve", "--help"), capture_output=True, text=True, timeout=60, check=False
    ).stdout
    return "--workers" in helptext


# CPU from /proc ----------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime + stime in seconds) of one process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its live descendants."""
    parents: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                parents.setdefault(found[0], []).append(int(entry))
                cpu[int(entry)] = found[1]
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu.get(current, 0.0)
        todo.extend(parents.get(current, []))
    return total


def listeners(port: int) -> int:
    """Sockets listening on a local TCP port (``/proc/net/tcp*``, state 0A)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


# gRPC helpers -----------------------------------------------------------------------------------


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length."""
    return struct.pack(">BI", 0, len(message)) + message


def outcome(exc: grpc.aio.AioRpcError) -> str:
    """``CODE`` or ``CODE/REASON`` from the ErrorInfo the bus attaches."""
    code = str(exc.code().name)
    from google.rpc import error_details_pb2, status_pb2

    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return f"{code}/{info.reason}"
    return code


async def wait_ready(
    what: str,
    attempt: Callable[[], Awaitable[object]],
    procs: Processes,
    names: Sequence[str],
    within: float = 60.0,
) -> object:
    """Retry ``attempt`` until it succeeds; fail early if a process died."""
    deadline = time.monotonic() + within
    last: BaseException | None = None
    while time.monotonic() < deadline:
        for name in names:
            procs.check(name)
        try:
            return await attempt()
        except (grpc.aio.AioRpcError, OSError, ValueError, KeyError) as exc:
            last = exc
            await asyncio.sleep(0.2)
    logs = "\n".join(procs.tail(n) for n in names)
    raise BenchError(f"{what} not ready within {within:.0f} s ({last}):\n{logs}")


# metrics of the bus ----------------------------------------------------------------------------

_SAMPLE = re.compile(r"^regbus_requests_total\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)", re.M)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


async def bus_outcomes(http_port: int) -> Counter[tuple[str, str]]:
    """``regbus_requests_total`` by (registry, outcome); empty if /metrics is unreachable."""
    import aiohttp

    counts: Counter[tuple[str, str]] = Counter()
    timeout = aiohttp.ClientTimeout(5)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{HOST}:{http_port}/metrics", timeout=timeout) as response,
        ):
            text = await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return counts
    for match in _SAMPLE.finditer(text):
        labels = dict(_LABEL.findall(match["labels"]))
        counts[labels.get("registry", ""), labels.get("outcome", "")] += int(float(match["value"]))
    return counts


async def settled_outcomes(http_port: int) -> Counter[tuple[str, str]]:
    """The counters once calls cut off by the end of a run are counted (the bus counts a
    cancelled call when it notices), or after 3 s."""
    counts = await bus_outcomes(http_port)
    for _ in range(30):
        await asyncio.sleep(0.1)
        again = await bus_outcomes(http_port)
        if again == counts:
            break
        counts = again
    return counts


def outcome_delta(
    before: Counter[tuple[str, str]], after: Counter[tuple[str, str]], registry: str
) -> dict[str, int]:
    delta = {o: after[(r, o)] - before[(r, o)] for (r, o) in after if r == registry}
    return {o: n for o, n in sorted(delta.items()) if n}


# h2load -----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    seconds: float = 0.0
    done: int = 0
    succeeded: int = 0
    failed: int = 0
    errored: int = 0
    timeout: int = 0
    status_2xx: int = 0
    status_other: int = 0
    data_bytes: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, by process
    outcomes: dict[str, int] = field(default_factory=dict)  # bus counters, when known
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.succeeded / self.seconds if self.seconds else 0.0

    def cpu_per_call(self, name: str) -> float | None:
        if name not in self.cpu or not self.succeeded:
            return None
        return self.cpu[name] / self.succeeded

    def raw(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "succeeded": self.succeeded,
            "cpu_seconds": {k: round(v, 3) for k, v in self.cpu.items()},
            "bytes_per_answer": round(self.data_bytes / self.done, 1) if self.done else None,
            "bus_outcomes": self.outcomes or None,
        }


def parse_h2load(text: str) -> LoadResult:
    """The figures of h2load's summary; ``ValueError`` if it has none."""
    result = LoadResult()
    finished = re.search(r"finished in ([\d.]+)(m?s)", text)
    requests = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed,"
        r" (\d+) errored, (\d+) timeout",
        text,
    )
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if not (finished and requests and codes):
        raise ValueError("no h2load summary in its output")
    result.seconds = float(finished[1]) / (1000 if finished[2] == "ms" else 1)
    result.done, result.succeeded, result.failed, result.errored, result.timeout = (
        int(requests[i]) for i in (3, 4, 5, 6, 7)
    )
    result.status_2xx = int(codes[1])
    result.status_other = sum(int(codes[i]) for i in (2, 3, 4))
    data = re.search(r"\((\d+)\) data", text)
    result.data_bytes = int(data[1]) if data else 0
    if result.failed or result.errored or result.timeout:
        result.problems.append(
            f"{result.failed} failed, {result.errored} errored, {result.timeout} timed out"
        )
    if result.status_other or result.status_2xx < result.succeeded:
        result.problems.append(f"{result.status_other} answers with a non-2xx HTTP status")
    if not result.succeeded:
        result.problems.append("no request succeeded")
    return result


@dataclass
class H2load:
    binary: str
    connections: int
    streams: int
    duration: float | None  # seconds; None: a request count
    requests: int
    warmup: float
    threads: int = 1

    def argv(self, port: int, body: Path, *, warmup: bool) -> list[str]:
        argv = [
            self.binary,
            "-c", str(self.connections),
            "-m", str(self.streams),
            "-t", str(min(self.threads, self.connections)),
            "-d", str(body),
            "-H", "content-type: application/grpc",
            "-H", "te: trailers",
        ]  # fmt: skip
        seconds = self.warmup if warmup else self.duration
        if seconds is not None:
            argv += ["-D", f"{max(1, round(seconds * 1000))}ms"]
        else:
            argv += ["-n", str(self.requests)]
        return [*argv, f"http://{HOST}:{port}{QUERY_PATH}"]

    async def run(
        self,
        port: int,
        body: Path,
        *,
        warmup: bool = False,
        cpu_of: Mapping[str, int] | None = None,
    ) -> LoadResult:
        cpu_of = cpu_of or {}
        before = {name: tree_cpu(pid) for name, pid in cpu_of.items()}
        reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = await asyncio.create_subprocess_exec(
            *self.argv(port, body, warmup=warmup),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await proc.communicate()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        text = out.decode("utf-8", "replace")
        try:
            result = parse_h2load(text)
        except ValueError as exc:
            raise BenchError(f"h2load exited with {proc.returncode}: {text[-1500:]}") from exc
        result.cpu = {name: tree_cpu(pid) - before[name] for name, pid in cpu_of.items()}
        if cpu_of:  # h2load's own CPU: it is the only child reaped meanwhile
            now = resource.getrusage(resource.RUSAGE_CHILDREN)
            result.cpu["h2load"] = (now.ru_utime - reaped.ru_utime) + (
                now.ru_stime - reaped.ru_stime
            )
        return result


# capturing the requests adapters send ---------------------------------------------------------


@dataclass
class Captured:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int


_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


async def capture(config: Path, scenarios: Sequence[Scenario]) -> dict[str, Captured]:
    """The HTTP request each scenario's adapter sends to its mock registry, recorded by a
    proxy in front of the mocks while an in-process adapter makes one call."""
    from aiohttp import ClientSession, web

    from regbus.adapters.base import CallContext
    from regbus.bus.config import load_config
    from regbus.bus.plugins import discover

    settings = load_config(config).registries
    base = _base_url(settings[scenarios[0].key].endpoint.url)
    recorded: list[Captured] = []

    async with ClientSession(auto_decompress=False) as session:

        async def forward(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
            async with session.request(
                request.method, base + request.path_qs, headers=headers, data=body
            ) as answer:
                payload = await answer.read()
                if request.method != "GET" or "wsdl" not in request.query_string.lower():
                    recorded.append(
                        Captured(request.method, request.path_qs, headers, body, answer.status)
                    )
                keep = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
                return web.Response(body=payload, status=answer.status, headers=keep)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        proxy = f"http://{HOST}:{runner.addresses[0][1]}"
        found: dict[str, Captured] = {}
        try:
            adapters = discover()
            for scenario in scenarios:
                endpoint = settings[scenario.key].endpoint
                adapter = adapters[scenario.key](
                    dataclasses.replace(endpoint, url=proxy + endpoint.url[len(base) :])
                )
                try:
                    recorded.clear()
                    await adapter.call(
                        scenario.operation,
                        dict(scenario.params),
                        CallContext(request_id="bench-capture", client_id="bench"),
                    )
                    if recorded:
                        last = recorded[-1]
                        found[scenario.key] = dataclasses.replace(last, url=base + last.url)
                finally:
                    await adapter.aclose()
        finally:
            await runner.cleanup()
    return found


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# sequential latency ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(
    calls: Sequence[Callable[[], Awaitable[object]]], n: int, warmup: int
) -> list[list[float]]:
    """Each call ``n`` times, one at a time, interleaved so all see the same conditions."""
    for _ in range(warmup):
        for call in calls:
            await call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for i, call in enumerate(calls):
            started = time.perf_counter()
            await call()
            times[i].append(time.perf_counter() - started)
    return times


# the run ---------------------------------------------------------------------------------------


@dataclass
class Settings:
    load: H2load
    scenarios: tuple[Scenario, ...]
    workers: int
    calls: int
    call_warmup: int
    compose_calls: int
    hang_callers: int
    hang_deadline: float
    isolation: bool
    json_path: Path | None
    keep_logs: bool


@dataclass
class Report:
    settings: dict[str, Any]
    throughput: list[dict[str, Any]] = field(default_factory=list)
    latency: list[dict[str, Any]] = field(default_factory=list)
    compose: dict[str, Any] | None = None
    isolation: dict[str, Any] | None = None
    fail_fast: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        progress(f"note: {text}")

    def fail(self, text: str) -> None:
        self.failures.append(text)
        progress(f"FAILED: {text}")


class Bench:
    def __init__(self, settings: Settings, procs: Processes, work: Path) -> None:
        self.s = settings
        self.procs = procs
        self.work = work
        self.config = work / "regbus.toml"
        self.bodies: dict[str, Path] = {}
        self.answers: dict[str, bytes] = {}
        self.mocks_addr = ""
        self.report = Report(
            settings={
                "connections": settings.load.connections,
                "streams": settings.load.streams,
                "duration_s": settings.load.duration,
                "requests": None if settings.load.duration else settings.load.requests,
                "warmup_s": settings.load.warmup,
                "h2load_threads": settings.load.threads,
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "grpcio": grpc.__version__,
            }
        )

    # servers ----------------------------------------------------------------------------------

    async def start_mocks(self) -> None:
        self.procs.start(
            "mocks", regbus_argv("mocks", "--port", "0", "--write-config", str(self.config))
        )

        async def ready() -> str:
            data = tomllib.loads(self.config.read_text("utf-8"))  # OSError/ValueError: not yet
            url = next(iter(data["registries"].values()))["url"]
            addr = str(urlsplit(url).netloc)
            import aiohttp

            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://{addr}/_faults", timeout=aiohttp.ClientTimeout(2)) as answer,
            ):
                if answer.status != 200:
                    raise ValueError(f"/_faults answered {answer.status}")
            return addr

        self.mocks_addr = str(await wait_ready("mock registries", ready, self.procs, ["mocks"]))

    async def start_bus(self, name: str, workers: int = 0) -> tuple[int, int]:
        grpc_port, http_port = free_port(), free_port()
        argv = regbus_argv(
            "serve", "--config", str(self.config),
            "--grpc-port", str(grpc_port), "--http-port", str(http_port),
        )  # fmt: skip
        if workers:
            argv += ["--workers", str(workers)]
        self.procs.start(name, argv)
        probe = self.s.scenarios[0].request()

        async def ready() -> object:
            async with grpc.aio.insecure_channel(f"{HOST}:{grpc_port}") as channel:
                return await bus_pb2_grpc.RegistryBusStub(channel).Query(probe, timeout=5)

        await wait_ready(f"bus ({name})", ready, self.procs, [name, "mocks"])
        if workers > 1:  # every worker listens on the port itself (SO_REUSEPORT)

            async def all_listening() -> None:
                if listeners(grpc_port) < workers:
                    raise ValueError(f"{listeners(grpc_port)} of {workers} workers listen")

            await wait_ready(f"{workers} bus workers", all_listening, self.procs, [name])
        return grpc_port, http_port

    async def start_bare(self) -> int:
        answers = self.work / "answers.json"
        answers.write_text(json.dumps({k: v.hex() for k, v in self.answers.items()}))
        port = free_port()
        self.procs.start(
            "bare",
            [sys.executable, __file__, "--serve-bare", str(port), "--answers", str(answers)],
        )
        probe = self.s.scenarios[0].request()

        async def ready() -> object:
            async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
                return await bus_pb2_grpc.RegistryBusStub(channel).Query(probe, timeout=5)

        await wait_ready("bare grpc.aio server", ready, self.procs, ["bare"])
        return port

    async def fault(self, registry: str, mode: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *regbus_argv("fault", registry, mode, "--mocks", self.mocks_addr),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise BenchError(f"regbus fault {registry} {mode}: {out.decode().strip()}")

    # checks -----------------------------------------------------------------------------------

    async def capture_answers(self, grpc_port: int) -> None:
        """One real call per scenario: it must be OK; its answer becomes the bare server's
        (all four, chosen or not: the fail-fast check compares gbdfl calls with the bare's)."""
        async with grpc.aio.insecure_channel(f"{HOST}:{grpc_port}") as channel:
            stub = bus_pb2_grpc.RegistryBusStub(channel)
            for scenario in SCENARIOS:
                request = scenario.request()
                try:
                    answer = await stub.Query(request, timeout=10)
                except grpc.aio.AioRpcError as exc:
                    raise BenchError(
                        f"{scenario.label} fails through the bus: {outcome(exc)} {exc.details()}"
                    ) from exc
                self.answers[f"{scenario.key}/{scenario.operation}"] = answer.SerializeToString()
                body = self.work / f"{scenario.key}.grpc"
                body.write_bytes(grpc_frame(request.SerializeToString()))
                self.bodies[scenario.key] = body

    async def check_bodies(self, port: int, what: str) -> None:
        """Send each h2load body once with a real gRPC client (h2load cannot see grpc-status)."""
        async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
            call = channel.unary_unary(QUERY_PATH)  # raw bytes both ways
            for scenario in self.s.scenarios:
                body = self.bodies[scenario.key].read_bytes()
                try:
                    await call(body[5:], timeout=10)
                except grpc.aio.AioRpcError as exc:
                    raise BenchError(
                        f"the h2load body of {scenario.key} fails on {what}: {outcome(exc)}"
                    ) from exc

    # measurements ------------------------------------------------------------------------------

    async def throughput(
        self, bare_port: int, bus_port: int, http_port: int, bus_name: str, label: str
    ) -> None:
        load = self.s.load
        pids = {n: p.pid for n, p in self.procs.running.items()}
        for scenario in self.s.scenarios:
            body = self.bodies[scenario.key]
            await load.run(bare_port, body, warmup=True)
            bare = await load.run(bare_port, body, cpu_of={"bare": pids["bare"]})
            await load.run(bus_port, body, warmup=True)
            bus = await self.load_bus(
                bus_port, http_port, scenario.key, {"bus": pids[bus_name], "mocks": pids["mocks"]}
            )
            self.procs.check(bus_name)
            self._check_outcomes(bus, single=bus_name == "bus")
            row = {
                "scenario": f"{label}{scenario.label}",
                "registry": scenario.key,
                "bus_workers": self.s.workers if label else 1,
                "ratio_to_bare": round(bus.rate / bare.rate, 4) if bare.rate else None,
                "cpu_ms_per_call_bus": _ms(bus.cpu_per_call("bus")),
                "cpu_ms_per_call_bare": _ms(bare.cpu_per_call("bare")),
                "cpu_ms_per_call_mocks": _ms(bus.cpu_per_call("mocks")),
                "raw": {"bare": bare.raw(), "bus": bus.raw()},
            }
            for run, who in ((bare, "bare server"), (bus, "bus")):
                for problem in run.problems:
                    self.report.fail(f"{row['scenario']} ({who}): {problem}")
            self.report.throughput.append(row)
            progress(_row(row))

    async def load_bus(
        self, port: int, http_port: int, registry: str, cpu_of: Mapping[str, int]
    ) -> LoadResult:
        """One measured h2load run on the bus, with the outcomes the bus counted meanwhile."""
        body = self.bodies[registry]
        counted = await settled_outcomes(http_port)
        run = await self.s.load.run(port, body, cpu_of=cpu_of)
        run.outcomes = outcome_delta(counted, await settled_outcomes(http_port), registry)
        return run

    def _check_outcomes(self, run: LoadResult, *, single: bool = True) -> None:
        """Fail a run on the gRPC failures the bus counted (h2load sees HTTP 200 for them)."""
        counted = sum(run.outcomes.values())
        in_flight = self.s.load.connections * self.s.load.streams  # may be counted a bit later
        if counted + in_flight < run.succeeded:
            text = f"the bus's regbus_requests_total counted {counted} of {run.succeeded} calls"
            if single:  # one process serves /metrics for every call
                run.problems.append(text)
            else:
                self.report.note(f"{text} (workers' counters not all on one /metrics)")
        # A timed h2load run ends by resetting the streams still open: at most one per stream,
        # counted by the bus as cancelled. Anything else is a failed call.
        allowed = self.s.load.connections * self.s.load.streams if self.s.load.duration else 0
        bad = {
            o: n
            for o, n in run.outcomes.items()
            if o != "ok" and not (o == "cancelled" and n <= allowed)
        }
        if bad:
            run.problems.append(f"gRPC failures counted by the bus: {bad}")

    async def latency(self, bus_port: int) -> None:
        import aiohttp

        captured = await capture(self.config, self.s.scenarios)
        connector = aiohttp.TCPConnector(limit=1)
        async with (
            grpc.aio.insecure_channel(f"{HOST}:{bus_port}") as channel,
            aiohttp.ClientSession(connector=connector, auto_decompress=False) as session,
        ):
            stub = bus_pb2_grpc.RegistryBusStub(channel)
            for scenario in self.s.scenarios:
                direct = captured.get(scenario.key)
                if direct is None or direct.status != 200:
                    got = "no request" if direct is None else f"HTTP {direct.status}"
                    self.report.note(f"latency of {scenario.key}: captured {got}; skipped")
                    continue
                request = scenario.request()

                async def via_bus(request: bus_pb2.QueryRequest = request) -> None:
                    await stub.Query(request, timeout=10)

                async def straight(direct: Captured = direct, key: str = scenario.key) -> None:
                    async with session.request(
                        direct.method, direct.url, headers=direct.headers, data=direct.body
                    ) as answer:
                        await answer.read()
                        if answer.status != direct.status:
                            raise BenchError(
                                f"{key} answered {answer.status} directly,"
                                f" {direct.status} when captured"
                            )

                bus_t, direct_t = await sequential(
                    [via_bus, straight], self.s.calls, self.s.call_warmup
                )
                row = {
                    "registry": scenario.key,
                    "scenario": scenario.label,
                    "calls": self.s.calls,
                    "added_p50_ms": round((_p50(bus_t) - _p50(direct_t)) * 1e3, 3),
                    "added_p99_ms": round(
                        (percentile(bus_t, 0.99) - percentile(direct_t, 0.99)) * 1e3, 3
                    ),
                    "bus_over_direct_p50": round(_p50(bus_t) / _p50(direct_t), 3),
                }
                self.report.latency.append(row)
                progress(latency_line(row))

    async def compose(self, bus_port: int) -> None:
        parts = [bus_pb2.ComposeRequest.Part(registry=r, operation=o) for r, o in COMPOSE_PARTS]
        composed = bus_pb2.ComposeRequest(
            parts=parts, params={"iin": SUBJECT_IIN}, context=bus_pb2.RequestContext()
        )
        async with grpc.aio.insecure_channel(f"{HOST}:{bus_port}") as channel:
            stub = bus_pb2_grpc.RegistryBusStub(channel)
            answer = await stub.Compose(composed, timeout=10)
            failed = [p.registry for p in answer.parts if p.WhichOneof("result") != "response"]
            if failed:
                self.report.fail(f"compose: parts failed: {failed}")
                return

            async def whole() -> None:
                await stub.Compose(composed, timeout=10)

            def single(registry: str, operation: str) -> Callable[[], Awaitable[None]]:
                request = bus_pb2.QueryRequest(
                    registry=registry, operation=operation, params={"iin": SUBJECT_IIN}
                )

                async def call() -> None:
                    await stub.Query(request, timeout=10)

                return call

            times = await sequential(
                [whole, *(single(r, o) for r, o in COMPOSE_PARTS)],
                self.s.compose_calls,
                self.s.call_warmup,
            )
        p50s = {f"{r}.{o}": _p50(t) for (r, o), t in zip(COMPOSE_PARTS, times[1:], strict=True)}
        slowest = max(p50s, key=lambda k: p50s[k])
        self.report.compose = {
            "calls": self.s.compose_calls,
            "parts": list(p50s),
            "slowest_part": slowest,
            "compose_over_slowest_p50": round(_p50(times[0]) / p50s[slowest], 3),
            "compose_over_sum_of_parts_p50": round(_p50(times[0]) / sum(p50s.values()), 3),
        }
        progress(compose_line(self.report.compose))

    async def isolation(self, bus_port: int, http_port: int, bare_port: int) -> None:
        vehicles = next((s for s in self.s.scenarios if s.key == "vehicles"), None)
        if vehicles is None:
            self.report.note("isolation needs the vehicles scenario; skipped")
            return
        load, body = self.s.load, self.bodies["vehicles"]
        pids = {"bus": self.procs.running["bus"].pid, "mocks": self.procs.running["mocks"].pid}
        await load.run(bus_port, body, warmup=True)
        healthy = await self.load_bus(bus_port, http_port, "vehicles", pids)

        person = bus_pb2.QueryRequest(
            registry="gbdfl", operation="get_person", params={"iin": SUBJECT_IIN}
        )
        ended: Counter[str] = Counter()
        stopping = asyncio.Event()

        async def caller(stub: bus_pb2_grpc.RegistryBusStub) -> None:
            while not stopping.is_set():
                try:
                    await stub.Query(person, timeout=self.s.hang_deadline)
                    ended["OK"] += 1
                except grpc.aio.AioRpcError as exc:
                    ended[outcome(exc)] += 1

        await self.fault("gbdfl", "hang")
        try:
            async with grpc.aio.insecure_channel(f"{HOST}:{bus_port}") as channel:
                stub = bus_pb2_grpc.RegistryBusStub(channel)
                callers = [asyncio.create_task(caller(stub)) for _ in range(self.s.hang_callers)]
                try:
                    await asyncio.sleep(self.s.hang_deadline + 0.5)  # let the hang bite
                    ended_before = sum(ended.values())
                    hanging = await self.load_bus(bus_port, http_port, "vehicles", pids)
                    during = sum(ended.values()) - ended_before
                finally:
                    stopping.set()
                    await asyncio.gather(*callers, return_exceptions=True)
                fail_fast = await self.fail_fast(stub, person, bare_port)
        finally:
            await self.fault("gbdfl", "ok")
        self._check_outcomes(healthy)
        self._check_outcomes(hanging)
        for problem in healthy.problems:
            self.report.fail(f"isolation, vehicles healthy: {problem}")
        for problem in hanging.problems:
            self.report.fail(f"isolation, vehicles while gbdfl hangs: {problem}")
        self.report.isolation = {
            "vehicles_hanging_over_healthy": round(hanging.rate / healthy.rate, 4)
            if healthy.rate
            else None,
            "cpu_ms_per_vehicles_call_bus_healthy": _ms(healthy.cpu_per_call("bus")),
            "cpu_ms_per_vehicles_call_bus_hanging": _ms(hanging.cpu_per_call("bus")),
            "cpu_ms_per_vehicles_call_mocks_healthy": _ms(healthy.cpu_per_call("mocks")),
            "cpu_ms_per_vehicles_call_mocks_hanging": _ms(hanging.cpu_per_call("mocks")),
            "gbdfl_callers": self.s.hang_callers,
            "gbdfl_deadline_s": self.s.hang_deadline,
            "gbdfl_calls_ended": dict(ended.most_common()),
            "gbdfl_calls_per_vehicles_call": round(during / hanging.succeeded, 3)
            if hanging.succeeded
            else None,
            "raw": {"healthy": healthy.raw(), "hanging": hanging.raw()},
        }
        progress(isolation_line(self.report.isolation))
        self.report.fail_fast = fail_fast
        if fail_fast:
            progress(fail_fast_line(fail_fast))

    async def fail_fast(
        self, stub: bus_pb2_grpc.RegistryBusStub, person: bus_pb2.QueryRequest, bare_port: int
    ) -> dict[str, Any] | None:
        """With gbdfl still hanging: how fast its calls fail, against the bare server's p50."""
        calls = max(10, self.s.calls // 2)
        ended: Counter[str] = Counter()
        refused: list[float] = []
        async with grpc.aio.insecure_channel(f"{HOST}:{bare_port}") as channel:
            bare = bus_pb2_grpc.RegistryBusStub(channel)

            async def via_bus() -> None:
                started = time.perf_counter()
                try:
                    await stub.Query(person, timeout=self.s.hang_deadline)
                    ended["OK"] += 1
                except grpc.aio.AioRpcError as exc:
                    ended[outcome(exc)] += 1
                    if outcome(exc) == "UNAVAILABLE/CIRCUIT_OPEN":
                        refused.append(time.perf_counter() - started)

            async def via_bare() -> None:
                await bare.Query(person, timeout=10)

            for _ in range(3):  # is the breaker open? (else each call waits for its deadline)
                await via_bus()
            bare_t: list[float] = []
            if refused:
                refused.clear()
                _, bare_t = await sequential([via_bus, via_bare], calls, 0)
        if not refused:
            self.report.note(
                f"fail fast: no call was refused by an open breaker ({dict(ended)}); skipped"
            )
            return None
        return {
            "calls": calls,
            "ended": dict(ended.most_common()),
            "open_breaker_p50_over_bare_p50": round(_p50(refused) / _p50(bare_t), 3),
            "open_breaker_p50_ms": round(_p50(refused) * 1e3, 3),
            "deadline_s": self.s.hang_deadline,
        }

    # the whole run ------------------------------------------------------------------------------

    async def run(self) -> Report:
        s = self.s
        progress(f"{setup_line(self.report.settings)}; server logs in {self.work}")
        await self.start_mocks()
        bus_port, http_port = await self.start_bus("bus")
        await self.capture_answers(bus_port)
        bare_port = await self.start_bare()
        await self.check_bodies(bare_port, "the bare server")
        await self.check_bodies(bus_port, "the bus")

        progress(_header())
        await self.throughput(bare_port, bus_port, http_port, "bus", "")
        if s.calls:
            await self.latency(bus_port)
        if s.compose_calls:
            await self.compose(bus_port)
        if s.isolation:
            await self.isolation(bus_port, http_port, bare_port)

        if s.workers > 1:
            if serve_has_workers():
                self.procs.stop("bus")
                port, http = await self.start_bus("bus-workers", workers=s.workers)
                await self.check_bodies(port, f"the bus with {s.workers} workers")
                await self.throughput(bare_port, port, http, "bus-workers", f"{s.workers}w ")
            else:
                self.report.note(
                    f"`regbus serve` has no --workers option: the {s.workers}-worker scenario"
                    " is skipped"
                )
        return self.report


STARTED = time.monotonic()


def progress(text: str) -> None:
    print(f"... [{time.monotonic() - STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)


def setup_line(settings: Mapping[str, Any]) -> str:
    per_run = (
        f"{settings['duration_s']:g} s" if settings["duration_s"]
        else f"{settings['requests']} requests"
    )  # fmt: skip
    return (
        f"h2load -c {settings['connections']} -m {settings['streams']} over h2c, {per_run} per"
        f" run after a {settings['warmup_s']:g} s warm-up run; {settings['cpus']} CPUs;"
        f" Python {settings['python']}, grpcio {settings['grpcio']}"
    )


def latency_line(row: Mapping[str, Any]) -> str:
    return (
        f"added latency, {row['scenario']}: p50 {row['added_p50_ms']:+.2f} ms"
        f" (bus x{row['bus_over_direct_p50']:.2f} of direct), p99 {row['added_p99_ms']:+.2f} ms"
        f" ({row['calls']} sequential calls each)"
    )


def compose_line(compose: Mapping[str, Any]) -> str:
    return (
        f"compose of {len(compose['parts'])} parts ({', '.join(compose['parts'])}): p50"
        f" x{compose['compose_over_slowest_p50']:.2f} of the slowest part alone"
        f" ({compose['slowest_part']}), x{compose['compose_over_sum_of_parts_p50']:.2f} of the"
        f" parts' sum ({compose['calls']} sequential calls each)"
    )


def isolation_line(isolation: Mapping[str, Any]) -> str:
    ended = ", ".join(f"{k} {v}" for k, v in isolation["gbdfl_calls_ended"].items())
    return (
        f"isolation: vehicles throughput while gbdfl hangs"
        f" x{_fmt(isolation['vehicles_hanging_over_healthy'], '.3f')} of healthy (bus CPU"
        f" ms/call {_fmt(isolation['cpu_ms_per_vehicles_call_bus_hanging'], '.3f')} vs"
        f" {_fmt(isolation['cpu_ms_per_vehicles_call_bus_healthy'], '.3f')});"
        f" {isolation['gbdfl_callers']} gbdfl callers with {isolation['gbdfl_deadline_s']:g} s"
        f" deadlines ended: {ended}; {_fmt(isolation['gbdfl_calls_per_vehicles_call'])}"
        " gbdfl calls per vehicles call while measured"
    )


def fail_fast_line(fail_fast: Mapping[str, Any]) -> str:
    return (
        f"fail fast: gbdfl calls refused by its open breaker take"
        f" x{fail_fast['open_breaker_p50_over_bare_p50']:.2f} of a bare-server call (p50"
        f" {fail_fast['open_breaker_p50_ms']:.2f} ms against the callers'"
        f" {fail_fast['deadline_s']:g} s deadline; {fail_fast['calls']} sequential calls)"
    )


def summary(report: Report) -> list[str]:
    lines = [setup_line(report.settings), _header()]
    lines += [_row(row) for row in report.throughput]
    lines += [latency_line(row) for row in report.latency]
    if report.compose:
        lines.append(compose_line(report.compose))
    if report.isolation:
        lines.append(isolation_line(report.isolation))
    if report.fail_fast:
        lines.append(fail_fast_line(report.fail_fast))
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"FAILED: {failure}" for failure in report.failures]
    return lines


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 4)


def _p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _header() -> str:
    return (
        f"{'scenario':<34}  {'ratio to bare':>13}  {'CPU ms/call bus':>15}"
        f"  {'CPU ms/call bare':>16}  {'CPU ms/call mocks':>17}"
    )


def _row(row: Mapping[str, Any]) -> str:
    return (
        f"{row['scenario']:<34}  {'x' + _fmt(row['ratio_to_bare'], '.3f'):>13}"
        f"  {_fmt(row['cpu_ms_per_call_bus'], '.3f'):>15}"
        f"  {_fmt(row['cpu_ms_per_call_bare'], '.3f'):>16}"
        f"  {_fmt(row['cpu_ms_per_call_mocks'], '.3f'):>17}"
    )


# the bare server (a process of its own: this file with --serve-bare) -------------------------


def serve_bare(port: int, answers_path: Path) -> None:
    """The baseline: the same contract answering a canned, real-sized QueryResponse."""
    answers = {
        key: bus_pb2.QueryResponse.FromString(bytes.fromhex(value))
        for key, value in json.loads(answers_path.read_text()).items()
    }

    class Bare(bus_pb2_grpc.RegistryBusServicer):  # type: ignore[misc]
        async def Query(self, request, context):  # type: ignore[no-untyped-def]
            answer = answers.get(f"{request.registry}/{request.operation}")
            if answer is None:
                await context.abort(grpc.StatusCode.NOT_FOUND, "no canned answer")
            return answer

    async def main() -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])  # as the bus's
        bus_pb2_grpc.add_RegistryBusServicer_to_server(Bare(), server)
        server.add_insecure_port(f"{HOST}:{port}")
        await server.start()
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await server.stop(0)

    asyncio.run(main())


# command line ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="short runs: a smoke test, not figures")
    add("--duration", type=float, metavar="S", help="seconds per measured run (10; quick: 2)")
    add("--requests", type=int, metavar="N", help="requests per measured run, not a duration")
    add("--warmup", type=float, metavar="S", help="seconds of each warm-up run (2; quick: 0.5)")
    add("-c", "--connections", type=int, default=8, help="h2load connections (8)")
    add("-m", "--streams", type=int, default=16, help="streams per connection (16)")
    add("--h2load-threads", type=int, default=1, metavar="N", help="h2load -t (1)")
    add(
        "--workers", type=int, default=2, metavar="N",
        help="measure again with `regbus serve --workers N` if serve has it (2; 0 skips)",
    )  # fmt: skip
    add(
        "--scenarios", default=",".join(s.key for s in SCENARIOS), metavar="LIST",
        help="registries to load, comma-separated (all: vehicles,gbdfl,zags,insurance)",
    )  # fmt: skip
    add("--calls", type=int, metavar="N", help="sequential calls, added latency (500; quick: 100)")
    add("--compose-calls", type=int, metavar="N", help="sequential Compose calls (300; quick: 50)")
    add("--hang-callers", type=int, default=64, metavar="N", help="gbdfl callers (64)")
    add("--hang-deadline", type=float, default=1.0, metavar="S", help="their deadline (1 s)")
    add("--no-isolation", action="store_true", help="skip the isolation and fail-fast part")
    add("--h2load", metavar="PATH", help="the h2load binary (default: from PATH)")
    add("--json", type=Path, metavar="FILE", help="write the figures to FILE")
    add("--keep-logs", action="store_true", help="keep the servers' logs")
    add("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    add("--answers", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace, binary: str) -> Settings:
    quick = args.quick
    known = {s.key: s for s in SCENARIOS}
    chosen = [k.strip() for k in args.scenarios.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in known]
    if unknown or not chosen:
        raise BenchError(f"unknown scenarios {unknown}; choose from {', '.join(known)}")
    duration = None if args.requests else (args.duration or (2.0 if quick else 10.0))
    return Settings(
        load=H2load(
            binary=binary,
            connections=args.connections,
            streams=args.streams,
            duration=duration,
            requests=args.requests or 0,
            warmup=args.warmup if args.warmup is not None else (0.5 if quick else 2.0),
            threads=args.h2load_threads,
        ),
        scenarios=tuple(known[k] for k in chosen),
        workers=args.workers,
        calls=args.calls if args.calls is not None else (100 if quick else 500),
        call_warmup=10 if quick else 50,
        compose_calls=args.compose_calls
        if args.compose_calls is not None
        else (50 if quick else 300),
        hang_callers=args.hang_callers,
        hang_deadline=args.hang_deadline,
        isolation=not args.no_isolation,
        json_path=args.json,
        keep_logs=args.keep_logs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare, args.answers)
        return 0
    binary = args.h2load or shutil.which("h2load")
    if binary is None or not os.access(binary, os.X_OK):
        print(f"bench_h2load: {INSTALL_HINT}", file=sys.stderr)
        return 2
    try:
        settings = settings_from(args, binary)
    except BenchError as exc:
        print(f"bench_h2load: {exc}", file=sys.stderr)
        return 2

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through the finally below

    signal.signal(signal.SIGTERM, terminate)
    work = Path(tempfile.mkdtemp(prefix="regbus-bench-"))
    procs = Processes(work)
    report: Report | None = None
    try:
        bench = Bench(settings, procs, work)
        report = bench.report
        asyncio.run(bench.run())
    except KeyboardInterrupt:
        print("\nbench_h2load: interrupted; servers stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"bench_h2load: {exc}", file=sys.stderr)
        if report is not None:
            report.failures.append(str(exc))
        return 1
    finally:
        procs.stop_all()
        if report is not None and report.throughput:
            print("\n".join(summary(report)), flush=True)
        if report is not None and settings.json_path is not None:
            settings.json_path.write_text(
                json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False) + "\n"
            )
        if not settings.keep_logs and report is not None and not report.failures:
            shutil.rmtree(work, ignore_errors=True)
    if report.failures:
        print(f"{len(report.failures)} check(s) failed; server logs in {work}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
