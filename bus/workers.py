"""``regbus serve --workers N``: N bus processes on the same ports, and their supervisor.

The ``regbus serve`` process becomes a small supervisor. It

* makes a private temporary folder and points every worker's ``PROMETHEUS_MULTIPROC_DIR``
  at a folder in it, so that a scrape of ``/metrics`` on any worker returns the sum over
  all of them (``monitoring.metrics``);
* without ``--config``, runs the built-in mock registries itself, once, and hands the
  workers their endpoints in a file in that folder;
* checks that no one else listens on the gRPC and HTTP ports, starts the first worker,
  learns the ports it bound (they may have been 0), then starts the others on the same
  ports: each worker binds them with ``SO_REUSEPORT`` and the kernel spreads new
  connections over the workers;
* restarts a worker that dies, after a back-off that doubles with every quick death
  (``BACKOFF_INITIAL`` to ``BACKOFF_MAX``), and drops the dead worker's live gauges
  (``multiprocess.mark_process_dead``);
* on SIGTERM or SIGINT sends SIGTERM to every worker, waits while they finish the calls
  in flight (``[server] grace``, killing a worker still there ``KILL_MARGIN`` seconds
  later), stops the mocks, removes its folder and exits 0.

A worker is ``regbus serve --worker INDEX ...`` (hidden options): the single-process bus
with its ports shared, writing one ready line (``READY``) to its standard output once it
serves. It stops with its supervisor (``PR_SET_PDEATHSIG`` on Linux).

Each worker has its own circuit breakers, bulkheads and recent-call statistics: what one
worker learns about a failing registry the others learn for themselves, unless the
breakers keep their state in a shared breaker store.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from regbus.adapters.base import Endpoint
from regbus.bus.config import Config
from regbus.monitoring.metrics import MULTIPROC_ENV, mark_process_dead

log = logging.getLogger("regbus.workers")

READY = "regbus-worker-ready"
BACKOFF_INITIAL = 0.5  # seconds before restarting a worker that died
BACKOFF_MAX = 30.0
STABLE_AFTER = 30.0  # a worker that lived this long starts the back-off afresh when it dies
START_TIMEOUT = 60.0  # a worker not serving by then is killed
KILL_MARGIN = 10.0  # seconds past the grace before a worker that does not stop is killed


class WorkerFailed(Exception):
    """A worker exited, or never said it was ready, while starting."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Ready:
    """What a worker reports once it serves."""

    pid: int
    grpc_port: int
    http_port: int
    registries: tuple[str, ...]

    def line(self) -> str:
        body = {
            "pid": self.pid,
            "grpc_port": self.grpc_port,
            "http_port": self.http_port,
            "registries": list(self.registries),
        }
        return f"{READY} {json.dumps(body)}\n"

    @classmethod
    def parse(cls, line: str) -> Ready | None:
        word, _, rest = line.strip().partition(" ")
        if word != READY:
            return None
        body = json.loads(rest)
        return cls(
            pid=int(body["pid"]),
            grpc_port=int(body["grpc_port"]),
            http_port=int(body["http_port"]),
            registries=tuple(body["registries"]),
        )


# the worker's side ------------------------------------------------------------------------


def write_endpoints(path: Path, endpoints: Mapping[str, Endpoint]) -> None:
    """The built-in mocks' endpoints, for the workers (``read_endpoints``)."""
    body = {
        registry: asdict(replace(e, options=dict(e.options))) for registry, e in endpoints.items()
    }
    path.write_text(json.dumps(body), "utf-8")


def read_endpoints(path: Path) -> dict[str, Endpoint]:
    body: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return {registry: Endpoint(**fields) for registry, fields in body.items()}


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its supervisor dies (Linux only), so
    a supervisor killed with SIGKILL leaves no workers serving behind it."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    if os.getppid() != parent:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


# the supervisor ---------------------------------------------------------------------------


@dataclass
class _Slot:
    index: int
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    quick_deaths: int = 0
    output: asyncio.Task[None] | None = None


class Supervisor:
    """Runs ``count`` workers on the same ports; see the module's description.

    ``command`` is the command line of a worker without the options the supervisor adds
    (``--worker``, ``--supervisor-pid``, ``--host``, the ports and the endpoints file).
    """

    def __init__(
        self,
        config: Config,
        count: int,
        command: Sequence[str],
        *,
        folder: Path,
        endpoints: Path | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.config = config
        self.count = count
        self.command = list(command)
        self.folder = folder
        self.metrics_dir = folder / "metrics"
        self.metrics_dir.mkdir(exist_ok=True)
        self.endpoints = endpoints
        self.grpc_port = config.server.grpc_port
        self.http_port = config.server.http_port
        self.registries: tuple[str, ...] = ()
        self._slots = [_Slot(i) for i in range(count)]
        self._stopping = stopping or asyncio.Event()
        self._watchers: list[asyncio.Task[None]] = []

    def stop(self) -> None:
        """Begin a graceful stop (the signal handlers call this)."""
        self._stopping.set()

    def pids(self) -> list[int]:
        """The workers running now."""
        return [
            s.process.pid
            for s in self._slots
            if s.process is not None and s.process.returncode is None
        ]

    async def start(self) -> bool:
        """Start every worker; False when a stop came first. ``WorkerFailed`` when one
        could not start (the others are stopped again)."""
        host = self.config.server.host
        for port, what, option in (
            (self.grpc_port, "gRPC", "--grpc-port or [server] grpc_port"),
            (self.http_port, "HTTP", "--http-port or [server] http_port"),
        ):
            check_port_free(host, port, what, option)
        try:
            first = await self._start(self._slots[0])
            if first is None:
                return False
            self.grpc_port, self.http_port = first.grpc_port, first.http_port
            self.registries = first.registries
            rest = await asyncio.gather(
                *(self._start(s) for s in self._slots[1:]), return_exceptions=True
            )
            for result in rest:
                if isinstance(result, BaseException):
                    raise result
            if any(r is None for r in rest):
                return False
        except BaseException:
            await self.shutdown()
            raise
        self._watchers = [asyncio.create_task(self._watch(s)) for s in self._slots]
        return True

    async def run(self) -> int:
        """Watch the workers until ``stop``; then stop them. The exit code: 0 when every
        worker stopped by itself, 1 when one had to be killed."""
        await self._stopping.wait()
        log.info(
            "stopping: %d workers finish the calls in flight (up to %.0fs)",
            len(self.pids()),
            self.config.server.grace,
        )
        return await self.shutdown()

    async def shutdown(self) -> int:
        self._stopping.set()
        for task in self._watchers:
            task.cancel()
        # A watcher cancelled while starting a worker leaves it in its slot, signalled below.
        await asyncio.gather(*self._watchers, return_exceptions=True)
        live = [s.process for s in self._slots if s.process is not None]
        for process in live:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        code = 0
        if live:
            waiting = asyncio.gather(*(p.wait() for p in live))
            try:
                await asyncio.wait_for(waiting, self.config.server.grace + KILL_MARGIN)
            except TimeoutError:
                code = 1
                for process in live:
                    if process.returncode is None:
                        log.error("worker pid %d did not stop in time; killing it", process.pid)
                        with contextlib.suppress(ProcessLookupError):
                            process.kill()
                await asyncio.gather(*(p.wait() for p in live))
        for slot in self._slots:
            if slot.process is not None:
                mark_process_dead(slot.process.pid, str(self.metrics_dir))
            if slot.output is not None:
                await slot.output
        return code

    def _argv(self, slot: _Slot) -> list[str]:
        argv = [
            *self.command,
            "--worker",
            str(slot.index),
            "--supervisor-pid",
            str(os.getpid()),
            "--host",
            self.config.server.host,
            "--grpc-port",
            str(self.grpc_port),
            "--http-port",
            str(self.http_port),
        ]
        if self.endpoints is not None:
            argv += ["--worker-endpoints", str(self.endpoints)]
        return argv

    async def _start(self, slot: _Slot) -> Ready | None:
        """Start the slot's worker and wait until it serves; None when a stop came first."""
        env = {k: v for k, v in os.environ.items() if k.lower() != MULTIPROC_ENV.lower()}
        env[MULTIPROC_ENV] = str(self.metrics_dir)
        process = await asyncio.create_subprocess_exec(
            *self._argv(slot),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        slot.process = process
        slot.started = time.monotonic()
        assert process.stdout is not None
        ready_task = asyncio.create_task(_read_ready(process.stdout))
        stop_task = asyncio.create_task(self._stopping.wait())
        try:
            done, _ = await asyncio.wait(
                {ready_task, stop_task},
                timeout=START_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
        except BaseException:
            ready_task.cancel()
            raise
        finally:
            stop_task.cancel()
        if ready_task not in done:
            ready_task.cancel()
            if not done:  # neither ready nor stopping: it hangs
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                raise WorkerFailed(f"worker {slot.index} did not start in {START_TIMEOUT:.0f}s")
            return None
        ready = ready_task.result()
        if ready is None:  # its output ended: it exited
            code = await process.wait()
            raise WorkerFailed(
                f"worker {slot.index} exited while starting ({describe_exit(code)})",
                code if code > 0 else 1,
            )
        slot.output = asyncio.create_task(_forward(process.stdout))
        return ready

    async def _watch(self, slot: _Slot) -> None:
        """Restart the slot's worker whenever it dies, until the supervisor stops."""
        while True:
            process = slot.process
            assert process is not None
            code = await process.wait()
            if self._stopping.is_set():
                return
            mark_process_dead(process.pid, str(self.metrics_dir))
            lived = time.monotonic() - slot.started
            if lived >= STABLE_AFTER:
                slot.quick_deaths = 0
            delay = min(BACKOFF_INITIAL * 2**slot.quick_deaths, BACKOFF_MAX)
            slot.quick_deaths += 1
            log.warning(
                "worker %d (pid %d) died (%s) after %.1fs; restarting it in %.1fs",
                slot.index,
                process.pid,
                describe_exit(code),
                lived,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            try:
                ready = await self._start(slot)
            except WorkerFailed as exc:
                log.error("%s", exc)
                continue
            if ready is None:
                return
            log.info("worker %d restarted (pid %d)", slot.index, ready.pid)


async def _read_ready(stream: asyncio.StreamReader) -> Ready | None:
    """The worker's ready line; None when its output ends first. Anything else it writes
    to standard output is passed on."""
    while line := await stream.readline():
        ready = Ready.parse(line.decode("utf-8", "replace"))
        if ready is not None:
            return ready
        sys.stdout.write(line.decode("utf-8", "replace"))
    return None


async def _forward(stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        sys.stdout.write(line.decode("utf-8", "replace"))


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def check_port_free(host: str, port: int, what: str, option: str) -> None:
    """``OSError`` when something already listens on ``host:port``.

    The workers bind with ``SO_REUSEPORT``, so they would share a port with another
    process that did the same; this bind without it fails instead. Port 0 is always free.
    """
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return  # the worker says what is wrong with the address
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(
                        f"cannot listen for {what} on {host}:{port}: the port is in use"
                        f" (choose another with {option})"
                    ) from exc


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A fresh temporary folder the supervisor owns, removed when it is done."""
    folder = Path(tempfile.mkdtemp(prefix="regbus-workers-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
