"""The address register and the land cadastre: the demo subjects' registrations and the
generated population's parcels come out through the bus as the catalogue says (their
contract suite runs in test_adapter_contract)."""

from __future__ import annotations

import pytest

from regbus.bus.client import CallFailed
from regbus.mocks.population import Population, group
from regbus.v1 import bus_pb2_grpc, records_pb2
from tests.registries import day
from tests.test_bus_integration import query

ARMAN, NATALYA = "850314354052", "881225416427"
DEMO = (ARMAN, "920721425717", "261005565684", "771130308916", "690214412868", NATALYA)


async def test_residence_registrations(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    answer = await query(stub, "address", "get_registration", iin=NATALYA)
    temporary = answer.record.registration
    assert answer.record.type == "regbus.v1.ResidenceRegistration"
    assert temporary.kind == records_pb2.REGISTRATION_KIND_TEMPORARY
    assert (day(temporary.registered_on), day(temporary.valid_to)) == ("2026-03-02", "2027-03-01")
    assert temporary.address == records_pb2.Address(
        code="0200000000045678",
        region_code="02",
        region="Almaty",
        city="Almaty",
        street="Tole Bi street",
        house="89",
        flat="7",
        kind="apartment",
    )
    permanent = (await query(stub, "address", "get_registration", iin=ARMAN)).record.registration
    assert (permanent.iin, permanent.kind) == (ARMAN, records_pb2.REGISTRATION_KIND_PERMANENT)
    assert not permanent.HasField("valid_to")
    assert (permanent.address.city, permanent.address.street) == ("Astana", "Kabanbay Batyr avenue")
    with pytest.raises(CallFailed) as caught:
        await query(stub, "address", "get_registration", iin="940512410508")
    assert (caught.value.code, caught.value.retryable) == ("NOT_FOUND", False)


async def test_addresses_by_code(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    home = (await query(stub, "address", "get_address", code="0100000000012345")).record
    assert home.type == "regbus.v1.Address"
    assert (home.address.city, home.address.house, home.address.flat) == ("Astana", "53", "112")
    office = (await query(stub, "address", "get_address", code="0100000000067890")).record.address
    assert (office.street, office.kind, office.flat) == ("Dostyk street", "office", "")
    with pytest.raises(CallFailed) as unknown:
        await query(stub, "address", "get_address", code="9900000000000000")
    assert unknown.value.code == "NOT_FOUND"
    with pytest.raises(CallFailed) as bad:
        await query(stub, "address", "get_address", code="01000000000123")
    assert (bad.value.code, bad.value.reason) == ("INVALID_ARGUMENT", "INVALID_ADDRESS_CODE")


async def test_land_parcels(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    for iin in DEMO:  # the demo subjects hold no land
        none = await query(stub, "land", "get_parcel", owner=iin)
        assert none.record.WhichOneof("kind") == "parcels" and not none.record.parcels.parcels
    row = next(iter(Population.load().parcels.values()))
    answer = await query(stub, "land", "get_parcel", cadastral_number=row["cadastral_number"])
    (parcel,) = answer.record.parcels.parcels
    assert answer.record.type == "regbus.v1.ParcelList"
    assert (parcel.cadastral_number, parcel.purpose, parcel.area_ha, parcel.region) == (
        row["cadastral_number"],
        row["purpose"],
        row["area_ha"],
        row["region"],
    )
    assert (parcel.owner, day(parcel.acquired_on)) == (row["owner"], row["acquired_on"])
    owned = await query(stub, "land", "get_parcel", owner=row["owner"])
    assert parcel in owned.record.parcels.parcels
    farms = group(Population.load().parcels.values(), "owner")
    farm = next(rows for owner, rows in farms.items() if owner not in Population.load().persons)
    by_bin = (await query(stub, "land", "get_parcel", owner=farm[0]["owner"])).record
    assert {p.cadastral_number for p in by_bin.parcels.parcels} == {
        r["cadastral_number"] for r in farm
    }
    with pytest.raises(CallFailed) as unknown:
        await query(stub, "land", "get_parcel", cadastral_number="99:000:000:000")
    assert (unknown.value.code, unknown.value.registry) == ("NOT_FOUND", "land")
    with pytest.raises(CallFailed) as bad:
        await query(stub, "land", "get_parcel", cadastral_number="06-737-553-457")
    assert bad.value.reason == "INVALID_CADASTRAL_NUMBER"
    with pytest.raises(CallFailed) as both:
        await query(stub, "land", "get_parcel", cadastral_number="06:737:553:457", owner=ARMAN)
    assert both.value.reason == "CONFLICTING_PARAMETERS"
