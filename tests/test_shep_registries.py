"""The ШЭП registries iin, gbdul, tax and pension: the demo subjects' facts come out of the
real mocks over real sockets through the real router and adapters, and ``assign_iin`` numbers
an act once (their contract suite runs in test_adapter_contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest

from regbus.adapters.errors import RegistryRejected, SubjectNotFound
from regbus.adapters.gbdul import GBDUL, NEVER_ISSUED
from regbus.adapters.identifiers import bin_problem, iin_problem
from regbus.adapters.iin import IIN
from regbus.adapters.pension import PENSION
from regbus.adapters.tax import TAX
from regbus.mocks.gbdul import GbdulMock
from regbus.mocks.iin import IinMock
from regbus.mocks.pension import PensionMock
from regbus.mocks.population import Population
from regbus.mocks.tax import TaxMock
from regbus.v1 import records_pb2
from tests.conftest import CALL_CONTEXT
from tests.registries import Routed, day, routed

ARMAN, GULNARA, ALIKHAN, UNKNOWN = "850314354052", "690214412868", "261005565684", "940512410508"
DALA = "150540001233"
CONTEXT = replace(CALL_CONTEXT, request_id="test-shep-registries")


@dataclass
class Shep(Routed):
    iin: IinMock


@pytest.fixture
async def shep() -> AsyncIterator[Shep]:
    population = Population.load()
    iin = IinMock(population)
    mocks = [iin, GbdulMock(population), TaxMock(population), PensionMock(population)]
    async with routed(mocks, (IIN, GBDUL, TAX, PENSION), population) as router:
        yield Shep(router, population, iin)


async def test_the_demo_entity_and_its_director(shep: Shep) -> None:
    record = await shep.record("gbdul", "get_entity", bin=DALA)
    entity = record.entity
    assert record.type == "regbus.v1.LegalEntity"
    assert (entity.bin, entity.name, entity.legal_form, entity.city) == (
        DALA,
        "Dala Logistics",
        "TOO",
        "Astana",
    )
    assert entity.status == records_pb2.ENTITY_STATUS_ACTIVE
    assert not entity.HasField("liquidated_on")
    director = records_pb2.EntityHead(
        iin=ARMAN,
        full_name="Akhmetov Arman Serikuly",
        position="director",
        since=records_pb2.Date(year=2015, month=5, day=12),
    )
    assert list(entity.heads) == [director]
    heads = await shep.record("gbdul", "get_entity_heads", bin=DALA)
    assert list(heads.entity_heads.heads) == [director]


async def test_a_bin_never_issued_is_not_found(shep: Shep) -> None:
    assert bin_problem(NEVER_ISSUED) is None and NEVER_ISSUED not in shep.population.entities
    for operation in ("get_entity", "get_entity_heads"):
        failed = await shep.failure("gbdul", operation, bin=NEVER_ISSUED)
        assert isinstance(failed, SubjectNotFound)


async def test_tax_debts(shep: Shep) -> None:
    debt = (await shep.record("tax", "get_debt", taxpayer=GULNARA)).tax_debt
    assert (debt.taxpayer, debt.total) == (GULNARA, 412350)
    assert [(i.tax, i.amount, day(i.due_date)) for i in debt.items] == [
        ("individual income tax", 287600, "2026-03-25"),
        ("property tax", 124750, "2025-10-01"),
    ]
    for known in (ARMAN, DALA):  # a person and an entity who owe nothing
        nothing = await shep.record("tax", "get_debt", taxpayer=known)
        assert nothing.WhichOneof("kind") == "tax_debt"
        assert nothing.tax_debt == records_pb2.TaxDebt(taxpayer=known, total=0)
    assert isinstance(await shep.failure("tax", "get_debt", taxpayer=UNKNOWN), SubjectNotFound)


async def test_pension_contributions(shep: Shep) -> None:
    account = (await shep.record("pension", "get_contributions", iin=GULNARA)).pension
    assert (account.iin, account.balance) == (GULNARA, 8412530)
    assert [c.period for c in account.contributions] == [f"2026-{m:02d}" for m in range(6, 12)]
    assert {(c.amount, c.agent) for c in account.contributions} == {(42500, GULNARA)}
    employed = (await shep.record("pension", "get_contributions", iin=ARMAN)).pension
    assert {c.agent for c in employed.contributions} == {DALA}
    # No account before a first contribution (a newborn), as for a stranger: not found.
    assert ALIKHAN in shep.population.persons and ALIKHAN not in shep.population.pension
    for iin in (ALIKHAN, UNKNOWN):
        assert isinstance(
            await shep.failure("pension", "get_contributions", iin=iin), SubjectNotFound
        )


def assign(act: str, born: str, sex: str, key: str) -> dict[str, str]:
    # The key first: the request's fields may come in any order.
    return {"idempotency_key": key, "sex": sex, "birth_date": born, "act_number": act}


async def test_a_registered_birth_act_answers_its_iin(shep: Shep) -> None:
    params = assign("BR-2026-0011742", "2026-10-05", "MALE", "demo-act-key-1")
    record = await shep.record("iin", "assign_iin", **params)
    assert record.type == "regbus.v1.IinAssignment"
    assert record.iin_assignment == records_pb2.IinAssignment(
        iin=ALIKHAN,
        birth_act_number="BR-2026-0011742",
        assigned_on=records_pb2.Date(year=2026, month=10, day=9),
        sex=records_pb2.SEX_MALE,
        birth_date=records_pb2.Date(year=2026, month=10, day=5),
    )
    assert shep.iin.issued == {}
    contradicting = assign("BR-2026-0011742", "2026-10-05", "FEMALE", "demo-act-key-2")
    assert isinstance(await shep.failure("iin", "assign_iin", **contradicting), RegistryRejected)


async def test_assign_iin_numbers_an_act_once(shep: Shep) -> None:
    first = assign("BR-2026-0990002", "2026-11-20", "FEMALE", "newborn-key-1")
    once = await shep.record("iin", "assign_iin", **first)
    again = await shep.record("iin", "assign_iin", **first)
    assert again == once
    assigned = once.iin_assignment
    assert iin_problem(assigned.iin) is None
    assert assigned.iin.startswith("2611206")  # born 2026-11-20, a girl of the 2000s
    assert assigned.iin not in shep.population.persons and assigned.iin != UNKNOWN
    assert (assigned.birth_act_number, assigned.sex) == ("BR-2026-0990002", records_pb2.SEX_FEMALE)
    assert issued(shep) == {"BR-2026-0990002": assigned.iin}

    new_key = await shep.record(
        "iin", "assign_iin", **(first | {"idempotency_key": "newborn-key-2"})
    )
    assert new_key == once  # one act, one IIN, whatever the key
    assert issued(shep) == {"BR-2026-0990002": assigned.iin}

    second = assign("BR-2026-0990003", "2026-11-20", "MALE", "newborn-key-3")
    other = (await shep.record("iin", "assign_iin", **second)).iin_assignment
    assert iin_problem(other.iin) is None and other.iin.startswith("2611205")
    assert other.iin != assigned.iin
    assert issued(shep) == {"BR-2026-0990002": assigned.iin, "BR-2026-0990003": other.iin}


async def test_assign_iin_refusals(shep: Shep) -> None:
    await shep.record(
        "iin", "assign_iin", **assign("BR-2026-0990004", "2026-11-02", "MALE", "key-one-1")
    )
    refused: list[Mapping[str, Any]] = [
        # the same key with other act data
        assign("BR-2026-0990005", "2026-11-02", "MALE", "key-one-1"),
        # a birth in the future
        assign("BR-2026-0990006", "2099-01-01", "MALE", "key-two-2"),
    ]
    for params in refused:
        assert isinstance(await shep.failure("iin", "assign_iin", **params), RegistryRejected)
    assert list(issued(shep)) == ["BR-2026-0990004"]


def issued(shep: Shep) -> dict[str, str]:
    """Act number -> IIN of every assignment the mock made."""
    return {act: row["iin"] for act, row in shep.iin.issued.items()}
