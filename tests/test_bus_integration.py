"""The real bus and the real mock registries over loopback gRPC and HTTP."""

from __future__ import annotations

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from regbus.bus.client import CallFailed, failure
from regbus.bus.embedded import Embedded
from regbus.bus.server import SERVICE_NAME, health_name
from regbus.v1 import bus_pb2, bus_pb2_grpc, records_pb2

ARMAN = "850314354052"
CONTEXT = bus_pb2.RequestContext(operator_id="op-7", purpose="demo")


async def query(
    stub: bus_pb2_grpc.RegistryBusStub, registry: str, operation: str, **params: str
) -> bus_pb2.QueryResponse:
    request = bus_pb2.QueryRequest(
        registry=registry, operation=operation, params=params, context=CONTEXT
    )
    try:
        response: bus_pb2.QueryResponse = await stub.Query(request, timeout=10)
    except grpc.aio.AioRpcError as exc:
        raise failure(exc) from exc
    return response


async def metric(embedded: Embedded, name: str, **labels: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{embedded.bus.http_port}/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def test_person_by_iin(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    response = await query(stub, "gbdfl", "get_person", iin=ARMAN)
    person = response.record.person
    assert (person.last_name, person.first_name, person.patronymic) == (
        "Akhmetov",
        "Arman",
        "Serikuly",
    )
    assert person.sex == records_pb2.SEX_MALE
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (
        1985,
        3,
        14,
    )
    assert response.source.registry == "gbdfl"
    assert response.source.attempts == 1
    assert response.source.received_at.seconds > 0


async def test_invalid_iin_is_refused_without_calling_the_registry(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    with pytest.raises(CallFailed) as caught:
        await query(stub, "gbdfl", "get_person", iin="850314354053")
    assert caught.value.code == "INVALID_ARGUMENT"
    assert caught.value.reason == "INVALID_IIN"
    assert caught.value.registry == "gbdfl"
    assert caught.value.violations[0]["field"] == "params.iin"
    assert await metric(embedded, "regbus_registry_attempts_total", registry="gbdfl") == 0


async def test_unknown_person_is_not_found_and_not_retried(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    for _ in range(4):  # more than fail_max: business answers never trip the breaker
        with pytest.raises(CallFailed) as caught:
            await query(stub, "gbdfl", "get_person", iin="940512410508")
        assert caught.value.code == "NOT_FOUND"
        assert caught.value.reason == "NOT_FOUND"
        assert not caught.value.retryable
    assert await metric(embedded, "regbus_registry_attempts_total", registry="gbdfl") == 4
    assert embedded.bus.router.lanes["gbdfl"].guard.state == "closed"


async def test_unknown_registry_and_operation(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    with pytest.raises(CallFailed) as registry:
        await query(stub, "gbdl", "get_person", iin=ARMAN)
    assert (registry.value.code, registry.value.reason) == ("INVALID_ARGUMENT", "UNKNOWN_REGISTRY")
    assert "gbdfl" in registry.value.message  # lists what exists
    with pytest.raises(CallFailed) as operation:
        await query(stub, "gbdfl", "get_persons", iin=ARMAN)
    assert operation.value.reason == "UNKNOWN_OPERATION"


async def test_vehicles_by_plate_and_by_owner(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    vehicle = (await query(stub, "vehicles", "get_vehicle", plate="123ABC01")).record.vehicle
    assert (vehicle.make, vehicle.model, vehicle.owner_iin) == ("Toyota", "Camry", ARMAN)
    by_vin = await query(stub, "vehicles", "get_vehicle", vin=vehicle.vin)
    assert by_vin.record.vehicle.plate == "123ABC01"
    owned = await query(stub, "vehicles", "list_vehicles_by_owner", iin=ARMAN)
    assert [v.plate for v in owned.record.vehicles.vehicles] == ["123ABC01"]


async def test_civil_acts(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    acts = (await query(stub, "zags", "list_acts", iin=ARMAN)).record.civil_acts.acts
    roles = {(records_pb2.CivilActType.Name(a.type), a.role) for a in acts}
    assert ("CIVIL_ACT_TYPE_MARRIAGE", "spouse") in roles
    assert ("CIVIL_ACT_TYPE_BIRTH", "father") in roles
    assert ("CIVIL_ACT_TYPE_BIRTH", "subject") in roles


async def test_compose_returns_a_failed_part_not_a_failed_call(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    embedded.mocks.faults.set("gbdfl", _fault("down"))
    request = bus_pb2.ComposeRequest(
        params={"iin": ARMAN},
        context=CONTEXT,
        parts=[
            bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person"),
            bus_pb2.ComposeRequest.Part(registry="zags", operation="list_acts"),
            bus_pb2.ComposeRequest.Part(registry="vehicles", operation="list_vehicles_by_owner"),
            bus_pb2.ComposeRequest.Part(
                registry="vehicles", operation="get_vehicle", params={"plate": "123ABC01"}
            ),
        ],
    )
    response = await stub.Compose(request, timeout=10)
    assert [p.registry for p in response.parts] == ["gbdfl", "zags", "vehicles", "vehicles"]
    gbdfl, zags, owned, by_plate = response.parts
    assert gbdfl.WhichOneof("result") == "error"
    assert gbdfl.error.registry == "gbdfl"
    assert gbdfl.error.reason == "REGISTRY_UNAVAILABLE"
    assert gbdfl.error.retryable
    assert zags.response.record.civil_acts.acts
    assert owned.response.record.vehicles.vehicles[0].plate == "123ABC01"
    assert by_plate.response.record.vehicle.owner_iin == ARMAN


async def test_catalogue_lists_registries_with_live_state(
    stub: bus_pb2_grpc.RegistryBusStub,
) -> None:
    await query(stub, "gbdfl", "get_person", iin=ARMAN)
    response = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=5)
    by_id = {r.id: r for r in response.registries}
    assert {"gbdfl", "zags", "vehicles"} <= set(by_id)
    assert by_id["gbdfl"].protocol == "shep-soap"
    assert by_id["zags"].protocol == "soap"
    assert by_id["vehicles"].protocol == "rest"
    assert by_id["gbdfl"].breaker == bus_pb2.BREAKER_STATE_CLOSED
    assert by_id["gbdfl"].recent_calls == 1
    assert [o.name for o in by_id["vehicles"].operations] == [
        "get_vehicle",
        "list_vehicles_by_owner",
    ]


async def test_health_overall_and_per_registry(
    channel: grpc.aio.Channel, stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    serving = health_pb2.HealthCheckResponse.SERVING
    for service in ("", SERVICE_NAME, health_name("gbdfl"), health_name("vehicles")):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == serving, service
    embedded.mocks.faults.set("gbdfl", _fault("down"))
    for _ in range(3):
        with pytest.raises(CallFailed):
            await query(stub, "gbdfl", "get_person", iin=ARMAN)
    gbdfl = await health.Check(
        health_pb2.HealthCheckRequest(service=health_name("gbdfl")), timeout=5
    )
    assert gbdfl.status == health_pb2.HealthCheckResponse.NOT_SERVING
    overall = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert overall.status == serving


async def test_reflection_lists_the_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names: list[str] = []
    async for reply in stub.ServerReflectionInfo(iter([request])):
        names += [s.name for s in reply.list_services_response.service]
    assert SERVICE_NAME in names
    assert "grpc.health.v1.Health" in names


async def test_metrics_are_exposed_and_count_outcomes(
    stub: bus_pb2_grpc.RegistryBusStub, embedded: Embedded
) -> None:
    await query(stub, "gbdfl", "get_person", iin=ARMAN)
    with pytest.raises(CallFailed):
        await query(stub, "gbdfl", "get_person", iin="940512410508")
    ok = await metric(embedded, "regbus_requests_total", registry="gbdfl", outcome="ok")
    missing = await metric(embedded, "regbus_requests_total", registry="gbdfl", outcome="not_found")
    assert (ok, missing) == (1, 1)
    assert await metric(embedded, "regbus_breaker_state", registry="gbdfl", state="closed") == 1
    assert await metric(embedded, "regbus_request_duration_seconds_count", registry="gbdfl") == 2


async def test_status_page_and_probes(embedded: Embedded) -> None:
    base = f"http://127.0.0.1:{embedded.bus.http_port}"
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/healthz")).status_code == 200
        assert (await http.get(f"{base}/readyz")).status_code == 200
        status = (await http.get(f"{base}/status")).json()
        page = (await http.get(f"{base}/")).text
    assert {"gbdfl", "zags", "vehicles", "insurance"} <= {r["id"] for r in status["registries"]}
    assert "gbdfl" in page and "closed" in page


def _fault(text: str):  # type: ignore[no-untyped-def]
    from regbus.mocks.faults import parse_fault

    return parse_fault(text)
