"""The REST registries of the catalogue (licences, fines, inspection): the demo subjects come
out through the bus as the catalogue says (their contract suite runs in test_adapter_contract)."""

from __future__ import annotations

from typing import Any

import pytest

from regbus.adapters.fines import FINE
from regbus.adapters.licences import LICENCE
from regbus.adapters.mapping import fill
from regbus.adapters.views import JsonView
from regbus.bus.client import CallFailed
from regbus.v1 import bus_pb2_grpc, records_pb2
from tests.test_bus_integration import query

ARMAN, DAUREN = "850314354052", "771130308916"


async def test_licences_of_the_demo_subjects(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "licences", "get_licence", iin=ARMAN)
    licence = answer.record.licence
    assert answer.record.type == "regbus.v1.DriverLicence"
    assert list(licence.categories) == ["B", "C"]
    assert licence.status == records_pb2.LICENCE_STATUS_VALID
    assert (licence.number, licence.issued_on.year, licence.valid_to.year) == (
        "AB123456",
        2018,
        2028,
    )
    revoked = (await query(stub, "licences", "get_licence", iin=DAUREN)).record.licence
    assert revoked.status == records_pb2.LICENCE_STATUS_REVOKED
    assert revoked.revocation_reason == "court decision"
    with pytest.raises(CallFailed) as caught:
        await query(stub, "licences", "get_licence", iin="940512410508")
    assert (caught.value.code, caught.value.retryable) == ("NOT_FOUND", False)


async def test_fines_of_the_demo_subjects(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "fines", "list_fines", iin=ARMAN)
    fines = answer.record.fines.fines
    assert answer.record.type == "regbus.v1.FineList"
    assert [f.status for f in fines] == [records_pb2.FINE_STATUS_UNPAID] * 2
    assert [f.fine_number for f in fines] == ["EF-2026-00047208", "EF-2026-00031541"]
    assert {(f.plate, f.amount, f.iin) for f in fines} == {("123ABC01", 21625, ARMAN)}
    assert fines[0].article == "CAO 597.1" and not fines[0].HasField("paid_on")
    by_plate = (await query(stub, "fines", "list_fines", plate="123ABC01")).record.fines.fines
    assert [f.fine_number for f in by_plate] == [f.fine_number for f in fines]
    none = await query(stub, "fines", "list_fines", iin=DAUREN)
    assert none.record.WhichOneof("kind") == "fines" and not none.record.fines.fines
    with pytest.raises(CallFailed) as caught:
        await query(stub, "fines", "list_fines", iin=ARMAN, plate="123ABC01")
    assert caught.value.reason == "CONFLICTING_PARAMETERS"


async def test_inspections_of_the_demo_vehicles(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "inspection", "get_inspection", plate="123ABC01")
    valid = answer.record.inspection
    assert answer.record.type == "regbus.v1.Inspection"
    assert (valid.status, valid.result) == (records_pb2.INSPECTION_STATUS_VALID, "PASSED")
    assert (valid.valid_to.year, valid.valid_to.month, valid.valid_to.day) == (2027, 6, 1)
    assert valid.station == "Astana technical inspection centre No. 3"
    by_vin = await query(stub, "inspection", "get_inspection", vin=valid.vin)
    assert by_vin.record.inspection == valid
    expired = (await query(stub, "inspection", "get_inspection", plate="777KZA09")).record
    assert expired.inspection.status == records_pb2.INSPECTION_STATUS_EXPIRED
    with pytest.raises(CallFailed) as caught:
        await query(stub, "inspection", "get_inspection", plate="999ZZZ01")
    assert caught.value.code == "NOT_FOUND"


FINE_ON_THE_WIRE = {
    "number": "EF-2026-00031541",
    "offender": {"iin": ARMAN},
    "article": "CAO 592.1",
    "description": "speeding",
    "amount": 21625,
    "issuedOn": "2026-09-14",
    "paid": False,
}
LICENCE_ON_THE_WIRE = {
    "iin": ARMAN,
    "number": "AB123456",
    "categories": ["B", "C"],
    "status": "valid",
    "issuedOn": "2018-06-14",
    "validTo": "2028-06-13",
}


@pytest.mark.parametrize(
    ("message", "fields", "wire", "change"),
    [
        (records_pb2.Fine, FINE, FINE_ON_THE_WIRE, {"paid": "false"}),
        (records_pb2.Fine, FINE, FINE_ON_THE_WIRE, {"paid": None}),
        (records_pb2.Fine, FINE, FINE_ON_THE_WIRE, {"amount": "21625"}),
        (records_pb2.Fine, FINE, FINE_ON_THE_WIRE, {"issuedOn": "14.09.2026"}),
        (records_pb2.DriverLicence, LICENCE, LICENCE_ON_THE_WIRE, {"status": "lost"}),
        (records_pb2.DriverLicence, LICENCE, LICENCE_ON_THE_WIRE, {"categories": [1]}),
    ],
)
def test_wire_values_are_converted_strictly(
    message: Any, fields: Any, wire: dict[str, Any], change: dict[str, Any]
) -> None:
    fill(message(), fields, JsonView(wire), {})  # the unchanged answer maps
    with pytest.raises(ValueError):
        fill(message(), fields, JsonView(wire | change), {})
