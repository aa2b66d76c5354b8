"""The package's Compose profile, installed: the bus lists it beside regbus's own and runs it
against the mock registries (this package's cadastre and regbus's gbdfl)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from regbus.bus.config import Config, ServerSettings
from regbus.bus.describe import profile_table
from regbus.bus.embedded import start_embedded
from regbus.v1 import bus_pb2, bus_pb2_grpc

OWNER = "850314354052"  # owns two parcels in tunduk_cadastre/parcels.json
NUMBER = "1-02-03-0004-0005"
CONTEXT = bus_pb2.RequestContext(operator_id="land-office-7", purpose="demo")
Scenario = Callable[[bus_pb2_grpc.RegistryBusStub], Awaitable[None]]


def run_on_bus(scenario: Scenario) -> None:
    """The bus with every installed mock registry (regbus serve without --config), on free
    loopback ports, and a client of it."""

    async def main() -> None:
        server = ServerSettings(grpc_port=0, http_port=0, grace=0.5, probe_interval=0)
        running = await start_embedded(Config(server=server, source="test"), mocks_port=0)
        try:
            target = f"127.0.0.1:{running.bus.grpc_port}"
            async with grpc.aio.insecure_channel(target) as channel:
                await scenario(bus_pb2_grpc.RegistryBusStub(channel))
        finally:
            await running.stop()

    asyncio.run(main())


@pytest.fixture(autouse=True)
def audit_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bus's audit log and key in a temporary folder, not in the working directory."""
    monkeypatch.setenv("REGBUS_STATE_DIR", str(tmp_path))


def test_the_catalogue_lists_the_profile_with_regbus_own() -> None:
    async def scenario(stub: bus_pb2_grpc.RegistryBusStub) -> None:
        catalogue = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=10)
        profiles = {p.name: p for p in catalogue.profiles}
        assert {"parcel_check", "roadside_check", "citizen_profile"} <= set(profiles)
        parcel_check = profiles["parcel_check"]
        assert list(parcel_check.keys) == ["number", "iin"]
        steps = [(s.name, s.registry, s.operation) for s in parcel_check.steps]
        assert steps == [
            ("parcel", "cadastre", "get_parcel"),
            ("owner", "gbdfl", "get_person"),
            ("parcels", "cadastre", "list_parcels"),
        ]
        # `regbus registries` prints this table.
        (row,) = [r for r in profile_table(catalogue.profiles).splitlines() if "parcel" in r]
        assert row.split()[:4] == ["parcel_check", "number", "or", "iin"]
        assert "cadastre.get_parcel, gbdfl.get_person, cadastre.list_parcels" in row

    run_on_bus(scenario)


def test_the_profile_runs_on_the_installed_bus() -> None:
    async def scenario(stub: bus_pb2_grpc.RegistryBusStub) -> None:
        request = bus_pb2.ComposeRequest(
            profile="parcel_check", params={"number": NUMBER, "iin": OWNER}, context=CONTEXT
        )
        response = await stub.Compose(request, timeout=10)
        assert response.profile == "parcel_check"
        parts = {part.step: part for part in response.parts}
        assert list(parts) == ["parcel", "owner", "parcels"]
        for part in parts.values():
            assert part.WhichOneof("result") == "response", part.error
        parcel = parts["parcel"].response.record.generic
        assert parcel["number"] == NUMBER and parcel["owner_iin"] == OWNER
        assert parts["owner"].response.record.person.iin == OWNER
        owned = parts["parcels"].response.record.generic
        assert sorted(p["number"] for p in owned["items"]) == [NUMBER, "1-02-03-0004-0017"]

        # By cadastral number alone: the owner's steps are skipped, not failed.
        request = bus_pb2.ComposeRequest(
            profile="parcel_check", params={"number": NUMBER}, context=CONTEXT
        )
        response = await stub.Compose(request, timeout=10)
        assert [part.step for part in response.parts] == ["parcel"]
        assert response.parts[0].response.record.generic["address"] == "Bishkek, Chui 12"

    run_on_bus(scenario)
