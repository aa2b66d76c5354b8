"""The status wall: its states and history (``monitoring.wall``), and the page in a real
headless Chromium, driven over the DevTools protocol, watching one registry go down and
come back in the same page, without a reload."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import httpx
import pytest

from regbus.bus.client import failure
from regbus.bus.embedded import Embedded, start_embedded
from regbus.mocks.faults import parse_fault
from regbus.monitoring import wall as wall_module
from regbus.monitoring.metrics import Metrics
from regbus.monitoring.wall import (
    DEGRADED,
    DOWN,
    INTERVAL,
    POINTS,
    UNKNOWN,
    UP,
    WINDOW,
    Counts,
    Wall,
    failure_outcomes,
    health_of,
    overall,
    request_counts,
)
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import TEST_CONFIG, TEST_POLICY

# -- the wall's memory, on a clock of its own ----------------------------------------------


class Fake:
    """A bus as the wall samples it: status rows, request counters and a clock."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.breaker = {"gbdfl": "closed", "zags": "closed"}
        self.breaker_since = {"gbdfl": self.now, "zags": self.now}
        self.counts = {"gbdfl": Counts(0, 0), "zags": Counts(0, 0)}

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "id": registry,
                "breaker": breaker,
                "state_since": datetime.fromtimestamp(self.breaker_since[registry], UTC).isoformat(
                    timespec="seconds"
                ),
                "recent_calls": 0,
            }
            for registry, breaker in self.breaker.items()
        ]

    def calls(self, registry: str, ok: int = 0, failed: int = 0) -> None:
        calls, failures = self.counts[registry]
        self.counts[registry] = Counts(calls + ok + failed, failures + failed)

    def move(self, registry: str, breaker: str) -> None:
        self.breaker[registry], self.breaker_since[registry] = breaker, self.now

    def wall(self) -> Wall:
        return Wall(
            self.status,
            lambda: dict(self.counts),
            clock=lambda: self.now,
            monotonic=lambda: self.now,
        )


def health(wall: Wall, registry: str = "gbdfl") -> tuple[str, float]:
    tile = wall.refresh()[registry]
    return tile.health, tile.since


def assert_health(wall: Wall, expected: str, since: float, registry: str = "gbdfl") -> None:
    # Breakers report their transitions to the second.
    got, began = health(wall, registry)
    assert got == expected and began == pytest.approx(since, abs=1), (got, began, since)


def test_health_follows_the_definitions() -> None:
    assert health_of("open", 0, 0, known=True) == DOWN
    assert health_of("half_open", 100, 0, known=True) == DEGRADED
    assert health_of("closed", 100, 10, known=True) == DEGRADED  # 10% is degraded
    assert health_of("closed", 100, 9, known=True) == UP
    assert health_of("closed", 0, 0, known=True) == UP  # known, quiet
    assert health_of("closed", 0, 0, known=False) == UNKNOWN
    assert overall({UP: 3, UNKNOWN: 2}) == UP
    assert overall({UP: 3, DOWN: 1}) == DEGRADED
    assert overall({DOWN: 2, UNKNOWN: 5}) == DOWN
    assert overall({UNKNOWN: 5}) == UNKNOWN


def test_failures_are_technical_and_fail_fast_not_answers() -> None:
    failing = failure_outcomes()
    assert {"registry_unavailable", "registry_timeout", "registry_fault"} <= failing
    assert {"circuit_open", "bulkhead_full", "deadline_exceeded"} <= failing
    assert not {"ok", "not_found", "registry_rejected", "invalid_argument", "internal"} & failing


def test_counts_come_from_the_request_counter() -> None:
    metrics = Metrics()
    for outcome in ("ok", "ok", "not_found", "registry_unavailable", "circuit_open"):
        metrics.request("gbdfl", "get_person", outcome, 0.01)
    metrics.request("zags", "get_marriages", "ok", 0.01)
    counts = request_counts(metrics.registry)
    assert counts["gbdfl"] == Counts(5, 2)
    assert counts["zags"] == Counts(1, 0)


def test_unknown_until_the_first_call_then_up() -> None:
    fake = Fake()
    wall = fake.wall()
    assert_health(wall, UNKNOWN, fake.now)
    fake.now += 5
    fake.calls("gbdfl", ok=3)
    assert_health(wall, UP, fake.now)
    fake.now += 120  # quiet for two minutes: still up, since unchanged
    assert_health(wall, UP, fake.now - 120)
    assert health(wall, "zags")[0] == UNKNOWN


def test_error_rate_over_the_last_minute_degrades() -> None:
    fake = Fake()
    wall = fake.wall()
    wall.refresh()
    fake.now += 1
    fake.calls("gbdfl", ok=80, failed=20)
    tile = wall.refresh()["gbdfl"]
    assert (tile.health, tile.calls, tile.failures, tile.error_rate) == (DEGRADED, 100, 20, 0.2)
    began = fake.now
    for _ in range(5):  # good calls keep coming; the failures are still in the minute
        fake.now += 10
        fake.calls("gbdfl", ok=5)
        assert_health(wall, DEGRADED, began)
    fake.now += 15  # past the minute: only good calls in it
    fake.calls("gbdfl", ok=5)
    tile = wall.refresh()["gbdfl"]
    assert (tile.health, tile.since, tile.calls, tile.failures) == (UP, fake.now, 30, 0)
    assert [c.health for c in wall.changes("gbdfl")] == [UNKNOWN, DEGRADED, UP]


def test_business_answers_do_not_degrade() -> None:
    metrics = Metrics()
    now = [1_000_000.0]
    wall = Wall(
        lambda: [{"id": "gbdfl", "breaker": "closed", "state_since": None, "recent_calls": 9}],
        lambda: request_counts(metrics.registry),
        clock=lambda: now[0],
        monotonic=lambda: now[0],
    )
    wall.refresh()
    for _ in range(9):
        metrics.request("gbdfl", "get_person", "not_found", 0.01)
    metrics.request("gbdfl", "get_person", "ok", 0.01)
    now[0] += 1
    tile = wall.refresh()["gbdfl"]
    assert (tile.health, tile.calls, tile.failures) == (UP, 10, 0)


def test_since_is_not_reset_by_calls_or_failed_probes() -> None:
    fake = Fake()
    wall = fake.wall()
    wall.refresh()
    fake.now += 1
    fake.calls("gbdfl", ok=50)
    assert_health(wall, UP, fake.now)
    fake.now += 29
    opened = fake.now
    fake.calls("gbdfl", failed=3)
    fake.move("gbdfl", "open")
    fake.now += 1.5  # sampled after the breaker moved: it knows when
    assert_health(wall, DOWN, opened)
    for _ in range(3):  # fail-fast calls, then a half-open probe that fails
        fake.now += 2
        fake.calls("gbdfl", failed=5)
        assert_health(wall, DOWN, opened)
        fake.move("gbdfl", "half_open")
        fake.now += 0.5
        assert health(wall)[0] == DEGRADED  # half-open: degraded while the probe is out
        fake.calls("gbdfl", failed=1)
        fake.move("gbdfl", "open")
        fake.now += 0.5
        assert_health(wall, DOWN, opened)  # the outage goes on from when it began
    # The probes pass; the failures of the last minute keep it degraded a while.
    fake.move("gbdfl", "half_open")
    probing = fake.now
    fake.now += 1
    assert_health(wall, DEGRADED, probing)
    fake.calls("gbdfl", ok=3)
    fake.move("gbdfl", "closed")
    fake.now += 1
    assert_health(wall, DEGRADED, probing)  # closed, but 21 of the minute's 74 calls failed
    fake.now += WINDOW
    fake.calls("gbdfl", ok=10)
    assert_health(wall, UP, fake.now)
    assert [c.health for c in wall.changes("gbdfl")] == [
        UNKNOWN, UP, DOWN, DEGRADED, DOWN, DEGRADED, DOWN, DEGRADED, DOWN, DEGRADED, UP,
    ]  # fmt: skip


def test_history_keeps_90_points_of_10_seconds() -> None:
    fake = Fake()
    wall = fake.wall()
    wall.refresh()
    for point in range(POINTS + 10):
        for _ in range(5):  # sampled every 2 s
            fake.now += INTERVAL / 5
            fake.calls("gbdfl", ok=1, failed=1 if point % 2 else 0)
            wall.refresh()
    history = wall.history("gbdfl")
    assert len(history) == POINTS
    assert history[-1] == Counts(10, 5) and history[-2] == Counts(5, 0)
    rows = wall.annotate(fake.status(), history=True)
    assert len(rows[0]["history"]["calls"]) == POINTS
    assert rows[0]["history"]["calls"][-1] == 10
    assert rows[0]["health"] == DEGRADED and rows[0]["error_rate_1m"] == pytest.approx(
        1 / 3, abs=1e-4
    )


def test_on_demand_refreshes_are_throttled() -> None:
    fake = Fake()
    wall = fake.wall()
    wall.refresh()
    fake.calls("gbdfl", ok=1)
    fake.now += wall_module.MIN_GAP / 2
    assert wall.refresh()["gbdfl"].health == UNKNOWN  # the last sample, reused
    fake.now += wall_module.MIN_GAP
    assert wall.refresh()["gbdfl"].health == UP


# -- the page in a real browser -------------------------------------------------------------

RESET = 4.0  # the breaker's reset timeout here: long enough to see "down" before half-open
WALL_POLICY = replace(TEST_POLICY, breaker=replace(TEST_POLICY.breaker, reset_timeout=RESET))
WALL_CONFIG = replace(TEST_CONFIG, policy=WALL_POLICY)
CONTEXT = bus_pb2.RequestContext(operator_id="op-1", purpose="demo")
ARMAN = "850314354052"


def chromium() -> str:
    """The Chromium to drive: required under CI, else the test is skipped without one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "no Chromium installed (apt-get install chromium): the status wall's browser test"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " cannot run, and CI must run it")
    pytest.skip(reason + " is skipped")


class Page:
    """One browser tab over the Chrome DevTools protocol (a WebSocket, with aiohttp)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call = next(self._ids)
        await self._ws.send_str(json.dumps({"id": call, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self._ws.receive_str(), 30))
            if message.get("id") == call:  # events in between are not needed here
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, within: float = 15.0) -> Any:
        """Poll ``expression`` in the page until it is truthy, for up to ``within`` s."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                seen = await self.evaluate(
                    "JSON.stringify({wall: window.regbusWall, tile:"
                    " (document.getElementById('tile-gbdfl') || {}).outerHTML})"
                )
                raise AssertionError(f"timed out waiting for {expression}; page: {seen}")
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def browser(executable: str, profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium with its DevTools on a free loopback port, and its first tab."""
    process = await asyncio.create_subprocess_exec(
        executable,
        "--headless",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"  # Chromium writes its port here
        for _ in range(300):
            if active.exists() and active.read_text().strip():
                break
            if process.returncode is not None:
                raise AssertionError(f"Chromium exited with {process.returncode}")
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("Chromium did not open its DevTools port in 30 s")
        port = int(active.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            tab = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                await page.send("Runtime.enable")
                await page.send("Page.enable")
                yield page
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def query(stub: bus_pb2_grpc.RegistryBusStub) -> bool:
    """One get_person through the bus; whether it answered."""
    request = bus_pb2.QueryRequest(
        registry="gbdfl", operation="get_person", params={"iin": ARMAN}, context=CONTEXT
    )
    try:
        await stub.Query(request, timeout=10)
    except grpc.aio.AioRpcError as exc:
        assert failure(exc).reason in {"REGISTRY_UNAVAILABLE", "CIRCUIT_OPEN"}, exc
        return False
    return True


async def gbdfl(base: str) -> Mapping[str, Any]:
    async with httpx.AsyncClient() as http:
        rows = (await http.get(f"{base}/status")).json()["registries"]
    row: Mapping[str, Any] = next(r for r in rows if r["id"] == "gbdfl")
    return row


TILE = "document.getElementById('tile-gbdfl')"


async def test_the_wall_follows_a_registry_down_and_up_without_a_reload(tmp_path: Path) -> None:
    executable = chromium()
    running: Embedded | None = await start_embedded(WALL_CONFIG, mocks_port=0)
    assert running is not None
    base = f"http://127.0.0.1:{running.bus.http_port}"
    try:
        async with (
            browser(executable, tmp_path / "profile") as page,
            grpc.aio.insecure_channel(f"127.0.0.1:{running.bus.grpc_port}") as channel,
        ):
            stub = bus_pb2_grpc.RegistryBusStub(channel)
            await page.send("Page.navigate", url=f"{base}/")
            # The script ran: it polled /status and filled the tiles it found.
            await page.wait_for("window.regbusWall && window.regbusWall.updates >= 1")
            tiles = await page.evaluate("document.querySelectorAll('#grid .tile').length")
            assert tiles == len(running.bus.router.lanes)
            assert await page.evaluate(f"{TILE}.dataset.state") == UNKNOWN
            assert "Unknown" in await page.evaluate(f"{TILE}.textContent")
            await page.evaluate("window.sameDocument = 'never reloaded'")

            # Laid out as a wall at 1280 px, one column on a phone, dark when asked.
            columns = (
                "new Set([...document.querySelectorAll('#grid .tile')]"
                ".map(t => t.getBoundingClientRect().left)).size"
            )
            assert await page.evaluate(columns) >= 3
            await page.send(
                "Emulation.setDeviceMetricsOverride", width=390, height=844,
                deviceScaleFactor=2, mobile=True,
            )  # fmt: skip
            await page.wait_for(f"{columns} === 1", within=5)
            await page.send("Emulation.clearDeviceMetricsOverride")
            background = "getComputedStyle(document.body).backgroundColor"
            light = await page.evaluate(background)
            await page.send(
                "Emulation.setEmulatedMedia",
                features=[{"name": "prefers-color-scheme", "value": "dark"}],
            )
            dark = await page.evaluate(background)
            await page.send("Emulation.setEmulatedMedia", features=[])
            assert light != dark and dark == "rgb(10, 13, 18)", (light, dark)

            # First calls: unknown -> up, pushed into the page.
            assert await query(stub)
            await page.wait_for(f"{TILE}.dataset.state === 'up'")
            assert "Up" in await page.evaluate(f"{TILE}.querySelector('.badge').textContent")

            # The registry goes down: the breaker opens, the tile says so in words.
            running.mocks.faults.set("gbdfl", parse_fault("down"))
            for _ in range(10):
                assert not await query(stub)
                if (await gbdfl(base))["breaker"] == "open":
                    break
            else:
                raise AssertionError("the breaker did not open")
            await page.wait_for(f"{TILE}.dataset.state === 'down'", within=RESET)
            text = await page.evaluate(f"{TILE}.textContent")
            assert "Down" in text and "breaker open" in text, text
            assert await page.evaluate(f"{TILE}.dataset.breaker") == "open"
            assert int(await page.evaluate("document.getElementById('n-down').textContent")) >= 1
            assert "gbdfl is now Down" in await page.evaluate(
                "document.getElementById('announce').textContent"
            )
            down_since = await page.evaluate(f"{TILE}.querySelector('time').dateTime")

            # It comes back: after the reset timeout the probes pass, the breaker closes, and
            # enough good calls bring the last minute under 10% failed.
            running.mocks.faults.set("gbdfl", parse_fault("ok"))
            await asyncio.sleep(RESET + 0.2)
            for _ in range(20):
                for _ in range(10):
                    assert await query(stub)
                if await page.evaluate(f"{TILE}.dataset.state === 'up'"):
                    break
                await asyncio.sleep(0.3)
            await page.wait_for(f"{TILE}.dataset.state === 'up'", within=10)
            row = await gbdfl(base)
            assert row["breaker"] == "closed" and row["error_rate_1m"] < 0.1, row
            up_since = await page.evaluate(f"{TILE}.querySelector('time').dateTime")
            assert up_since > down_since
            assert "gbdfl is now Up" in await page.evaluate(
                "document.getElementById('announce').textContent"
            )
            assert await page.evaluate("window.sameDocument") == "never reloaded"
            assert await page.evaluate("document.getElementById('stale').textContent") == ""

            # The bus goes away: the page says its tiles are out of date.
            stopping, running = running, None
            await stopping.stop()
            banner = await page.wait_for(
                "document.body.classList.contains('is-stale')"
                " && document.getElementById('stale').textContent"
            )
            assert "No updates since" in banner and "not answering" in banner, banner
    finally:
        if running is not None:
            await running.stop()
