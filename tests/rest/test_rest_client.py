"""How the shared REST client reads HTTP answers, and the vehicles API end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.declared import declared
from regbus.adapters.errors import (
    RegistryFault,
    RegistryRejected,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.http import Answer
from regbus.adapters.rest import RestClient
from regbus.adapters.vehicles import VEHICLES
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.mocks.vehicles import VehiclesMock
from tests.scripted_http import ScriptedHttp, Sent, http_get, reply

VehiclesAdapter = declared(VEHICLES)

CONTEXT = CallContext(request_id="req-42")


def client_answering(status: int, body: str, content_type: str) -> RestClient:
    def handler(request: Sent) -> Answer:
        assert request.headers["X-Request-ID"] == "req-42"
        assert request.url == "http://registry.test/api/parcels/1"
        return reply(status, body, content_type)

    return RestClient(
        Endpoint("http://registry.test/api"), registry="land", http=ScriptedHttp(handler)
    )


PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (404, json.dumps({"status": 404, "detail": "no parcel"}), PROBLEM, SubjectNotFound),
        (422, json.dumps({"status": 422, "code": "BAD"}), PROBLEM, RegistryRejected),
        (403, json.dumps({"status": 403, "detail": "no access"}), PROBLEM, RegistryRejected),
        (503, "down", "text/plain", RegistryUnavailable),
        (500, json.dumps({"status": 500}), PROBLEM, RegistryFault),
        (404, "<html>not here</html>", "text/html", RegistryFault),  # a wrong URL, not a subject
        (200, "{broken", "application/json", RegistryFault),
    ],
)
async def test_http_answers_become_registry_errors(
    status: int, body: str, content_type: str, expected: type[Exception]
) -> None:
    client = client_answering(status, body, content_type)
    with pytest.raises(expected) as caught:
        await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
    assert getattr(caught.value, "registry", "") == "land"
    await client.aclose()


async def test_connection_refused_is_unavailable() -> None:
    client = RestClient(Endpoint("http://127.0.0.1:1/api"), registry="land")
    with pytest.raises(RegistryUnavailable):
        await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
    await client.aclose()


@pytest.fixture
async def vehicles() -> AsyncIterator[tuple[VehiclesAdapter, MockServer]]:
    population = Population.load()
    server = MockServer([VehiclesMock(population)], population=population)
    await server.start("127.0.0.1", 0)
    adapter = VehiclesAdapter(Endpoint(server.endpoints()["vehicles"]))
    try:
        yield adapter, server
    finally:
        await adapter.aclose()
        await server.stop()


async def test_owner_the_registry_never_saw_owns_nothing(
    vehicles: tuple[VehiclesAdapter, MockServer],
) -> None:
    adapter, _ = vehicles
    record = await adapter.call("list_vehicles_by_owner", {"iin": "940512410508"}, CONTEXT)
    assert record.WhichOneof("kind") == "vehicles"
    assert list(record.vehicles.vehicles) == []


async def test_by_vin_and_the_openapi_document(
    vehicles: tuple[VehiclesAdapter, MockServer],
) -> None:
    adapter, server = vehicles
    record = await adapter.call("get_vehicle", {"vin": "JTMHV05J604098765"}, CONTEXT)
    assert (record.vehicle.plate, record.vehicle.owner_iin) == ("777KZA09", "771130308916")
    document = (await http_get(f"{server.base_url}/vehicles/openapi.json")).json()
    assert {"/vehicles", "/owners/{iin}/vehicles"} <= set(document["paths"])
