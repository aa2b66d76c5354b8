"""Compose profiles through the real bus and mocks: steps that follow earlier answers,
parts that fail or run late on their own, and the shipped roadside and citizen checks."""

from __future__ import annotations

import dataclasses
import time
import tomllib
from collections.abc import AsyncIterator

import grpc
import pytest

from regbus.bus.client import failure
from regbus.bus.embedded import Embedded, start_embedded
from regbus.bus.profiles import merged_profiles, parse_profiles
from regbus.mocks.faults import parse_fault
from regbus.v1 import bus_pb2, bus_pb2_grpc, records_pb2
from tests.conftest import TEST_CONFIG

DAUREN, PLATE = "771130308916", "777KZA09"
ARMAN = "850314354052"
DRIVER = """
[profiles.driver]
title = "A driver and the papers of their cars"
keys = ["iin", "plate"]

[profiles.driver.let]
iin = ["{iin}", "{vehicle.owner_iin}"]

[[profiles.driver.steps]]
name = "vehicle"
registry = "vehicles"
operation = "get_vehicle"
params = { plate = "{plate}" }

[[profiles.driver.steps]]
name = "person"
registry = "gbdfl"
operation = "get_person"
params = { iin = "{iin}" }

[[profiles.driver.steps]]
name = "licence"
registry = "licences"
operation = "get_licence"
params = { iin = "{iin}" }

[[profiles.driver.steps]]
name = "vehicles"
registry = "vehicles"
operation = "list_vehicles_by_owner"
params = { iin = "{iin}" }

[[profiles.driver.steps]]
name = "insurance"
registry = "insurance"
operation = "get_policy"
params = { plate = "{vehicles.vehicles[].plate}" }

[[profiles.driver.steps]]
name = "inspection"
registry = "inspection"
operation = "get_inspection"
params = { plate = "{vehicles.vehicles[].plate}" }
"""
CONTEXT = bus_pb2.RequestContext(operator_id="officer-7", purpose="demo")


@pytest.fixture
async def bus() -> AsyncIterator[Embedded]:
    profiles = merged_profiles(parse_profiles(tomllib.loads(DRIVER)["profiles"], "test"))
    running = await start_embedded(
        dataclasses.replace(TEST_CONFIG, profiles=profiles), mocks_port=0
    )
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def stub(bus: Embedded) -> AsyncIterator[bus_pb2_grpc.RegistryBusStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus.bus.grpc_port}") as channel:
        yield bus_pb2_grpc.RegistryBusStub(channel)


async def compose(
    stub: bus_pb2_grpc.RegistryBusStub, profile: str, deadline: float = 10, **keys: str
) -> bus_pb2.ComposeResponse:
    request = bus_pb2.ComposeRequest(profile=profile, params=keys, context=CONTEXT)
    try:
        response: bus_pb2.ComposeResponse = await stub.Compose(request, timeout=deadline)
    except grpc.aio.AioRpcError as exc:
        raise failure(exc) from exc
    return response


def by_step(response: bus_pb2.ComposeResponse) -> dict[str, list[bus_pb2.ComposeResponse.Part]]:
    steps: dict[str, list[bus_pb2.ComposeResponse.Part]] = {}
    for part in response.parts:
        steps.setdefault(part.step, []).append(part)
    return steps


async def test_by_iin_the_steps_follow_the_listed_vehicles(
    stub: bus_pb2_grpc.RegistryBusStub,
) -> None:
    response = await compose(stub, "driver", iin=DAUREN)
    steps = by_step(response)
    assert response.profile == "driver"
    assert "vehicle" not in steps  # no plate given: the step is skipped, not failed
    assert [p.step for p in response.parts] == [
        "person", "licence", "vehicles", "insurance", "inspection"
    ]  # fmt: skip
    for part in response.parts:
        assert part.WhichOneof("result") == "response", part
        assert part.response.source.registry == part.registry
    (licence,) = steps["licence"]
    assert licence.response.record.licence.status == records_pb2.LICENCE_STATUS_REVOKED
    (insurance,) = steps["insurance"]
    assert dict(insurance.params) == {"plate": PLATE}
    policies = insurance.response.record.policies.policies
    assert [p.status for p in policies] == [records_pb2.POLICY_STATUS_EXPIRED]
    (inspection,) = steps["inspection"]
    assert inspection.response.record.inspection.status == records_pb2.INSPECTION_STATUS_EXPIRED


async def test_by_plate_the_owner_is_found_and_checked(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    steps = by_step(await compose(stub, "driver", plate=PLATE))
    assert steps["vehicle"][0].response.record.vehicle.owner_iin == DAUREN
    person = steps["person"][0]
    assert dict(person.params) == {"iin": DAUREN}
    assert person.response.record.person.last_name == "Zhaksylykov"
    assert [dict(p.params) for p in steps["insurance"]] == [{"plate": PLATE}]


async def test_a_failed_step_costs_only_the_steps_that_need_it(
    stub: bus_pb2_grpc.RegistryBusStub, bus: Embedded
) -> None:
    bus.mocks.faults.set("vehicles", parse_fault("down"))
    steps = by_step(await compose(stub, "driver", plate=PLATE))
    assert steps["vehicle"][0].error.reason == "REGISTRY_UNAVAILABLE"
    person = steps["person"][0]
    assert person.error.reason == "DEPENDENCY_FAILED"
    assert person.error.registry == "gbdfl"
    assert "vehicle" in person.error.message and person.error.retryable
    # By IIN the same outage leaves the person and licence untouched.
    steps = by_step(await compose(stub, "driver", iin=DAUREN))
    assert steps["person"][0].WhichOneof("result") == "response"
    assert steps["licence"][0].WhichOneof("result") == "response"
    assert steps["vehicles"][0].error.reason == "REGISTRY_UNAVAILABLE"
    assert steps["insurance"][0].error.reason == "DEPENDENCY_FAILED"


async def test_a_hanging_registry_leaves_a_timed_out_part_and_the_rest_in_time(
    stub: bus_pb2_grpc.RegistryBusStub, bus: Embedded
) -> None:
    bus.mocks.faults.set("insurance", parse_fault("hang"))
    started = time.monotonic()
    steps = by_step(await compose(stub, "driver", deadline=2.0, iin=DAUREN))
    assert time.monotonic() - started < 2.0
    (insurance,) = steps["insurance"]
    assert insurance.error.reason in ("DEADLINE_EXCEEDED", "REGISTRY_TIMEOUT")
    assert insurance.error.registry == "insurance"
    for step in ("person", "licence", "vehicles", "inspection"):
        assert steps[step][0].WhichOneof("result") == "response", step


async def test_bad_requests_are_refused_before_any_call(
    stub: bus_pb2_grpc.RegistryBusStub, bus: Embedded
) -> None:
    before = dict(bus.mocks.requests)
    part = bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person")
    cases = [
        (bus_pb2.ComposeRequest(profile="drivr", params={"iin": DAUREN}), "driver"),
        (bus_pb2.ComposeRequest(profile="driver", params={"iin": "771130308917"}), "INVALID_IIN"),
        (bus_pb2.ComposeRequest(profile="driver", params={"vin": "X"}), "UNEXPECTED_PARAMETER"),
        (bus_pb2.ComposeRequest(profile="driver"), "MISSING_PARAMETER"),
        (
            bus_pb2.ComposeRequest(profile="driver", params={"iin": DAUREN}, parts=[part]),
            "not both",
        ),
    ]
    for request, _ in cases:
        request.context.CopyFrom(CONTEXT)
    for request, says in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Compose(request, timeout=5)
        refused = failure(caught.value)
        assert refused.code == "INVALID_ARGUMENT"
        assert says in (refused.reason, refused.message) or says in refused.message, refused
    assert dict(bus.mocks.requests) == before


async def test_list_registries_shows_each_profile_with_its_steps(
    stub: bus_pb2_grpc.RegistryBusStub,
) -> None:
    listed = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=5)
    profiles = {p.name: p for p in listed.profiles}
    assert {"driver", "roadside_check", "citizen_profile"} <= set(profiles)
    driver = profiles["driver"]
    assert list(driver.keys) == ["iin", "plate"]
    insurance = next(s for s in driver.steps if s.name == "insurance")
    assert (insurance.registry, insurance.operation) == ("insurance", "get_policy")
    assert insurance.params["plate"] == "{vehicles.vehicles[].plate}"
    assert list(insurance.after) == ["vehicles"]
    licence = next(s for s in driver.steps if s.name == "licence")
    assert licence.params["iin"] == "{iin} | {vehicle.owner_iin}"
    gbdfl = next(r for r in listed.registries if r.id == "gbdfl")
    assert list(gbdfl.sensitivity) == ["personal"]


async def test_roadside_check_by_iin_and_by_plate_tells_daurens_story(
    stub: bus_pb2_grpc.RegistryBusStub,
) -> None:
    steps = by_step(await compose(stub, "roadside_check", iin=DAUREN))
    assert "criminal" not in {p.registry for parts in steps.values() for p in parts}
    narcology = steps["narcology"][0].response.record.register_check
    assert (narcology.register, narcology.registered) == ("narcology", True)
    assert not steps["psychiatry"][0].response.record.register_check.registered
    licence = steps["licence"][0].response.record.licence
    assert licence.status == records_pb2.LICENCE_STATUS_REVOKED
    assert [v.plate for v in steps["vehicles"][0].response.record.vehicles.vehicles] == [PLATE]
    (policy,) = steps["insurance"][0].response.record.policies.policies
    assert policy.status == records_pb2.POLICY_STATUS_EXPIRED
    inspection = steps["inspection"][0].response.record.inspection
    assert inspection.status == records_pb2.INSPECTION_STATUS_EXPIRED
    by_plate = by_step(await compose(stub, "roadside_check", plate=PLATE))
    assert by_plate["person"][0].response.record.person.iin == DAUREN


async def test_roadside_check_with_insurance_hanging_answers_in_time(
    stub: bus_pb2_grpc.RegistryBusStub, bus: Embedded
) -> None:
    bus.mocks.faults.set("insurance", parse_fault("hang"))
    started = time.monotonic()
    response = await compose(stub, "roadside_check", deadline=2.0, iin=DAUREN)
    assert time.monotonic() - started < 2.0
    failed = [p for p in response.parts if p.WhichOneof("result") == "error"]
    assert [(p.registry, p.error.reason) for p in failed] in (
        [("insurance", "DEADLINE_EXCEEDED")],
        [("insurance", "REGISTRY_TIMEOUT")],
    )
    assert len(response.parts) == 8


async def test_citizen_profile_shows_the_counter_view(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    steps = by_step(await compose(stub, "citizen_profile", iin="690214412868"))
    # No civil act names her: ZAGS does not know her, and only that part says so.
    assert steps.pop("civil_acts")[0].error.reason == "NOT_FOUND"
    assert all(p.WhichOneof("result") == "response" for ps in steps.values() for p in ps)
    (apartment,) = steps["property"][0].response.record.properties.properties
    assert apartment.encumbered
    assert steps["tax_debt"][0].response.record.tax_debt.total > 0
    assert steps["pension"][0].response.record.pension.contributions
    registration = steps["registration"][0].response.record.registration
    assert registration.address.city == "Almaty"
