"""The plain SOAP registries realestate, criminal, benefits and zags' birth registration:
the demo subjects' facts come out of the real mocks over real sockets through the real
router and adapters; ``register_birth`` makes one act and ``assign_birth_benefit`` one
benefit per child (their contract suite runs in test_adapter_contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from regbus.adapters.benefits import BENEFITS
from regbus.adapters.criminal import CRIMINAL
from regbus.adapters.errors import InvalidParameter, RegistryRejected, SubjectNotFound
from regbus.adapters.realestate import REALESTATE
from regbus.adapters.zags import ZAGS
from regbus.mocks.benefits import BenefitsMock
from regbus.mocks.criminal import CriminalMock
from regbus.mocks.population import Population
from regbus.mocks.realestate import RealEstateMock
from regbus.mocks.zags import ZagsMock
from regbus.v1 import records_pb2
from tests.conftest import CALL_CONTEXT
from tests.registries import Routed, day, routed

ARMAN, AIGERIM, ALIKHAN = "850314354052", "920721425717", "261005565684"
DAUREN, GULNARA, UNKNOWN = "771130308916", "690214412868", "940512410508"
# Generated spouses of the default population with no children yet, and the IIN a
# newborn daughter of theirs might get (the population does not hold it).
AKMARAL, ANSAR, NEWBORN = "960601440478", "920415302054", "261120604109"
APARTMENT = "02:101:023:045:34"
CONTEXT = replace(CALL_CONTEXT, request_id="test-soap-registries")


@dataclass
class Soap(Routed):
    zags: ZagsMock
    benefits: BenefitsMock


@pytest.fixture
async def soap() -> AsyncIterator[Soap]:
    population = Population.load()
    zags, benefits = ZagsMock(population), BenefitsMock(population)
    mocks = [zags, benefits, RealEstateMock(population), CriminalMock(population)]
    async with routed(mocks, (ZAGS, BENEFITS, REALESTATE, CRIMINAL), population) as router:
        yield Soap(router, population, zags, benefits)


async def test_the_demo_apartment_under_an_arrest(soap: Soap) -> None:
    owned = (await soap.record("realestate", "list_property", owner=GULNARA)).properties
    assert list(owned.properties) == [
        records_pb2.Property(
            cadastral_number=APARTMENT,
            kind="apartment",
            address_code="0200000000034567",
            area=68.4,
            rooms=3,
            owner=GULNARA,
            acquired_on=records_pb2.Date(year=2012, month=11, day=20),
            encumbered=True,
        )
    ]
    arrest = records_pb2.Encumbrance(
        encumbrance_number="EN-2026-0005512",
        cadastral_number=APARTMENT,
        kind="ARREST",
        holder="State Revenue Department of Almaty",
        registered_on=records_pb2.Date(year=2026, month=5, day=18),
    )
    by_number = await soap.record("realestate", "list_encumbrances", cadastral_number=APARTMENT)
    by_owner = await soap.record("realestate", "list_encumbrances", owner=GULNARA)
    assert list(by_number.encumbrances.encumbrances) == [arrest]
    assert by_owner == by_number


async def test_real_estate_of_owners_with_nothing_and_unknown_numbers(soap: Soap) -> None:
    for owner in (ARMAN, UNKNOWN):  # the register indexes property, not people
        nothing = await soap.record("realestate", "list_property", owner=owner)
        assert nothing.WhichOneof("kind") == "properties" and not nothing.properties.properties
        none = await soap.record("realestate", "list_encumbrances", owner=owner)
        assert none.WhichOneof("kind") == "encumbrances" and not none.encumbrances.encumbrances
    unheld = await soap.failure(
        "realestate", "list_encumbrances", cadastral_number="99:000:000:000:1"
    )
    assert isinstance(unheld, SubjectNotFound)
    for params in (
        {"cadastral_number": "02-101-023-045-34"},
        {"owner": GULNARA} | {"cadastral_number": APARTMENT},
    ):
        assert isinstance(
            await soap.failure("realestate", "list_encumbrances", **params), InvalidParameter
        )


async def test_criminal_records(soap: Soap) -> None:
    record = (await soap.record("criminal", "get_record", iin=DAUREN)).criminal_record
    assert (record.iin, record.has_record) == (DAUREN, True)
    assert list(record.convictions) == [
        records_pb2.Conviction(
            article="CC 188.2",
            description="theft",
            convicted_on=records_pb2.Date(year=2012, month=4, day=3),
            court="Karaganda city court No. 2",
            sentence="2 years of restricted freedom",
        )
    ]
    clean = await soap.record("criminal", "get_record", iin=ARMAN)
    assert clean.criminal_record == records_pb2.CriminalRecord(iin=ARMAN, has_record=False)
    assert isinstance(await soap.failure("criminal", "get_record", iin=UNKNOWN), SubjectNotFound)


async def test_the_demo_birth_benefit(soap: Soap) -> None:
    benefits = (await soap.record("benefits", "list_benefits", iin=AIGERIM)).benefits
    assert list(benefits.benefits) == [
        records_pb2.Benefit(
            benefit_number="BN-2026-0017305",
            iin=AIGERIM,
            kind="BIRTH",
            amount=164350,  # 38 MRP of 2026
            assigned_on=records_pb2.Date(year=2026, month=10, day=19),
            status=records_pb2.BENEFIT_STATUS_PAID,
            child_iin=ALIKHAN,
        )
    ]
    none = await soap.record("benefits", "list_benefits", iin=ARMAN)
    assert none.WhichOneof("kind") == "benefits" and not none.benefits.benefits
    assert isinstance(await soap.failure("benefits", "list_benefits", iin=UNKNOWN), SubjectNotFound)


async def test_the_demo_birth_act(soap: Soap) -> None:
    acts = (await soap.record("zags", "list_acts", iin=ALIKHAN)).civil_acts.acts
    assert [(a.act_number, a.type, a.role) for a in acts] == [
        ("BR-2026-0011742", records_pb2.CIVIL_ACT_TYPE_BIRTH, "subject")
    ]
    assert sorted(acts[0].participant_iins) == sorted([ARMAN, AIGERIM])


BIRTH = {
    "mother_iin": AKMARAL,
    "father_iin": ANSAR,
    "last_name": "Zhakenova",
    "first_name": "Aruzhan",
    "patronymic": "Ansarkyzy",
    "sex": "FEMALE",
    "birth_date": "2026-11-20",
    "birth_place": "Almaty",
    "idempotency_key": "birth-key-0001",
}


DEMO_BIRTH = BIRTH | {
    "mother_iin": AIGERIM,
    "father_iin": ARMAN,
    "last_name": "Akhmetov",
    "first_name": "Alikhan",
    "patronymic": "Armanuly",
    "sex": "MALE",
    "birth_date": "2026-10-05",
    "birth_place": "Astana",
    "idempotency_key": "demo-birth-again",
}


async def births(soap: Soap, iin: str) -> list[records_pb2.CivilAct]:
    """The birth acts naming ``iin`` as a parent."""
    acts = (await soap.record("zags", "list_acts", iin=iin)).civil_acts.acts
    return [a for a in acts if a.type == records_pb2.CIVIL_ACT_TYPE_BIRTH and a.role != "subject"]


async def test_register_birth_makes_one_act(soap: Soap) -> None:
    assert await births(soap, AKMARAL) == []
    first = (await soap.record("zags", "register_birth", **BIRTH)).civil_act
    assert first.act_number.startswith(f"BR-{ZagsMock.today().year}-")
    assert len(first.act_number) == len("BR-2026-0011742")
    assert (first.type, first.subject_iin, first.role) == (
        records_pb2.CIVIL_ACT_TYPE_BIRTH,
        "",  # until the IIN register numbers the child
        "subject",
    )
    assert first.registry_office == "Almaty city civil registry office"
    assert sorted(first.participant_iins) == sorted([AKMARAL, ANSAR])
    assert day(first.registered_on) == ZagsMock.today().isoformat()

    again = (await soap.record("zags", "register_birth", **BIRTH)).civil_act
    assert again == first
    for parent in (AKMARAL, ANSAR):  # both parents see the one act, once
        assert [a.act_number for a in await births(soap, parent)] == [first.act_number]
    assert [a["act_number"] for a in soap.zags.registered] == [first.act_number]

    # The same child under a new key: one birth, one act.
    twice = await soap.failure(
        "zags", "register_birth", **BIRTH | {"idempotency_key": "birth-key-0002"}
    )
    assert isinstance(twice, RegistryRejected) and "BIRTH_ALREADY_REGISTERED" in str(twice)
    # A twin is another birth: another act, another number.
    twin = BIRTH | {"first_name": "Aisulu", "idempotency_key": "birth-key-0003"}
    other = (await soap.record("zags", "register_birth", **twin)).civil_act
    assert other.act_number != first.act_number
    assert [a.act_number for a in await births(soap, AKMARAL)] == [
        first.act_number,
        other.act_number,
    ]


async def test_register_birth_refusals(soap: Soap) -> None:
    without_father = {k: v for k, v in BIRTH.items() if k not in ("father_iin", "birth_place")}
    act = (await soap.record("zags", "register_birth", **without_father)).civil_act
    assert list(act.participant_iins) == [AKMARAL]
    assert act.registry_office == "Almaty city civil registry office"  # her home city
    refusals = [
        ("IDEMPOTENCY_KEY_REUSED", BIRTH | {"first_name": "Aigul"}),
        (
            "BIRTH_DATE_IN_FUTURE",
            BIRTH | {"birth_date": "2099-01-01", "idempotency_key": "key-future"},
        ),
        ("PARENT_MISMATCH", BIRTH | {"mother_iin": ANSAR, "idempotency_key": "key-mother"}),
        ("BIRTH_ALREADY_REGISTERED", DEMO_BIRTH),  # the demo child, registered in October
    ]
    for code, params in refusals:
        await refused(soap, "zags", "register_birth", code, params)
    for role in ("mother_iin", "father_iin"):
        unknown = BIRTH | {role: UNKNOWN, "idempotency_key": f"k-{role}"}
        assert isinstance(await soap.failure("zags", "register_birth", **unknown), SubjectNotFound)
    assert [a["act_number"] for a in soap.zags.registered] == [act.act_number]


async def refused(
    soap: Soap, registry: str, operation: str, code: str, params: dict[str, str]
) -> None:
    failed = await soap.failure(registry, operation, **params)
    assert isinstance(failed, RegistryRejected) and f"({code})" in str(failed), (code, failed)


ASSIGN = {"iin": AKMARAL, "child_iin": NEWBORN, "idempotency_key": "benefit-key-0001"}


async def test_assign_birth_benefit_once_per_child(soap: Soap) -> None:
    assert not (await soap.record("benefits", "list_benefits", iin=AKMARAL)).benefits.benefits
    first = (await soap.record("benefits", "assign_birth_benefit", **ASSIGN)).benefit
    assert (first.iin, first.child_iin, first.kind) == (AKMARAL, NEWBORN, "BIRTH")
    assert first.amount == 38 * 4325  # BIRTH_BENEFIT_MRP of the birth year 2026
    assert first.status == records_pb2.BENEFIT_STATUS_ACTIVE
    assert first.benefit_number.startswith(f"BN-{BenefitsMock.today().year}-")
    assert day(first.assigned_on) == BenefitsMock.today().isoformat()

    again = (await soap.record("benefits", "assign_birth_benefit", **ASSIGN)).benefit
    assert again == first
    listed = (await soap.record("benefits", "list_benefits", iin=AKMARAL)).benefits.benefits
    assert list(listed) == [first]
    assert [row["child_iin"] for row in soap.benefits.assigned] == [NEWBORN]

    # A new key for the same child, from either parent: refused, nothing changes.
    for parent in (AKMARAL, ANSAR):
        repeat = ASSIGN | {"iin": parent, "idempotency_key": f"benefit-key-{parent}"}
        refused = await soap.failure("benefits", "assign_birth_benefit", **repeat)
        assert isinstance(refused, RegistryRejected) and "BENEFIT_ALREADY_ASSIGNED" in str(refused)
    listed = (await soap.record("benefits", "list_benefits", iin=AKMARAL)).benefits.benefits
    assert list(listed) == [first]
    assert len(soap.benefits.assigned) == 1


async def test_assign_birth_benefit_refusals(soap: Soap) -> None:
    await soap.record("benefits", "assign_birth_benefit", **ASSIGN)
    refusals = [
        ("BENEFIT_ALREADY_ASSIGNED", {"iin": AIGERIM, "child_iin": ALIKHAN}),
        ("NOT_A_PARENT", {"iin": AKMARAL, "child_iin": ALIKHAN}),
        ("NOT_ELIGIBLE", {"iin": AIGERIM, "child_iin": ARMAN}),  # born in 1985
        ("IDEMPOTENCY_KEY_REUSED", ASSIGN | {"iin": ANSAR}),
    ]
    for n, (code, params) in enumerate(refusals):
        asked = {"idempotency_key": f"refused-key-{n}"} | params
        await refused(soap, "benefits", "assign_birth_benefit", code, asked)
    stranger = ASSIGN | {"iin": UNKNOWN, "idempotency_key": "stranger-key-1"}
    assert isinstance(
        await soap.failure("benefits", "assign_birth_benefit", **stranger), SubjectNotFound
    )
    assert len(soap.benefits.assigned) == 1
