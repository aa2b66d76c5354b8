"""The medical and restricted registers (narcology, psychiatry, health): the demo subjects
come out through the bus as the catalogue says, and the registers answer yes/no facts,
never a diagnosis (their contract suite runs in test_adapter_contract)."""

from __future__ import annotations

import pytest
from lxml import etree

from regbus.adapters.mapping import to_record
from regbus.adapters.narcology import NARCOLOGY
from regbus.adapters.views import XmlView
from regbus.bus.client import CallFailed
from regbus.mocks.narcology import NarcologyMock
from regbus.mocks.population import Population
from regbus.mocks.psychiatry import PsychiatryMock
from regbus.v1 import bus_pb2_grpc, records_pb2
from tests.registries import day
from tests.test_bus_integration import query

ARMAN, DAUREN, CHILD = "850314354052", "771130308916", "261005565684"
DEMO = (ARMAN, "920721425717", CHILD, DAUREN, "690214412868", "550601388798", "881225416427")
UNKNOWN = "940512410508"


async def test_narcology_register(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "narcology", "check_registration", iin=DAUREN)
    check = answer.record.register_check
    assert answer.record.type == "regbus.v1.RegisterCheck"
    assert (check.iin, check.register, check.registered) == (DAUREN, "narcology", True)
    assert day(check.registered_on) == "2023-05-17"
    assert check.dispensary == "Karaganda regional narcology centre"
    for iin in (ARMAN, UNKNOWN):  # the register cannot tell a stranger from anyone else
        no = (await query(stub, "narcology", "check_registration", iin=iin)).record
        assert no.register_check == records_pb2.RegisterCheck(iin=iin, register="narcology")


async def test_psychiatric_register(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    for iin in DEMO:
        no = (await query(stub, "psychiatry", "check_registration", iin=iin)).record
        assert no.register_check == records_pb2.RegisterCheck(iin=iin, register="psychiatry")
    row = next(iter(Population.load().psychiatry.values()))  # a generated registered person
    check = (
        await query(stub, "psychiatry", "check_registration", iin=row["iin"])
    ).record.register_check
    assert (check.iin, check.register, check.registered) == (row["iin"], "psychiatry", True)
    assert (day(check.registered_on), check.dispensary) == (
        row["registered_on"],
        row["dispensary"],
    )


def test_the_registers_answer_no_more_than_yes_or_no() -> None:
    population = Population.demo()
    for mock, iin in ((NarcologyMock(population), DAUREN), (PsychiatryMock(population), ARMAN)):
        request = mock.schema.build("CheckRegistration", iin=iin)
        answer = mock.answer("CheckRegistration", XmlView(request))
        mock.schema.check(answer, "CheckRegistrationResponse")
        names = {etree.QName(child).localname for child in answer}
        assert names <= {"iin", "register", "registered", "registeredOn", "dispensary"}


def test_an_answer_from_the_other_register_is_refused() -> None:
    mock = PsychiatryMock(Population.demo())
    answer = mock.answer(
        "CheckRegistration", XmlView(mock.schema.build("CheckRegistration", iin=ARMAN))
    )
    into = NARCOLOGY.operations[0].record
    assert into is not None
    with pytest.raises(ValueError, match="psychiatry register"):
        to_record(into, XmlView(answer), {"iin": ARMAN})


async def test_health_summaries(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "health", "get_summary", iin=ARMAN)
    summary = answer.record.health
    assert answer.record.type == "regbus.v1.HealthSummary"
    assert (summary.iin, summary.clinic) == (ARMAN, "Astana city polyclinic No. 4")
    assert day(summary.attached_on) == "2019-09-10"
    assert (summary.disability_group, list(summary.vaccinations)) == ("", [])
    child = (await query(stub, "health", "get_summary", iin=CHILD)).record.health
    assert [(v.vaccine, day(v.date)) for v in child.vaccinations] == [
        ("BCG", "2026-10-06"),
        ("Hepatitis B 1", "2026-10-06"),
    ]
    row = next(h for h in Population.load().health.values() if h["disability_group"])
    disabled = (await query(stub, "health", "get_summary", iin=row["iin"])).record.health
    assert disabled.disability_group == row["disability_group"]
    with pytest.raises(CallFailed) as caught:
        await query(stub, "health", "get_summary", iin=UNKNOWN)
    assert (caught.value.code, caught.value.registry, caught.value.retryable) == (
        "NOT_FOUND",
        "health",
        False,
    )
