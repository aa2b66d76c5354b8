"""Answers become records by the paths of a declaration, strictly typed."""

from __future__ import annotations

from types import ModuleType

import pytest
from lxml import etree

from regbus.adapters.checks import _record_problems
from regbus.adapters.mapping import enum_prefix, to_record
from regbus.adapters.spec import Into
from regbus.adapters.views import JsonView, XmlView
from regbus.bus.describe import describe
from regbus.v1 import records_pb2

NS = "urn:test:person"
PERSON_XML = f"""
<answer xmlns="{NS}"><person code="7">
  <iin>850314354052</iin><lastName>Akhmetov</lastName><gender>MALE</gender>
  <birthDate>1985-03-14+06:00</birthDate><doc><number>N1</number></doc>
</person></answer>"""
PERSON = Into(
    "person",
    {
        "iin": "iin",
        "last_name": "lastName",
        "patronymic": "middleName?",
        "sex": "gender",
        "birth_date": "birthDate",
        "document_number": "doc/number",
        "birth_place": "@code",
    },
    at="person",
)


def test_xml_paths_fill_a_typed_record() -> None:
    record = to_record(PERSON, XmlView(etree.fromstring(PERSON_XML)), {})
    person = record.person
    assert (person.iin, person.last_name, person.patronymic) == ("850314354052", "Akhmetov", "")
    assert person.sex == records_pb2.SEX_MALE
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (1985, 3, 14)
    assert person.document_number == "N1" and person.birth_place == "7"
    assert record.type == "regbus.v1.Person"


def test_a_missing_required_value_names_the_field() -> None:
    answer = etree.fromstring(PERSON_XML.replace("<lastName>Akhmetov</lastName>", ""))
    with pytest.raises(ValueError, match="lastName"):
        to_record(PERSON, XmlView(answer), {})


def test_an_unknown_enum_value_is_refused_but_unknown_means_unspecified() -> None:
    odd = etree.fromstring(PERSON_XML.replace(">MALE<", ">ROBOT<"))
    with pytest.raises(ValueError, match="Sex"):
        to_record(PERSON, XmlView(odd), {})
    unknown = etree.fromstring(PERSON_XML.replace(">MALE<", ">UNKNOWN<"))
    assert to_record(PERSON, XmlView(unknown), {}).person.sex == records_pb2.SEX_UNSPECIFIED


VEHICLES = Into(
    "vehicles",
    {"plate": "plate", "year": "year", "owner_iin": "owner.iin", "colour": "colour?"},
    each="items",
)


def test_json_list_records_map_every_item() -> None:
    body = {
        "items": [
            {"plate": "123ABC01", "year": 2019, "owner": {"iin": "850314354052"}},
            {"plate": "777KZA09", "year": 2016, "owner": {"iin": "850314354052"}, "colour": "grey"},
        ]
    }
    record = to_record(VEHICLES, JsonView(body), {})
    assert [v.plate for v in record.vehicles.vehicles] == ["123ABC01", "777KZA09"]
    assert record.vehicles.vehicles[1].colour == "grey"
    empty = to_record(VEHICLES, JsonView({"items": []}), {})
    assert empty.WhichOneof("kind") == "vehicles" and not empty.vehicles.vehicles


@pytest.mark.parametrize(
    "item",
    [
        {"plate": 123, "year": 2019, "owner": {"iin": "1"}},  # a number where text belongs
        {"plate": "1", "year": "2019", "owner": {"iin": "1"}},  # text where a number belongs
        {"plate": "1", "year": True, "owner": {"iin": "1"}},  # a boolean is not a number
        {"plate": "1", "year": 2019, "owner": "850314354052"},  # no owner object
    ],
)
def test_wrong_json_types_are_refused(item: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        to_record(VEHICLES, JsonView({"items": [item]}), {})


def test_functions_and_generic_records() -> None:
    into = Into(
        "generic",
        {"number": "parcel.number", "area": "parcel.area", "owner": lambda v, p: p["iin"]},
        type="kz.land.Parcel",
    )
    body = {"parcel": {"number": "21:320:018", "area": 12.5}}
    record = to_record(into, JsonView(body), {"iin": "850314354052"})
    assert record.type == "kz.land.Parcel"
    assert dict(record.generic) == {"number": "21:320:018", "area": 12.5, "owner": "850314354052"}


def test_enum_prefix_follows_the_style_guide() -> None:
    assert enum_prefix(records_pb2.CivilActType.DESCRIPTOR) == "CIVIL_ACT_TYPE_"
    assert enum_prefix(records_pb2.Sex.DESCRIPTOR) == "SEX_"


# `extension`: the integrator's own message (tests/conftest.py compiles kg.land.v1.Parcel).
PARCEL = Into(
    "extension",
    {"number": "parcel.number", "area": "parcel.area", "owner_iin": "parcel.owner.iin"},
    type="kg.land.v1.Parcel",
)


def test_json_fills_an_extension_message_packed_in_any(parcel_pb2: ModuleType) -> None:
    body = {"parcel": {"number": "21:320:018", "area": 12.5, "owner": {"iin": "850314354052"}}}
    record = to_record(PARCEL, JsonView(body), {})
    assert record.WhichOneof("kind") == "extension" and record.type == "kg.land.v1.Parcel"
    assert record.extension.type_url == "type.googleapis.com/kg.land.v1.Parcel"
    parcel = parcel_pb2.Parcel()
    assert record.extension.Unpack(parcel)
    assert (parcel.number, parcel.area, parcel.owner_iin) == ("21:320:018", 12.5, "850314354052")
    assert describe(record) == "kg.land.v1.Parcel with 3 field(s) set"
    record.extension.type_url = "type.googleapis.com/kg.land.v1.Unloaded"
    record.type = "kg.land.v1.Unloaded"
    assert describe(record) == "kg.land.v1.Unloaded (its proto is not loaded here)"


def test_xml_fills_an_extension_list(parcel_pb2: ModuleType) -> None:
    into = Into(
        "extension",
        {"number": "number", "area": "area", "owner_iin": "@owner"},
        each="parcel",
        type="kg.land.v1.ParcelList",
    )
    answer = etree.fromstring(
        "<parcels><parcel owner='850314354052'><number>21:320:018</number><area>12.5</area>"
        "</parcel><parcel owner='940512410508'><number>21:320:019</number><area>3</area>"
        "</parcel></parcels>"
    )
    record = to_record(into, XmlView(answer), {})
    assert record.type == "kg.land.v1.ParcelList"
    parcels = parcel_pb2.ParcelList()
    assert record.extension.Unpack(parcels)
    got = [(p.number, p.area, p.owner_iin) for p in parcels.parcels]
    assert got == [("21:320:018", 12.5, "850314354052"), ("21:320:019", 3.0, "940512410508")]
    empty = to_record(into, XmlView(etree.fromstring("<parcels/>")), {})
    assert empty.WhichOneof("kind") == "extension" and empty.type == "kg.land.v1.ParcelList"


@pytest.mark.parametrize(
    "parcel",
    [
        {"number": 21320018, "area": 12.5, "owner": {"iin": "1"}},  # a number where text belongs
        {"number": "1", "area": "12.5", "owner": {"iin": "1"}},  # text where a number belongs
        {"number": "1", "area": 12.5},  # a required value missing
    ],
)
def test_extension_values_are_strictly_typed(
    parcel_pb2: ModuleType, parcel: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=r"Parcel\.|parcel\.owner"):
        to_record(PARCEL, JsonView({"parcel": parcel}), {})


def test_extension_declarations_are_checked(parcel_pb2: ModuleType) -> None:
    assert list(_record_problems(PARCEL)) == []
    unknown = Into("extension", {"number": "n"}, type="kg.land.v1.Parsel")
    assert list(_record_problems(unknown)) == [
        "no message 'kg.land.v1.Parsel' is loaded"
        " (import its _pb2 module where the registry is declared)"
    ]
    (problem,) = _record_problems(Into("extension", {"number": "n"}))
    assert "needs its message name" in problem
    (problem,) = _record_problems(Into("extension", {"acreage": "a"}, type="kg.land.v1.Parcel"))
    assert problem == (
        "record kg.land.v1.Parcel has no field 'acreage' (it has: number, area, owner_iin)"
    )
    (problem,) = _record_problems(Into("extension", {"number": "n"}, each="p", type=PARCEL.type))
    assert problem == "kg.land.v1.Parcel is not a list record"
