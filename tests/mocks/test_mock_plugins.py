"""Mock registries are plugins: a package installed next to regbus adds its mock (and its
adapter) through entry points, and every command serves and controls it.

The package here is real as far as ``importlib.metadata`` can tell: a module and a
``dist-info`` folder on ``sys.path``, found by the same discovery a user's install goes
through.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import textwrap
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from regbus.adapters.base import Endpoint
from regbus.bus.client import failure
from regbus.bus.config import (
    Config,
    config_text,
    load_config,
    with_endpoints,
)
from regbus.bus.embedded import Embedded, start_embedded
from regbus.bus.plugins import PluginError
from regbus.mocks.plugins import discover_mocks
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import CONTEXT, TEST_CONFIG
from tests.test_cli import regbus

BUILT_IN = {"gbdfl", "zags", "vehicles", "insurance"}
# Settings the fake adapter needs besides its URL, with everything TOML must escape.
FAKE_OPTIONS = {
    "client": 'KZ/GOV/"centre-01"',
    "secret": "back\\slash\ttab\nnewline \x01 and Қазақ",
    "dotted.key": "",
}

FAKE_MODULE = f'''
"""An integrator's registry package: its mock and its adapter (and one of each alone)."""

from dataclasses import replace
from importlib.metadata import entry_points

from regbus.mocks.vehicles import VehiclesMock

OPTIONS = {FAKE_OPTIONS!r}


class FakeMock(VehiclesMock):
    id = "fake"

    def endpoint_options(self):
        return dict(OPTIONS)


class LonelyMock(VehiclesMock):
    id = "lonely"


def lonely_mock(population):  # a factory function rather than a class
    return LonelyMock(population)


def _renamed(registry):
    """The vehicles adapter under another registry id (it speaks the same API)."""
    (ep,) = entry_points(group="regbus.adapters", name="vehicles")
    vehicles = ep.load()
    if isinstance(vehicles, type):
        attrs = {{"spec": replace(vehicles.spec, registry=registry)}}
        return type(registry.title() + "Adapter", (vehicles,), attrs)
    return replace(vehicles, registry=registry)


FakeAdapter = _renamed("fake")
OrphanAdapter = _renamed("orphan")
'''

FAKE_ENTRY_POINTS = """
[regbus.adapters]
fake = fake_registry:FakeAdapter
orphan = fake_registry:OrphanAdapter

[regbus.mocks]
fake = fake_registry:FakeMock
lonely = fake_registry:lonely_mock
"""


def install(site: Path, dist: str, module: str, source: str, entry_points: str) -> None:
    """Lay out an installed distribution the way pip does: module plus dist-info."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), "utf-8")
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fake registry package, installed for this process (and for subprocesses given
    the folder on PYTHONPATH)."""
    site = tmp_path / "site"
    install(site, "fake_registry", "fake_registry", FAKE_MODULE, FAKE_ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    try:
        yield site
    finally:
        sys.modules.pop("fake_registry", None)


def env_with(site: Path) -> dict[str, str]:
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


# discovery -------------------------------------------------------------------------------------


def test_discovery_finds_the_built_in_mocks() -> None:
    population = Population.load()
    factories = discover_mocks()
    assert set(factories) >= BUILT_IN
    for registry in BUILT_IN:
        assert factories[registry](population).id == registry
    assert set(MockServer(population=population).registries) >= BUILT_IN


def test_an_installed_mock_is_discovered_and_served_by_default(fake_site: Path) -> None:
    assert set(discover_mocks()) >= {*BUILT_IN, "fake", "lonely"}
    server = MockServer()
    assert set(server.registries) >= {*BUILT_IN, "fake", "lonely"}
    assert server.endpoint_options()["fake"] == FAKE_OPTIONS
    assert server.endpoint_options()["gbdfl"] == {}  # a mock without endpoint_options


async def test_an_installed_mock_answers_on_the_wire_and_takes_faults(fake_site: Path) -> None:
    import httpx

    server = MockServer()
    await server.start("127.0.0.1", 0)
    try:
        endpoint = server.adapter_endpoints()["fake"]
        assert endpoint.url == f"{server.base_url}/fake/api/v1"
        assert dict(endpoint.options) == FAKE_OPTIONS
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{endpoint.url}/vehicles", params={"plate": "123ABC01"})
            assert answer.status_code == 200
            assert answer.json()["plate"] == "123ABC01"
            faults = (await http.get(f"{server.base_url}/_faults")).json()
            assert faults["fake"] == "ok" and faults["lonely"] == "ok"
            changed = await http.put(f"{server.base_url}/_faults/fake", content="down")
            assert changed.json() == {"registry": "fake", "mode": "down"}
            answer = await http.get(f"{endpoint.url}/vehicles", params={"plate": "123ABC01"})
            assert answer.status_code == 503
    finally:
        await server.stop()


BROKEN = {
    "missing": ("broken_mock:Nowhere", "mock entry point missing = broken_mock:Nowhere fails"),
    "number": ("broken_mock:NUMBER", "mock entry point number = broken_mock:NUMBER is not a"),
    "wrong": ("broken_mock:Wrong", "mock entry point wrong = broken_mock:Wrong builds a mock"),
    "half": ("broken_mock:Half", "builds a Half without routes, endpoint_path"),
    "failing": ("broken_mock:failing", "mock entry point failing = .* fails to build .*no data"),
}
BROKEN_MODULE = """
from regbus.mocks.vehicles import VehiclesMock

NUMBER = 3


class Wrong(VehiclesMock):
    id = "other"


class Half:
    id = "half"

    def __init__(self, population):
        pass

    def malformed(self, request):
        raise NotImplementedError


def failing(population):
    raise RuntimeError("no data")
"""


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_an_unusable_mock_is_named_in_the_error(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, message = BROKEN[name]
    install(
        tmp_path,
        "broken_mock",
        "broken_mock",
        BROKEN_MODULE,
        f"[regbus.mocks]\n{name} = {target}\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(PluginError, match=message):
            MockServer()
    finally:
        sys.modules.pop("broken_mock", None)


# the embedded bus ------------------------------------------------------------------------------


@pytest.fixture
async def embedded_with_fake(
    fake_site: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Embedded]:
    caplog.set_level(logging.INFO, logger="regbus.embedded")
    running = await start_embedded(TEST_CONFIG, mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


async def _query(target: str, registry: str) -> str:
    request = bus_pb2.QueryRequest(
        registry=registry, operation="get_vehicle", params={"plate": "123ABC01"}, context=CONTEXT
    )
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            response = await bus_pb2_grpc.RegistryBusStub(channel).Query(request, timeout=10)
        except grpc.aio.AioRpcError as exc:
            return failure(exc).reason
    assert response.record.vehicle.plate == "123ABC01"
    return "ok"


async def test_embedded_bus_configures_a_plugged_in_registry_with_url_and_options(
    embedded_with_fake: Embedded, caplog: pytest.LogCaptureFixture
) -> None:
    running = embedded_with_fake
    registries = running.bus.config.registries
    assert set(registries) >= {*BUILT_IN, "fake"}
    assert registries["fake"].endpoint == Endpoint(running.mocks.endpoints()["fake"], FAKE_OPTIONS)
    assert registries["gbdfl"].endpoint == Endpoint(running.mocks.endpoints()["gbdfl"], {})
    # An adapter without a mock is left out; a mock without an adapter is served anyway.
    assert "orphan" not in registries
    assert "lonely" not in registries and "lonely" in running.mocks.registries
    started = caplog.get_records("setup")  # logged when the fixture started the bus
    logged = [(r.levelno, r.getMessage()) for r in started if r.name == "regbus.embedded"]
    orphan = [m for level, m in logged if "adapter orphan" in m and level == logging.WARNING]
    assert len(orphan) == 1 and "no mock registry" in orphan[0]
    lonely = [m for _, m in logged if "mock registry lonely" in m]
    assert len(lonely) == 1 and "no adapter is installed" in lonely[0]
    assert await _query(f"127.0.0.1:{running.bus.grpc_port}", "fake") == "ok"


async def test_fault_command_controls_a_plugged_in_mock(embedded_with_fake: Embedded) -> None:
    running = embedded_with_fake
    mocks = running.mocks_url.removeprefix("http://")
    target = f"127.0.0.1:{running.bus.grpc_port}"
    code, out, _ = await regbus("fault", "--mocks", mocks)  # lists what the server has
    assert code == 0
    listed = dict(line.split(": ", 1) for line in out.splitlines())
    assert listed == running.mocks.faults.snapshot()
    assert {"fake", "lonely", *BUILT_IN} <= set(listed)

    code, out, _ = await regbus("fault", "fake", "down", "--mocks", mocks)
    assert (code, out.strip()) == (0, "fake: down")
    assert str(running.mocks.faults.get("fake")) == "down"
    assert await _query(target, "fake") == "REGISTRY_UNAVAILABLE"
    assert await _query(target, "vehicles") == "ok"  # the same API, another mock: untouched

    code, _, err = await regbus("fault", "nosuch", "down", "--mocks", mocks)
    assert code == 1
    assert "no mock registry 'nosuch'" in err and "fake" in err and "lonely" in err

    code, out, _ = await regbus("fault", "fake", "ok", "--mocks", mocks)
    assert (code, out.strip()) == (0, "fake: ok")
    assert await _query(target, "fake") == "ok"


# configuration files ---------------------------------------------------------------------------


def test_written_configuration_reads_back_with_urls_and_options(tmp_path: Path) -> None:
    endpoints = {
        "fake": Endpoint('http://127.0.0.1:8090/fake/api/v1?a=1&b="2"', FAKE_OPTIONS),
        "gbdfl": Endpoint("http://127.0.0.1:8090/gbdfl/SyncChannel"),
        "lonely": Endpoint("http://127.0.0.1:8090/lonely/api/v1", {"x": "y"}),
    }
    path = tmp_path / "regbus.toml"
    path.write_text(config_text(endpoints, comment="one\ntwo", disabled={"lonely"}), "utf-8")
    config = load_config(path)
    assert set(config.registries) == {"fake", "gbdfl"}
    for registry in ("fake", "gbdfl"):
        assert config.registries[registry].endpoint == endpoints[registry]
    assert config.disabled == {"lonely"}
    raw = tomllib.loads(path.read_text("utf-8"))
    assert raw["registries"]["lonely"] == {
        "url": endpoints["lonely"].url,
        "enabled": False,
        "options": {"x": "y"},
    }


def test_with_endpoints_takes_urls_and_options() -> None:
    merged = with_endpoints(
        Config(), {"fake": Endpoint("http://mock/fake", {"client": "c"}), "zags": "http://z"}
    )
    assert merged.registries["fake"].endpoint.options == {"client": "c"}
    assert merged.registries["zags"].endpoint == Endpoint("http://z")


MOCK_AT = re.compile(r": mock (\S+) at (http://\S+)$")


async def _run_until(args: list[str], env: dict[str, str], ready: str) -> tuple[int, list[str]]:
    """Run a long-running command until it logs ``ready``, then stop it as Ctrl-C does.
    Returns its exit code and every line it logged."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any(ready in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, "exited before it was ready:\n" + "".join(lines)
            lines.append(line.decode())
        process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(process.stderr.read(), timeout=60)
        lines += rest.decode().splitlines(keepends=True)
        code = await asyncio.wait_for(process.wait(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return code, lines


async def test_mocks_write_config_covers_every_installed_mock(
    fake_site: Path, tmp_path: Path
) -> None:
    path = tmp_path / "regbus.toml"
    code, lines = await _run_until(
        ["mocks", "--port", "0", "--write-config", str(path)],
        env_with(fake_site),
        ready="change one with",
    )
    assert code == 0, "".join(lines)
    served = dict(m.groups() for line in lines if (m := MOCK_AT.search(line)))
    assert set(served) >= {*BUILT_IN, "fake", "lonely"}
    config = load_config(path)
    configured = {r: s.endpoint.url for r, s in config.registries.items()}
    assert configured == {r: url for r, url in served.items() if r != "lonely"}
    assert config.registries["fake"].endpoint.options == FAKE_OPTIONS
    assert config.registries["gbdfl"].endpoint.options == {}
    assert config.disabled == {"lonely"}  # no adapter for it: written, but switched off
    assert any("mock lonely has no adapter installed" in line for line in lines)


async def test_serve_with_a_config_warns_about_unconfigured_adapters(
    fake_site: Path, tmp_path: Path
) -> None:
    path = tmp_path / "regbus.toml"
    path.write_text(
        textwrap.dedent(
            """
            [server]
            grpc_port = 0
            http_port = 0
            [registries.gbdfl]
            url = "http://127.0.0.1:9/gbdfl/SyncChannel"
            [registries.zags]
            enabled = false
            """
        ),
        "utf-8",
    )
    code, lines = await _run_until(["serve", "--config", str(path)], env_with(fake_site), "gRPC on")
    assert code == 0, "".join(lines)
    warnings = [line.split(": ", 1)[1].strip() for line in lines if " WARNING regbus: " in line]
    for registry in ("vehicles", "fake", "orphan"):
        expected = (
            f"adapter {registry} is installed but not configured:"
            f" add [registries.{registry}] to {path}"
        )
        assert warnings.count(expected) == 1, "".join(lines)
    # Configured, or named and switched off: no warning.
    assert not [w for w in warnings if "adapter gbdfl" in w or "adapter zags" in w]
