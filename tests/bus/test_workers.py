"""``regbus serve --workers N``: a supervisor and N real worker processes on shared ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from regbus.bus.config import ConfigError, parse_config
from regbus.bus.workers import Ready, check_port_free, describe_exit
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import request_context
from tests.test_cli import regbus

ARMAN = "850314354052"
WAIT = 60.0  # upper bound on any wait; nothing here is timed


class Running:
    """A ``regbus`` process and what it has logged so far."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode("utf-8", "replace"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, pattern: str, count: int = 1) -> list[re.Match[str]]:
        """The first ``count`` log lines matching ``pattern``, once there are that many."""
        regex = re.compile(pattern)

        def found() -> list[re.Match[str]]:
            return [m for line in self.lines if (m := regex.search(line))]

        async def wait() -> list[re.Match[str]]:
            async with self._changed:
                while len(found()) < count:
                    if self._reader.done():
                        raise AssertionError(f"{pattern!r} never logged:\n{self.log}")
                    await self._changed.wait()
                return found()[:count]

        try:
            return await asyncio.wait_for(wait(), WAIT)
        except TimeoutError:
            raise AssertionError(f"{pattern!r} not logged in time:\n{self.log}") from None

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def stop(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), WAIT)
        await asyncio.wait_for(self._reader, WAIT)
        return code


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, *args: str) -> AsyncIterator[Running]:
    """``regbus serve ARGS`` with its built-in mocks on free ports, temp files under
    ``tmp_path``; killed at the end if the test has not stopped it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        "serve",
        "--grpc-port",
        "0",
        "--http-port",
        "0",
        "--mocks-port",
        "0",
        "--audit",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    running = Running(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()  # the supervisor's workers follow it (PR_SET_PDEATHSIG)
            await process.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def contents(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(stat.parent.name))
    return found


async def calls(running: Running, grpc_port: int, count: int) -> set[int]:
    """``count`` queries, each on a connection of its own; the worker pids that answered
    (from their audit lines: a worker's log lines name it, a single bus's do not)."""
    request_ids = []
    for _ in range(count):
        request_id = str(uuid.uuid4())
        # A local subchannel pool: a new TCP connection per channel, so the kernel picks a
        # worker for each call.
        options = [("grpc.use_local_subchannel_pool", 1)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}", options=options) as ch:
            response = await bus_pb2_grpc.RegistryBusStub(ch).Query(
                bus_pb2.QueryRequest(
                    registry="gbdfl",
                    operation="get_person",
                    params={"iin": ARMAN},
                    context=request_context(request_id=request_id),
                ),
                timeout=10,
            )
        assert response.record.person.first_name == "Arman"
        request_ids.append(request_id)
    pids = set()
    for request_id in request_ids:
        (line,) = await running.wait_for(rf"(?:pid (\d+)\])?: request_id={request_id} ")
        if line.group(1):
            pids.add(int(line.group(1)))
    return pids


async def metric(http_port: int, name: str, **labels: str) -> float:
    async with httpx.AsyncClient() as http:  # a new connection: any worker may answer
        text = (await http.get(f"http://127.0.0.1:{http_port}/metrics", timeout=10)).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def started(running: Running) -> tuple[int, int, set[int]]:
    """The gRPC port, HTTP port and worker pids of a supervisor that says it serves."""
    (line,) = await running.wait_for(
        r"(\d+) workers \(pids ([\d ]+)\) serving gRPC on 127\.0\.0\.1:(\d+)"
    )
    (http,) = await running.wait_for(r"metrics of all workers http://127\.0\.0\.1:(\d+)/metrics")
    pids = {int(p) for p in line.group(2).split()}
    assert len(pids) == int(line.group(1))
    return int(line.group(3)), int(http.group(1)), pids


async def test_calls_spread_over_workers_and_metrics_sum_over_them(tmp_path: Path) -> None:
    async with serve(tmp_path, "--workers", "2") as running:
        grpc_port, http_port, pids = await started(running)
        supervisor = running.process.pid
        assert children(supervisor) == pids
        (name,) = contents(tmp_path)  # the supervisor's own folder, in TMPDIR
        assert name.startswith("regbus-workers-")
        folder = tmp_path / name
        made = 0
        answered: set[int] = set()
        while answered != pids and made < 100:  # with 2 workers, both answer very soon
            answered |= await calls(running, grpc_port, 10)
            made += 10
        assert answered == pids
        assert {f"counter_{pid}.db" for pid in pids} <= contents(folder / "metrics")
        for _ in range(4):  # whichever worker answers the scrape, it counts every call
            total = await metric(http_port, "regbus_requests_total", registry="gbdfl")
            assert total == made
        async with httpx.AsyncClient() as http:
            status = (await http.get(f"http://127.0.0.1:{http_port}/status")).json()
        assert status["worker"]["pid"] in pids
        assert {r["id"] for r in status["registries"]} >= {"gbdfl", "zags"}

        assert await running.stop() == 0
        assert not any(alive(pid) for pid in pids)
        assert contents(tmp_path) == set()
        assert "all workers stopped" in running.log
        assert "Traceback" not in running.log


async def test_a_killed_worker_is_restarted_and_its_counts_kept(tmp_path: Path) -> None:
    async with serve(tmp_path, "--workers", "2") as running:
        grpc_port, http_port, pids = await started(running)
        await calls(running, grpc_port, 6)
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        (restarted,) = await running.wait_for(r"worker (\d) restarted \(pid (\d+)\)")
        replacement = int(restarted.group(2))
        assert f"(pid {victim}) died (killed by SIGKILL)" in running.log
        assert not alive(victim)
        assert children(running.process.pid) == (pids - {victim}) | {replacement}
        answered: set[int] = set()
        made = 6
        while replacement not in answered and made < 100:
            answered |= await calls(running, grpc_port, 5)
            made += 5
        assert replacement in answered
        assert victim not in answered
        # The dead worker's calls still count; its gauges went with it.
        assert await metric(http_port, "regbus_requests_total", registry="gbdfl") == made
        assert await metric(http_port, "regbus_bulkhead_limit", registry="gbdfl") == 2 * 20
        assert await running.stop() == 0
        assert not alive(replacement)
        assert contents(tmp_path) == set()


async def test_one_worker_is_the_single_process_bus(tmp_path: Path) -> None:
    async with serve(tmp_path, "--workers", "1") as running:
        (line,) = await running.wait_for(r"gRPC on 127\.0\.0\.1:(\d+), registries")
        (http,) = await running.wait_for(r"metrics http://127\.0\.0\.1:(\d+)/metrics")
        assert children(running.process.pid) == set()
        await calls(running, int(line.group(1)), 2)
        assert await metric(int(http.group(1)), "regbus_requests_total") == 2
        async with httpx.AsyncClient() as client:
            status = (await client.get(f"http://127.0.0.1:{http.group(1)}/status")).json()
        assert "worker" not in status
        assert await running.stop() == 0
        assert contents(tmp_path) == set()


async def test_workers_refuse_a_port_someone_else_shares(tmp_path: Path) -> None:
    # Another process that listens with SO_REUSEPORT would share the port with the
    # workers silently; the supervisor refuses instead.
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen for gRPC on 127.0.0.1:{port}"):
            check_port_free("127.0.0.1", port, "gRPC", "--grpc-port")
        code, _, err = await regbus(
            "serve", "--workers", "2", "--grpc-port", str(port), "--http-port", "0",
            "--mocks-port", "0",
        )  # fmt: skip
    assert code == 1
    assert f"cannot listen for gRPC on 127.0.0.1:{port}: the port is in use" in err
    assert "Traceback" not in err
    check_port_free("127.0.0.1", 0, "gRPC", "--grpc-port")  # 0 is always free


async def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    config = tmp_path / "regbus.toml"
    config.write_text('[registries.gbdfl]\nurl = "http://127.0.0.1:1/SyncChannel"\n')
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: binding it fails, nothing is sent.
    # (--demo: not loopback, and nobody authenticated; the bus would refuse it otherwise.)
    code, _, err = await regbus(
        "serve", "--config", str(config), "--workers", "2", "--host", "192.0.2.1",
        "--grpc-port", "0", "--http-port", "0", "--demo",
    )  # fmt: skip
    assert code == 1
    assert "cannot listen for gRPC on 192.0.2.1:0" in err
    assert "worker 0 exited while starting (exit code 1)" in err


@pytest.mark.parametrize("bad", ["0", "65", "two", "-1"])
async def test_serve_refuses_a_bad_number_of_workers(bad: str) -> None:
    code, _, err = await regbus("serve", "--workers", bad)
    assert code == 2
    assert "argument --workers: must be a whole number of processes from 1 to 64" in err


@pytest.mark.parametrize("bad", ["0", "65", "true", '"2"', "1.5"])
def test_config_refuses_a_bad_number_of_workers(bad: str) -> None:
    import tomllib

    with pytest.raises(ConfigError, match=r"server\.workers must be"):
        parse_config(tomllib.loads(f"[server]\nworkers = {bad}\n"), source="regbus.toml")


def test_config_workers() -> None:
    assert parse_config({}).server.workers == 1
    assert parse_config({"server": {"workers": 64}}).server.workers == 64


def test_ready_line_and_exit_descriptions() -> None:
    ready = Ready(pid=7, grpc_port=50051, http_port=8081, registries=("gbdfl", "zags"))
    assert Ready.parse(ready.line()) == ready
    assert Ready.parse("something else\n") is None
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(2) == "exit code 2"
