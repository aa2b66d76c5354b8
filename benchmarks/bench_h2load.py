"""The bus under h2load, side by side with a bare grpc.aio server: every figure a ratio.

    python benchmarks/bench_h2load.py [--quick] [--duration S | --requests N] [--workers N]
                                      [-c 8] [-m 16] [--scenarios vehicles,gbdfl,zags,insurance]
                                      [--no-huge] [--breaker-store URL] [--json FILE]

Needs h2load (Debian/Ubuntu: ``apt-get install nghttp2-client``; macOS: ``brew install
nghttp2``); without it, says so and exits 2. Everything runs on loopback, each server in a
process of its own, all stopped on exit (Ctrl-C and SIGTERM included):

* a bare grpc.aio server implementing ``regbus.v1.RegistryBus/Query`` that returns a canned
  ``QueryResponse`` (the bus's real answer, captured at start: the same message sizes) and does
  no work: the floor of any grpc.aio service (this file, run with a hidden ``--serve-bare``);
* the mock registries: ``regbus mocks --port 0 --write-config FILE``;
* the bus: ``regbus serve --config FILE --grpc-port P --http-port Q``; and, when ``serve`` has
  ``--workers``, once more with ``--workers N`` (default 2; 0 skips it); for parts 4 to 6 also
  with configurations derived from the mocks' one (written next to it, kept with the logs).

Placement: with two cores or more, the bus and the bare server each run on one core (cpu 0),
as one worker does, and everything else (h2load, the mock registries, this script's own
callers) on the others, so the rig's work never takes the measured server's core; the bare
server is held to the same core. ``--no-pin`` lets every process run anywhere. With
``--workers N`` the workers get N cores when that leaves one for the rest, else every core.

What it measures, every load run preceded by a warm-up run:

1. throughput, h2load over h2c (``-c 8 -m 16``): per scenario (REST, ШЭП SOAP, plain SOAP,
   X-Road) the bare server, then the bus right after it: the bus's throughput as a ratio to
   the bare server's; CPU per call of the bus (its process and children), of the bare server
   and of the mock registries, from utime + stime in ``/proc/PID/stat``;
2. added latency at low load: one call at a time, through the bus (grpc.aio) and straight to
   the mock registry (aiohttp, one connection) with the very HTTP request the adapter sends
   (recorded once through a proxy), interleaved: p50 and p99 differences;
3. Compose of gbdfl + zags + vehicles against the slowest of them alone: p50 ratio, with
   the mocks answering at once (the parts' CPU then queues on the bus's one core), and again
   with each of the three registries answering 20 ms later (``slow=20``, ``--compose-registry-ms``),
   as registries across a network do;
4. isolation: vehicles throughput while gbdfl hangs (``regbus fault gbdfl hang``) and 64
   callers with 1 s deadlines keep calling it, as a ratio to vehicles right before; how the
   gbdfl calls ended; then how fast gbdfl calls fail with its breaker open, against a call
   to the bare server. Twice: with the default policy (a 3 s attempt timeout: the callers'
   deadlines cut every attempt first, which is never charged to the registry, so the breaker
   stays closed), then on a bus with ``[policy] timeout = 0.5`` (``--short-timeout``), where
   gbdfl's own timeout fires and its breaker opens;
5. huge answers: vehicles under a steady load from 8 Python callers; gbdfl set to
   ``huge=50`` and 5 concurrent gbdfl calls made 5 times in a row: how they ended (the
   ErrorInfo reason), the bus's peak RSS (VmRSS of it and its children every 20 ms) against
   its peak before, vehicles' p50 during them against before. On a bus of its own whose
   gbdfl breaker is held closed, so every call reads its answer up to the limit, with gbdfl
   served by mock registries of their own at a lower priority (``nice 10``), as a registry
   on another machine: the vehicles mock and its callers wait for the bus only;
6. with ``--workers N``: the workers sharing breakers through Redis (``--breaker-store``;
   skipped with a note when it does not answer), ``[policy] timeout = 0.5``, gbdfl hanging:
   its breaker opened through one connection (one worker), then 64 callers over 16
   connections (every worker) for a few seconds: how their calls ended, and per worker (from
   its own file in the workers' metrics folder) how many it refused with CIRCUIT_OPEN and
   how many of its own attempts timed out.

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
import threading
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc

from regbus.circuit.policy import Policy
from regbus.v1 import bus_pb2, bus_pb2_grpc

HOST = "127.0.0.1"
QUERY_PATH = "/regbus.v1.RegistryBus/Query"
SUBJECT_IIN = "850314354052"
INSTALL_HINT = (
    "h2load not found. Install it: `apt-get install nghttp2-client` (Debian/Ubuntu),"
    " `dnf install nghttp2` (Fedora), `brew install nghttp2` (macOS); or pass --h2load PATH."
)


# Who asks and why, as every request must say: the bus runs on the mocks' configuration, in
# demo mode (the client "demo", which may state the purpose "demo").
CONTEXT = bus_pb2.RequestContext(operator_id="bench", purpose="demo")


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
            context=CONTEXT,
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

    def start(
        self,
        name: str,
        argv: Sequence[str],
        cpus: frozenset[int] | None = None,
        *,
        nice: int = 0,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv``; ``cpus``: the cores it (and its threads and children) may run
        on, else the ones this script runs on; ``nice``: added to its niceness."""

        def place() -> None:
            if cpus is not None:
                os.sched_setaffinity(0, cpus)
            if nice:
                os.nice(nice)

        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop them in order
            preexec_fn=place if cpus is not None or nice else None,
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


@dataclass(frozen=True)
class Placement:
    """Which cores the servers measured (the bus, the bare server) run on, and which the
    rest (h2load, the mock registries, this script's own callers) run on: apart, so the
    rig's own work never competes with the server it measures, and each server has one
    core, as one worker does. None: not pinned (one core only, or ``--no-pin``)."""

    servers: frozenset[int] | None = None
    rest: frozenset[int] | None = None

    @classmethod
    def choose(cls, pin: bool, cores: Collection[int]) -> Placement:
        ordered = sorted(cores)
        if not pin or len(ordered) < 2:
            return cls()
        return cls(frozenset(ordered[:1]), frozenset(ordered[1:]))

    def for_workers(self, workers: int) -> frozenset[int] | None:
        """The cores of ``workers`` bus workers: as many as there are workers when that
        leaves the rest at least one; else None (the workers share every core)."""
        if self.servers is None or self.rest is None:
            return None
        cores = sorted(self.servers | self.rest)
        return frozenset(cores[:workers]) if workers < len(cores) else None

    def text(self, workers: int = 1) -> str:
        if self.servers is None or self.rest is None:
            return "not pinned: every process on any core"
        servers = self.servers if workers <= 1 else self.for_workers(workers)
        if servers is None:
            return f"{workers} workers on every core, with the load and the mocks"
        who = "the bus and the bare server" if workers <= 1 else f"the {workers} bus workers"
        return (
            f"{who} on cpu {_cpus(servers)}; h2load, the mock registries and the bench's own"
            f" callers on cpu {_cpus(self.rest - servers)}"
        )


def _cpus(cores: Collection[int]) -> str:
    return ",".join(str(c) for c in sorted(cores)) or "-"


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


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[0] == pid:
                found.append(int(entry))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children(current))
    return tree


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (``/proc/PID/status``); 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RssSampler:
    """VmRSS of a process and its children, summed, every ``every`` seconds, in a thread
    of its own (so a busy event loop does not thin the samples); times are
    ``time.perf_counter()``."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid = pid
        self.every = every
        self.samples: list[tuple[float, int]] = []  # (perf_counter, KiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tree: list[int] = []
        n = 0
        while not self._stop.is_set():
            if n % 25 == 0:  # a worker may come or go; looking for them costs more than VmRSS
                tree = descendants(self.pid)
            n += 1
            self.samples.append((time.perf_counter(), sum(rss_kib(p) for p in tree)))
            self._stop.wait(self.every)

    def peak(self, start: float, end: float) -> int:
        """The highest sample taken from ``start`` to ``end`` (KiB); 0 if none."""
        return max((kib for t, kib in self.samples if start <= t <= end), default=0)


# configurations the bench derives from the one `regbus mocks` writes ---------------------------

DEFAULT_POLICY = Policy()
SHORT_TIMEOUT = 0.5  # [policy] timeout of the runs where the registry's own timeout must fire


def policy_label(timeout: float) -> str:
    if timeout == DEFAULT_POLICY.timeout:
        return f"default policy, attempt timeout {timeout:g} s"
    return f"[policy] timeout = {timeout:g} s"


def written_mocks_addr(config: Path) -> str:
    """host:port of the mock registries a configuration ``regbus mocks`` wrote points at."""
    data = tomllib.loads(config.read_text("utf-8"))
    return str(urlsplit(next(iter(data["registries"].values()))["url"]).netloc)


def derived_config(
    base: str,
    *,
    server: Mapping[str, object] | None = None,
    tables: Mapping[str, Mapping[str, object]] | None = None,
) -> str:
    """``base`` (a configuration ``regbus mocks`` wrote) with keys added to ``[server]`` and
    tables appended: ``{"policy": {"timeout": 0.5}}`` gives ``[policy]`` / ``timeout = 0.5``."""
    from regbus.bus.config import toml_value

    added = "".join(f"{key} = {toml_value(value)}\n" for key, value in (server or {}).items())
    lines = base.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.strip() == "[server]"), None)
    if at is None:
        text = (f"[server]\n{added}\n" if added else "") + base
    else:
        text = "".join([*lines[: at + 1], added, *lines[at + 1 :]])
    for name, table in (tables or {}).items():
        text += f"\n[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
    return text


# per-worker counters (`regbus serve --workers N`) ----------------------------------------------


def worker_processes(supervisor: int) -> dict[int, int]:
    """The workers of a ``regbus serve --workers N`` supervisor: pid -> worker index."""
    found = {}
    for pid in children(supervisor):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--worker" in argv:
            with contextlib.suppress(IndexError, ValueError):
                found[pid] = int(argv[argv.index(b"--worker") + 1])
    return found


def metrics_folder(pid: int) -> Path | None:
    """Where a worker writes its metrics (its ``PROMETHEUS_MULTIPROC_DIR``)."""
    from regbus.monitoring.metrics import MULTIPROC_ENV

    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        key, _, value = entry.decode("utf-8", "replace").partition("=")
        if key == MULTIPROC_ENV and value:
            return Path(value)
    return None


def worker_counters(folder: Path | None, pid: int, registry: str) -> Counter[str]:
    """One worker's own ``regbus_requests_total`` (``requests/OUTCOME``) and
    ``regbus_registry_attempts_total`` (``attempts/OUTCOME``) for ``registry``, from its
    file in the multiprocess folder (``/metrics`` shows only the sum over workers)."""
    from prometheus_client.multiprocess import MultiProcessCollector

    counts: Counter[str] = Counter()
    path = None if folder is None else folder / f"counter_{pid}.db"
    if path is None or not path.exists():
        return counts
    names = {"regbus_requests_total": "requests", "regbus_registry_attempts_total": "attempts"}
    for metric in MultiProcessCollector.merge([str(path)], accumulate=False):
        for sample in metric.samples:
            kind = names.get(sample.name)
            if kind and sample.labels.get("registry") == registry:
                counts[f"{kind}/{sample.labels.get('outcome', '')}"] += int(sample.value)
    return counts


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


async def settled_outcomes(http_port: int, registry: str = "") -> Counter[tuple[str, str]]:
    """The counters once calls cut off by the end of a run are counted (the bus counts a
    cancelled call when it notices), or after 3 s. With ``registry``, only its counters need
    to settle (another registry's callers may keep calling meanwhile)."""

    def watched(counts: Counter[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {k: n for k, n in counts.items() if not registry or k[0] == registry}

    counts = await bus_outcomes(http_port)
    for _ in range(30):
        await asyncio.sleep(0.1)
        again = await bus_outcomes(http_port)
        if watched(again) == watched(counts):
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


class SteadyLoad:
    """``callers`` tasks each calling ``request`` one call after another until the block
    ends; the start time and duration of every OK call (``time.perf_counter()``)."""

    def __init__(
        self, stub: bus_pb2_grpc.RegistryBusStub, request: bus_pb2.QueryRequest, callers: int
    ) -> None:
        self.stub = stub
        self.request = request
        self.callers = callers
        self.times: list[tuple[float, float]] = []
        self.failed: Counter[str] = Counter()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> SteadyLoad:
        self._tasks = [asyncio.create_task(self._caller()) for _ in range(self.callers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _caller(self) -> None:
        while not self._stopping.is_set():
            started = time.perf_counter()
            try:
                await self.stub.Query(self.request, timeout=10)
            except grpc.aio.AioRpcError as exc:
                self.failed[outcome(exc)] += 1
                continue
            self.times.append((started, time.perf_counter() - started))

    def between(self, start: float, end: float) -> list[float]:
        """Durations of the OK calls started from ``start`` to ``end``."""
        return [seconds for t, seconds in self.times if start <= t <= end]


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
    short_timeout: float = SHORT_TIMEOUT  # [policy] timeout, below hang_deadline
    huge: bool = True
    huge_mb: float = 50.0
    huge_calls: int = 5
    huge_rounds: int = 5
    steady_callers: int = 8  # vehicles callers around the huge answers
    steady_seconds: float = 5.0  # vehicles measured before the huge answers
    breaker_store: str = "redis://127.0.0.1:6379/0"  # "" skips the shared-breaker run
    shared_seconds: float = 5.0
    shared_connections: int = 16
    compose_registry_ms: float = 20.0  # Compose again with its registries this slow; 0: not
    pin: bool = True  # the measured server on a core of its own (Placement)


@dataclass
class Report:
    settings: dict[str, Any]
    throughput: list[dict[str, Any]] = field(default_factory=list)
    latency: list[dict[str, Any]] = field(default_factory=list)
    compose: dict[str, Any] | None = None  # the mocks answering at once
    compose_slow_registries: dict[str, Any] | None = None  # each part's registry slow=MS
    isolation: dict[str, Any] | None = None  # default policy
    fail_fast: dict[str, Any] | None = None
    isolation_short_timeout: dict[str, Any] | None = None  # [policy] timeout = short_timeout
    fail_fast_short_timeout: dict[str, Any] | None = None
    huge: dict[str, Any] | None = None
    shared_breakers: dict[str, Any] | None = None
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
        self.placement = Placement.choose(settings.pin, os.sched_getaffinity(0))
        self.report = Report(
            settings={
                "connections": settings.load.connections,
                "streams": settings.load.streams,
                "duration_s": settings.load.duration,
                "requests": None if settings.load.duration else settings.load.requests,
                "warmup_s": settings.load.warmup,
                "h2load_threads": settings.load.threads,
                "cpus": os.cpu_count(),
                "placement": self.placement.text(),
                "python": sys.version.split()[0],
                "grpcio": grpc.__version__,
            }
        )

    # servers ----------------------------------------------------------------------------------

    async def start_mocks(self) -> None:
        self.mocks_addr = await self._start_mocks("mocks", self.config)

    async def _start_mocks(self, name: str, config: Path, *options: str, nice: int = 0) -> str:
        """``regbus mocks`` writing ``config``; the address they answer on."""
        self.procs.start(
            name,
            regbus_argv("mocks", "--port", "0", "--write-config", str(config), *options),
            nice=nice,
        )

        async def ready() -> str:
            addr = written_mocks_addr(config)  # OSError/ValueError: not yet
            import aiohttp

            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://{addr}/_faults", timeout=aiohttp.ClientTimeout(2)) as answer,
            ):
                if answer.status != 200:
                    raise ValueError(f"/_faults answered {answer.status}")
            return addr

        return str(await wait_ready(f"mock registries ({name})", ready, self.procs, [name]))

    async def start_bus(
        self, name: str, workers: int = 0, config: Path | None = None
    ) -> tuple[int, int]:
        grpc_port, http_port = free_port(), free_port()
        argv = regbus_argv(
            "serve", "--config", str(config or self.config),
            "--grpc-port", str(grpc_port), "--http-port", str(http_port),
        )  # fmt: skip
        if workers:
            argv += ["--workers", str(workers)]
        cpus = self.placement.for_workers(workers) if workers > 1 else self.placement.servers
        self.procs.start(name, argv, cpus)
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
            self.placement.servers,
        )
        probe = self.s.scenarios[0].request()

        async def ready() -> object:
            async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
                return await bus_pb2_grpc.RegistryBusStub(channel).Query(probe, timeout=5)

        await wait_ready("bare grpc.aio server", ready, self.procs, ["bare"])
        return port

    async def fault(self, registry: str, mode: str, addr: str = "") -> None:
        """What ``regbus fault REGISTRY MODE --mocks ADDR`` does (``PUT /_faults/REGISTRY``),
        without starting a Python process on a machine that is busy being measured."""
        import aiohttp

        url = f"http://{addr or self.mocks_addr}/_faults/{registry}"
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.put(url, data=mode, timeout=aiohttp.ClientTimeout(10)) as answer,
            ):
                text = await answer.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise BenchError(f"regbus fault {registry} {mode}: {exc}") from exc
        if answer.status != 200:
            raise BenchError(f"regbus fault {registry} {mode}: HTTP {answer.status} {text}")

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
        counted = await settled_outcomes(http_port, registry)
        run = await self.s.load.run(port, body, cpu_of=cpu_of)
        run.outcomes = outcome_delta(counted, await settled_outcomes(http_port, registry), registry)
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

    async def compose(self, bus_port: int, registry_ms: float = 0.0) -> None:
        """Compose of COMPOSE_PARTS against each part alone, sequential calls; with
        ``registry_ms``, every part's registry first set to answer that much later
        (``slow=MS``), as a registry across a network does."""
        if not registry_ms:
            await self._compose(bus_port, 0.0)
            return
        registries = sorted({r for r, _ in COMPOSE_PARTS})
        for registry in registries:
            await self.fault(registry, f"slow={registry_ms:g}")
        try:
            await self._compose(bus_port, registry_ms)
        finally:
            for registry in registries:
                await self.fault(registry, "ok")

    async def _compose(self, bus_port: int, registry_ms: float) -> None:
        parts = [bus_pb2.ComposeRequest.Part(registry=r, operation=o) for r, o in COMPOSE_PARTS]
        composed = bus_pb2.ComposeRequest(parts=parts, params={"iin": SUBJECT_IIN}, context=CONTEXT)
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
                    registry=registry,
                    operation=operation,
                    params={"iin": SUBJECT_IIN},
                    context=CONTEXT,
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
        figures = {
            "registry_ms": registry_ms,
            "calls": self.s.compose_calls,
            "parts": list(p50s),
            "slowest_part": slowest,
            "compose_over_slowest_p50": round(_p50(times[0]) / p50s[slowest], 3),
            "compose_over_sum_of_parts_p50": round(_p50(times[0]) / sum(p50s.values()), 3),
        }
        if registry_ms:
            self.report.compose_slow_registries = figures
        else:
            self.report.compose = figures
        progress(compose_line(figures))

    async def isolation(
        self,
        bus_port: int,
        http_port: int,
        bare_port: int,
        *,
        bus_name: str = "bus",
        policy_timeout: float = DEFAULT_POLICY.timeout,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Vehicles while gbdfl hangs, then fail fast (None when no call was refused).

        ``policy_timeout`` is the bus's attempt timeout (``[policy] timeout``) in the
        configuration ``bus_name`` runs with: the label of the figures.
        """
        load, body = self.s.load, self.bodies["vehicles"]
        pids = {"bus": self.procs.running[bus_name].pid, "mocks": self.procs.running["mocks"].pid}
        await load.run(bus_port, body, warmup=True)
        healthy = await self.load_bus(bus_port, http_port, "vehicles", pids)

        person = bus_pb2.QueryRequest(
            registry="gbdfl", operation="get_person", params={"iin": SUBJECT_IIN}, context=CONTEXT
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
                fail_fast = await self.fail_fast(stub, person, bare_port, policy_timeout)
        finally:
            await self.fault("gbdfl", "ok")
        self._check_outcomes(healthy)
        self._check_outcomes(hanging)
        where = f"isolation ({policy_label(policy_timeout)})"
        for problem in healthy.problems:
            self.report.fail(f"{where}, vehicles healthy: {problem}")
        for problem in hanging.problems:
            self.report.fail(f"{where}, vehicles while gbdfl hangs: {problem}")
        isolation = {
            "policy_timeout_s": policy_timeout,
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
        progress(isolation_line(isolation))
        if fail_fast:
            progress(fail_fast_line(fail_fast))
        return isolation, fail_fast

    async def fail_fast(
        self,
        stub: bus_pb2_grpc.RegistryBusStub,
        person: bus_pb2.QueryRequest,
        bare_port: int,
        policy_timeout: float,
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
            why = (
                f": the callers' {self.s.hang_deadline:g} s deadlines cut gbdfl's attempts before"
                f" its own {policy_timeout:g} s timeout, and such calls are not charged to the"
                " registry (by design)"
                if self.s.hang_deadline <= policy_timeout
                else ""
            )
            self.report.note(
                f"fail fast ({policy_label(policy_timeout)}): no call was refused by an open"
                f" breaker ({dict(ended)}){why}; skipped"
            )
            return None
        return {
            "policy_timeout_s": policy_timeout,
            "calls": calls,
            "ended": dict(ended.most_common()),
            "open_breaker_p50_over_bare_p50": round(_p50(refused) / _p50(bare_t), 3),
            "open_breaker_p50_ms": round(_p50(refused) * 1e3, 3),
            "deadline_s": self.s.hang_deadline,
        }

    # huge answers -----------------------------------------------------------------------------

    async def huge(self) -> None:
        """Vehicles under a steady load from ``steady_callers`` Python callers; then gbdfl
        answers ``huge_mb`` MB and ``huge_calls`` concurrent gbdfl calls are made
        ``huge_rounds`` times in a row. How they ended, the bus's peak RSS against its peak
        before, and vehicles' p50 during them against before.

        A bus of its own (one process), with gbdfl's breaker held closed: ANSWER_TOO_LARGE
        is charged to the registry, so under the default policy the breaker opens after the
        first ``fail_max`` calls and the later rounds would be refused without reading
        anything, which is not what is measured here.
        """
        from regbus.bus.client import failure
        from regbus.bus.config import ConfigError, load_config

        s = self.s
        # gbdfl from mock registries of their own, at a lower priority, as a registry on
        # a machine of its own: streaming the huge answers must not hold up the vehicles
        # mock and callers, whose latency is measured, only the bus may.
        apart = await self._start_mocks(
            "mocks-gbdfl", self.work / "regbus-gbdfl-mocks.toml", "--population", "0", nice=10
        )
        base = self.config.read_text("utf-8")
        moved = base.replace(f"http://{self.mocks_addr}/gbdfl/", f"http://{apart}/gbdfl/")
        if moved == base:
            raise BenchError(f"huge answers: no gbdfl URL at {self.mocks_addr} to move")
        config = self.work / "regbus-huge.toml"
        never = 1_000_000
        config.write_text(
            derived_config(
                moved,
                tables={
                    "registries.gbdfl.policy.breaker": {
                        "fail_max": never, "window": never, "min_calls": never
                    }
                },
            ),
            "utf-8",
        )  # fmt: skip
        try:
            limit = load_config(config).registries["gbdfl"].endpoint.max_answer_bytes
        except (ConfigError, KeyError) as exc:
            raise BenchError(f"huge answers: cannot derive the configuration: {exc}") from exc
        port, _ = await self.start_bus("bus-huge", config=config)
        pid = self.procs.running["bus-huge"].pid
        vehicles = next(sc for sc in SCENARIOS if sc.key == "vehicles").request()
        person = bus_pb2.QueryRequest(
            registry="gbdfl", operation="get_person", params={"iin": SUBJECT_IIN}, context=CONTEXT
        )
        ended: Counter[str] = Counter()

        async def gbdfl_call(stub: bus_pb2_grpc.RegistryBusStub) -> None:
            try:
                await stub.Query(person, timeout=10)
                ended["OK"] += 1
            except grpc.aio.AioRpcError as exc:
                ended[failure(exc).reason or exc.code().name] += 1

        try:
            async with grpc.aio.insecure_channel(f"{HOST}:{port}") as channel:
                stub = bus_pb2_grpc.RegistryBusStub(channel)
                with RssSampler(pid) as rss:
                    async with SteadyLoad(stub, vehicles, s.steady_callers) as load:
                        await asyncio.sleep(s.load.warmup)
                        normal = (time.perf_counter(), 0.0)
                        await asyncio.sleep(s.steady_seconds)
                        normal = (normal[0], time.perf_counter())
                        await self.fault("gbdfl", f"huge={s.huge_mb:g}", apart)
                        try:
                            started = time.perf_counter()
                            for _ in range(s.huge_rounds):
                                await asyncio.gather(
                                    *(gbdfl_call(stub) for _ in range(s.huge_calls))
                                )
                            finished = time.perf_counter()
                            await asyncio.sleep(0.1)  # memory the last round takes late
                            tail = time.perf_counter()
                        finally:
                            await self.fault("gbdfl", "ok", apart)
            self.procs.check("bus-huge")
        finally:
            self.procs.stop("bus-huge")
            self.procs.stop("mocks-gbdfl")

        baseline, peak = rss.peak(*normal), rss.peak(started, tail)
        before, during = load.between(*normal), load.between(started, finished)
        calls = s.huge_calls * s.huge_rounds
        if load.failed:
            self.report.fail(f"huge answers: vehicles calls failed: {dict(load.failed)}")
        if ended["OK"]:
            self.report.fail(
                f"huge answers: the bus passed on {ended['OK']} answer(s) of {s.huge_mb:g} MB"
                f" (limit {limit} bytes)"
            )
        if not before:
            self.report.fail("huge answers: no vehicles call answered before the huge answers")
        self.report.huge = {
            "answer_mb": s.huge_mb,
            "concurrent_calls": s.huge_calls,
            "rounds": s.huge_rounds,
            "calls": calls,
            "max_answer_bytes": limit,
            "gbdfl_breaker": "held closed (fail_max, window and min_calls 1000000)",
            "gbdfl_calls_ended": dict(ended.most_common()),
            "refused_answer_too_large": ended["ANSWER_TOO_LARGE"],
            "huge_phase_s": round(finished - started, 3),
            "bus_rss_baseline_mb": round(baseline / 1024, 1),
            "bus_rss_peak_mb": round(peak / 1024, 1),
            "bus_rss_growth_mb": round((peak - baseline) / 1024, 1),
            "rss_samples_huge": sum(1 for t, _ in rss.samples if started <= t <= tail),
            "vehicles_callers": s.steady_callers,
            "vehicles_calls_normal": len(before),
            "vehicles_calls_huge": len(during),
            "vehicles_p50_normal_ms": round(_p50(before) * 1e3, 3) if before else None,
            "vehicles_p50_huge_ms": round(_p50(during) * 1e3, 3) if during else None,
            "vehicles_huge_over_normal_p50": round(_p50(during) / _p50(before), 3)
            if before and during
            else None,
        }
        progress(huge_line(self.report.huge))

    # workers sharing breakers through Redis ------------------------------------------------------

    async def shared_breakers(self) -> None:
        """``regbus serve --workers N`` with breakers in Redis and ``[policy] timeout =
        short_timeout``; gbdfl hangs. Its breaker is opened through one connection (so one
        worker), then ``hang_callers`` callers over ``shared_connections`` connections (all
        workers) call it for ``shared_seconds``: how their calls ended, and per worker how
        many it refused with CIRCUIT_OPEN and how many attempts of its own timed out."""
        from regbus.circuit.store import RedisStore

        s = self.s
        prefix = f"regbus-bench:{uuid.uuid4().hex}:"
        store = RedisStore.from_url(s.breaker_store, prefix=prefix, timeout=1.0)
        try:
            try:
                await store.client.ping()
            except Exception as exc:  # redis's errors, OSError
                self.report.note(
                    f"shared breakers: Redis is not reachable at {s.breaker_store}"
                    f" ({type(exc).__name__}: {exc}); skipped"
                )
                return
            config = self.work / "regbus-shared.toml"
            config.write_text(
                derived_config(
                    self.config.read_text("utf-8"),
                    server={"breaker_store": s.breaker_store, "breaker_prefix": prefix},
                    tables={"policy": {"timeout": s.short_timeout}},
                ),
                "utf-8",
            )
            await self._shared_breakers(config, store)
        finally:
            with contextlib.suppress(Exception):
                keys = [key async for key in store.client.scan_iter(match=prefix + "*")]
                if keys:
                    await store.client.delete(*keys)
            await store.aclose()

    async def _shared_breakers(self, config: Path, store: Any) -> None:
        from regbus.bus.client import failure
        from regbus.bus.server import BREAKER_SYNC_INTERVAL

        s = self.s
        port, _ = await self.start_bus("bus-shared", workers=s.workers, config=config)
        supervisor = self.procs.running["bus-shared"].pid
        workers = worker_processes(supervisor)
        folder = next((f for f in map(metrics_folder, workers) if f is not None), None)
        person = bus_pb2.QueryRequest(
            registry="gbdfl", operation="get_person", params={"iin": SUBJECT_IIN}, context=CONTEXT
        )
        # A channel of its own per connection: channels with the same target and options
        # would share one subchannel, hence one connection, hence one worker.
        options = [("grpc.use_local_subchannel_pool", 1)]

        async def reason(stub: bus_pb2_grpc.RegistryBusStub) -> str:
            try:
                await stub.Query(person, timeout=s.hang_deadline)
                return "OK"
            except grpc.aio.AioRpcError as exc:
                return str(failure(exc).reason or exc.code().name)

        primed: Counter[str] = Counter()
        ended: Counter[str] = Counter()
        stopping = asyncio.Event()
        channels = [
            grpc.aio.insecure_channel(f"{HOST}:{port}", options=options)
            for _ in range(s.shared_connections)
        ]
        try:
            await self.fault("gbdfl", "hang")
            try:
                first = {pid: worker_counters(folder, pid, "gbdfl") for pid in workers}
                stub = bus_pb2_grpc.RegistryBusStub(channels[0])
                for _ in range(DEFAULT_POLICY.breaker.fail_max + 5):
                    got = await reason(stub)
                    primed[got] += 1
                    if got == "CIRCUIT_OPEN":
                        break
                await asyncio.sleep(3 * BREAKER_SYNC_INTERVAL)  # every worker syncs with Redis
                counted = {pid: worker_counters(folder, pid, "gbdfl") for pid in workers}

                async def caller(stub: bus_pb2_grpc.RegistryBusStub) -> None:
                    while not stopping.is_set():
                        ended[await reason(stub)] += 1

                stubs = [bus_pb2_grpc.RegistryBusStub(c) for c in channels]
                callers = [
                    asyncio.create_task(caller(stubs[i % len(stubs)]))
                    for i in range(s.hang_callers)
                ]
                try:
                    await asyncio.sleep(s.shared_seconds)
                finally:
                    stopping.set()
                    await asyncio.gather(*callers, return_exceptions=True)
                await asyncio.sleep(0.5)  # calls cut off at the end are counted late
                now = {pid: worker_counters(folder, pid, "gbdfl") for pid in workers}
                record = await store.load("gbdfl")
            finally:
                await self.fault("gbdfl", "ok")
            self.procs.check("bus-shared")
        finally:
            await asyncio.gather(*(c.close() for c in channels), return_exceptions=True)
            self.procs.stop("bus-shared")

        per_worker = []
        for pid, index in sorted(workers.items(), key=lambda item: item[1]):
            delta, opening = now[pid] - counted[pid], counted[pid] - first[pid]
            per_worker.append(
                {
                    "worker": index,
                    "pid": pid,
                    "opening_calls": _calls(opening),
                    "opening_registry_timeouts": opening["attempts/timeout"],
                    "refused_circuit_open": delta["requests/circuit_open"],
                    "registry_timeouts": delta["attempts/timeout"],
                    "calls": _calls(delta),
                }
            )
        if folder is None or len(workers) != s.workers:
            self.report.note(
                f"shared breakers: found {len(workers)} of {s.workers} workers"
                f"{'' if folder else ' and no metrics folder'}; per-worker figures incomplete"
            )
        if ended["OK"]:
            self.report.fail(f"shared breakers: {ended['OK']} gbdfl calls answered while it hangs")
        if not primed["CIRCUIT_OPEN"]:
            self.report.note(
                f"shared breakers: gbdfl's breaker did not open through one connection"
                f" ({dict(primed)})"
            )
        total = sum(ended.values())
        self.report.shared_breakers = {
            "workers": s.workers,
            "breaker_store": s.breaker_store,
            "policy_timeout_s": s.short_timeout,
            "opening_calls": dict(primed.most_common()),
            "callers": s.hang_callers,
            "connections": s.shared_connections,
            "deadline_s": s.hang_deadline,
            "seconds": s.shared_seconds,
            "calls": total,
            "circuit_open": ended["CIRCUIT_OPEN"],
            "other": total - ended["CIRCUIT_OPEN"],
            "calls_ended": dict(ended.most_common()),
            "every_worker_refused": bool(per_worker)
            and len(per_worker) == s.workers
            and all(w["refused_circuit_open"] > 0 for w in per_worker),
            "per_worker": per_worker,
            "redis_record": None if record is None else record.state,
        }
        progress(shared_line(self.report.shared_breakers))

    # the whole run ------------------------------------------------------------------------------

    async def run(self) -> Report:
        s = self.s
        if self.placement.rest is not None:  # what this script starts runs there too
            os.sched_setaffinity(0, self.placement.rest)
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
            if s.compose_registry_ms:
                await self.compose(bus_port, s.compose_registry_ms)
        has_vehicles = any(sc.key == "vehicles" for sc in s.scenarios)
        if s.isolation and not has_vehicles:
            self.report.note("isolation needs the vehicles scenario; skipped")
        elif s.isolation:
            self.report.isolation, self.report.fail_fast = await self.isolation(
                bus_port, http_port, bare_port
            )
        self.procs.stop("bus")
        if s.isolation and has_vehicles:  # again, the registry's own timeout inside the deadlines
            short = self.work / "regbus-short-timeout.toml"
            short.write_text(
                derived_config(
                    self.config.read_text("utf-8"), tables={"policy": {"timeout": s.short_timeout}}
                ),
                "utf-8",
            )
            port, http = await self.start_bus("bus-short-timeout", config=short)
            await self.check_bodies(port, f"the bus with [policy] timeout = {s.short_timeout:g}")
            found = await self.isolation(
                port, http, bare_port, bus_name="bus-short-timeout", policy_timeout=s.short_timeout
            )
            self.report.isolation_short_timeout, self.report.fail_fast_short_timeout = found
            self.procs.stop("bus-short-timeout")
        if s.huge:
            await self.huge()

        if s.workers > 1:
            if serve_has_workers():
                port, http = await self.start_bus("bus-workers", workers=s.workers)
                await self.check_bodies(port, f"the bus with {s.workers} workers")
                self.report.note(f"{s.workers} workers: {self.placement.text(s.workers)}")
                await self.throughput(bare_port, port, http, "bus-workers", f"{s.workers}w ")
                self.procs.stop("bus-workers")
                if s.breaker_store:
                    await self.shared_breakers()
                else:
                    self.report.note("shared breakers: no --breaker-store; skipped")
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
        f" run after a {settings['warmup_s']:g} s warm-up run; {settings['cpus']} CPUs,"
        f" {settings.get('placement', 'not pinned')};"
        f" Python {settings['python']}, grpcio {settings['grpcio']}"
    )


def latency_line(row: Mapping[str, Any]) -> str:
    return (
        f"added latency, {row['scenario']}: p50 {row['added_p50_ms']:+.2f} ms"
        f" (bus x{row['bus_over_direct_p50']:.2f} of direct), p99 {row['added_p99_ms']:+.2f} ms"
        f" ({row['calls']} sequential calls each)"
    )


def compose_line(compose: Mapping[str, Any]) -> str:
    registry_ms = compose.get("registry_ms", 0)
    each = (
        f", each registry answering in {registry_ms:g} ms" if registry_ms
        else ", the mocks answering at once"
    )  # fmt: skip
    return (
        f"compose of {len(compose['parts'])} parts ({', '.join(compose['parts'])}{each}): p50"
        f" x{compose['compose_over_slowest_p50']:.2f} of the slowest part alone"
        f" ({compose['slowest_part']}), x{compose['compose_over_sum_of_parts_p50']:.2f} of the"
        f" parts' sum ({compose['calls']} sequential calls each)"
    )


def _policy_of(figures: Mapping[str, Any]) -> str:
    return policy_label(figures.get("policy_timeout_s", DEFAULT_POLICY.timeout))


def isolation_line(isolation: Mapping[str, Any]) -> str:
    ended = ", ".join(f"{k} {v}" for k, v in isolation["gbdfl_calls_ended"].items())
    return (
        f"isolation ({_policy_of(isolation)}): vehicles throughput while gbdfl hangs"
        f" x{_fmt(isolation['vehicles_hanging_over_healthy'], '.3f')} of healthy (bus CPU"
        f" ms/call {_fmt(isolation['cpu_ms_per_vehicles_call_bus_hanging'], '.3f')} vs"
        f" {_fmt(isolation['cpu_ms_per_vehicles_call_bus_healthy'], '.3f')});"
        f" {isolation['gbdfl_callers']} gbdfl callers with {isolation['gbdfl_deadline_s']:g} s"
        f" deadlines ended: {ended}; {_fmt(isolation['gbdfl_calls_per_vehicles_call'])}"
        " gbdfl calls per vehicles call while measured"
    )


def fail_fast_line(fail_fast: Mapping[str, Any]) -> str:
    return (
        f"fail fast ({_policy_of(fail_fast)}): gbdfl calls refused by its open breaker take"
        f" x{fail_fast['open_breaker_p50_over_bare_p50']:.2f} of a bare-server call (p50"
        f" {fail_fast['open_breaker_p50_ms']:.2f} ms against the callers'"
        f" {fail_fast['deadline_s']:g} s deadline; {fail_fast['calls']} sequential calls)"
    )


def huge_line(huge: Mapping[str, Any]) -> str:
    others = {k: v for k, v in huge["gbdfl_calls_ended"].items() if k != "ANSWER_TOO_LARGE"}
    rest = f" (others: {', '.join(f'{k} {v}' for k, v in others.items())})" if others else ""
    return (
        f"huge answers: {huge['concurrent_calls']} x {huge['answer_mb']:g} MB concurrent,"
        f" {huge['refused_answer_too_large']}/{huge['calls']} refused ANSWER_TOO_LARGE{rest},"
        f" bus peak RSS {huge['bus_rss_growth_mb']:+.0f} MB, vehicles p50"
        f" x{_fmt(huge['vehicles_huge_over_normal_p50'], '.1f')} of normal"
        f" ({huge['rounds']} rounds in {huge['huge_phase_s']:.2f} s, limit"
        f" {huge['max_answer_bytes'] / 2**20:g} MiB, gbdfl's breaker held closed;"
        f" {huge['vehicles_callers']} vehicles callers, {huge['vehicles_calls_huge']} calls"
        f" during, {huge['vehicles_calls_normal']} before)"
    )


def shared_line(shared: Mapping[str, Any]) -> str:
    others = {k: v for k, v in shared["calls_ended"].items() if k != "CIRCUIT_OPEN"}
    rest = ", ".join(f"{k} {v}" for k, v in others.items()) or "none"
    opening = ", ".join(f"{k} {v}" for k, v in shared["opening_calls"].items())
    workers = "; ".join(
        f"worker {w['worker']}: {w['opening_calls']} opening calls"
        f" ({w['opening_registry_timeouts']} registry timeouts), then refused"
        f" {w['refused_circuit_open']} with {w['registry_timeouts']} registry timeouts"
        for w in shared["per_worker"]
    )
    return (
        f"shared breakers ({shared['workers']} workers, Redis, {_policy_of(shared)}): gbdfl"
        f" hangs; opened through one connection ({opening}), then {shared['callers']} callers"
        f" ({shared['deadline_s']:g} s deadlines, {shared['connections']} connections) for"
        f" {shared['seconds']:g} s: {shared['circuit_open']}/{shared['calls']} calls ended"
        f" CIRCUIT_OPEN, other: {rest}; every worker refused with CIRCUIT_OPEN:"
        f" {'yes' if shared['every_worker_refused'] else 'no'} ({workers}); Redis record:"
        f" {shared['redis_record'] or 'none'}"
    )


def summary(report: Report) -> list[str]:
    lines = [setup_line(report.settings), _header()]
    lines += [_row(row) for row in report.throughput]
    lines += [latency_line(row) for row in report.latency]
    for composed in (report.compose, report.compose_slow_registries):
        if composed:
            lines.append(compose_line(composed))
    if report.isolation:
        lines.append(isolation_line(report.isolation))
    if report.fail_fast:
        lines.append(fail_fast_line(report.fail_fast))
    if report.isolation_short_timeout:
        lines.append(isolation_line(report.isolation_short_timeout))
    if report.fail_fast_short_timeout:
        lines.append(fail_fast_line(report.fail_fast_short_timeout))
    if report.huge:
        lines.append(huge_line(report.huge))
    if report.shared_breakers:
        lines.append(shared_line(report.shared_breakers))
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"FAILED: {failure}" for failure in report.failures]
    return lines


def _calls(counts: Mapping[str, int]) -> int:
    """The calls a worker answered, from ``worker_counters``."""
    return sum(n for key, n in counts.items() if key.startswith("requests/"))


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
    add(
        "--compose-registry-ms", type=float, default=20.0, metavar="MS",
        help="measure Compose again with each part's registry answering MS later (20; 0 skips)",
    )  # fmt: skip
    add("--hang-callers", type=int, default=64, metavar="N", help="gbdfl callers (64)")
    add("--hang-deadline", type=float, default=1.0, metavar="S", help="their deadline (1 s)")
    add("--no-isolation", action="store_true", help="skip the isolation and fail-fast part")
    add(
        "--short-timeout", type=float, default=SHORT_TIMEOUT, metavar="S",
        help="[policy] timeout of the second isolation run and the shared-breaker run, below"
        f" --hang-deadline so gbdfl's own timeout fires first ({SHORT_TIMEOUT:g})",
    )  # fmt: skip
    add("--no-huge", action="store_true", help="skip the huge-answers part")
    add("--huge-mb", type=float, default=50.0, metavar="MB", help="gbdfl's huge answer (50)")
    add("--huge-calls", type=int, default=5, metavar="N", help="concurrent huge calls (5)")
    add("--huge-rounds", type=int, default=5, metavar="N", help="of them, in a row (5)")
    add(
        "--steady-callers", type=int, default=8, metavar="N",
        help="vehicles callers around the huge answers (8)",
    )  # fmt: skip
    add(
        "--steady-seconds", type=float, metavar="S",
        help="vehicles measured before the huge answers (5; quick: 2)",
    )  # fmt: skip
    add(
        "--breaker-store", default="redis://127.0.0.1:6379/0", metavar="URL",
        help="Redis for the workers sharing breakers (redis://127.0.0.1:6379/0; '' skips)",
    )  # fmt: skip
    add(
        "--shared-seconds", type=float, metavar="S",
        help="gbdfl callers against the workers sharing breakers (5; quick: 3)",
    )  # fmt: skip
    add(
        "--no-pin", action="store_true",
        help="let every process run on any core (default: the bus and the bare server on"
        " one core, h2load, the mocks and this script on the others)",
    )  # fmt: skip
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
    if not 0 < args.short_timeout < args.hang_deadline:
        raise BenchError(
            f"--short-timeout ({args.short_timeout:g} s) must be above 0 and below --hang-deadline"
            f" ({args.hang_deadline:g} s): gbdfl's own timeout has to fire within the deadlines"
        )
    if args.huge_calls < 1 or args.huge_rounds < 1 or args.huge_mb <= 0:
        raise BenchError("--huge-mb, --huge-calls and --huge-rounds must be above 0")
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
        short_timeout=args.short_timeout,
        huge=not args.no_huge,
        huge_mb=args.huge_mb,
        huge_calls=args.huge_calls,
        huge_rounds=args.huge_rounds,
        steady_callers=args.steady_callers,
        steady_seconds=args.steady_seconds or (2.0 if quick else 5.0),
        breaker_store=args.breaker_store,
        shared_seconds=args.shared_seconds or (3.0 if quick else 5.0),
        pin=not args.no_pin,
        compose_registry_ms=args.compose_registry_ms,
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
