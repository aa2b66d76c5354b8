"""The service registries migration, kindergarten, mobile and pki: the demo subjects' facts
come out of the real mocks over real sockets through the real router and adapters, and each
write changes the registry once per idempotency key (their contract suite runs in
test_adapter_contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from regbus.adapters.errors import InvalidParameter, RegbusError, RegistryRejected, SubjectNotFound
from regbus.adapters.kindergarten import KINDERGARTEN, UNQUEUED, UNQUEUED_TOO
from regbus.adapters.migration import MIGRATION, MOVE
from regbus.adapters.mobile import MOBILE
from regbus.adapters.pki import PKI
from regbus.mocks.kindergarten import KindergartenMock
from regbus.mocks.migration import MigrationMock
from regbus.mocks.mobile import MobileMock
from regbus.mocks.people import AS_OF
from regbus.mocks.pki import PkiMock
from regbus.mocks.population import Population
from regbus.v1 import records_pb2
from tests.conftest import CALL_CONTEXT
from tests.registries import Routed, day, routed

ARMAN, ALIKHAN, NATALYA = "850314354052", "261005565684", "881225416427"
ZHANSAYA, UNKNOWN = "010101660915", "940512410508"
CONTEXT = replace(CALL_CONTEXT, request_id="test-service-registries")


@dataclass
class Services(Routed):
    migration: MigrationMock
    kindergarten: KindergartenMock
    mobile: MobileMock


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    population = Population.load()
    migration, kindergarten = MigrationMock(population), KindergartenMock(population)
    mobile = MobileMock(population)
    mocks = [migration, kindergarten, mobile, PkiMock(population)]
    async with routed(mocks, (MIGRATION, KINDERGARTEN, MOBILE, PKI), population) as router:
        yield Services(router, population, migration, kindergarten, mobile)


def rejected(error: RegbusError, code: str) -> bool:
    return isinstance(error, RegistryRejected) and code in str(error)


# --- migration ------------------------------------------------------------------------


async def test_the_demo_foreigners_registration(services: Services) -> None:
    registration = await services.content("migration", "get_registration", iin=NATALYA)
    assert (registration.iin, registration.citizenship, registration.document_number) == (
        NATALYA,
        "RUS",
        "75 1234567",
    )
    assert services.population.addresses[registration.address_code]["city"] == "Almaty"
    assert (registration.purpose, registration.status) == ("work", "ACTIVE")
    assert (day(registration.registered_on), day(registration.valid_to)) == (
        "2026-03-02",
        "2027-03-01",
    )
    assert registration.registration_number.startswith("TR-2026-")
    by_document = await services.content(
        "migration", "get_registration", document_number="75 1234567"
    )
    assert by_document == registration
    error = await services.failure("migration", "get_registration", iin=UNKNOWN)
    assert isinstance(error, SubjectNotFound)


async def test_register_temporary_registers_once_per_key(services: Services) -> None:
    before = len(services.migration.registrations)
    old = await services.content("migration", "get_registration", iin=NATALYA)
    first = await services.content("migration", "register_temporary", **MOVE)
    again = await services.content("migration", "register_temporary", **MOVE)
    assert again == first
    assert len(services.migration.registrations) == before + 1
    assert first.registration_number != old.registration_number
    assert (first.address_code, first.status, day(first.valid_to)) == (
        MOVE["address_code"],
        "ACTIVE",
        MOVE["valid_to"],
    )
    assert day(first.registered_on) == AS_OF.isoformat()
    assert await services.content("migration", "get_registration", iin=NATALYA) == first
    (replaced,) = [
        row
        for row in services.migration.registrations
        if row["registration_number"] == old.registration_number
    ]
    assert (replaced["iin"], replaced["status"]) == (NATALYA, "REPLACED")

    # A new key asking for the active registration exactly changes nothing.
    same = await services.content(
        "migration", "register_temporary", **MOVE | {"idempotency_key": "another-key-0001"}
    )
    assert same == first and len(services.migration.registrations) == before + 1
    # The first key with another request is refused; a new key with it replaces.
    longer = MOVE | {"valid_to": "2027-09-30"}
    error = await services.failure("migration", "register_temporary", **longer)
    assert rejected(error, "IDEMPOTENCY_KEY_REUSED")
    extended = await services.content(
        "migration", "register_temporary", **longer | {"idempotency_key": "another-key-0002"}
    )
    assert extended.registration_number not in (first.registration_number, "")
    assert len(services.migration.registrations) == before + 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"valid_to": "2026-11-30"}, "VALID_TO_IN_PAST"),
        ({"iin": ARMAN, "document_number": "N12345678", "citizenship": "KAZ"}, "NOT_A_FOREIGNER"),
        ({"address_code": "0200000000099999"}, "UNKNOWN_ADDRESS"),
        ({"iin": "021115555222"}, "DOCUMENT_OF_ANOTHER_PERSON"),
    ],
)
async def test_register_temporary_refusals(
    services: Services, change: dict[str, str], code: str
) -> None:
    before = len(services.migration.registrations)
    error = await services.failure("migration", "register_temporary", **MOVE | change)
    assert rejected(error, code), error
    assert len(services.migration.registrations) == before


# --- kindergarten ---------------------------------------------------------------------


async def test_the_demo_child_in_the_astana_queue(services: Services) -> None:
    entry = await services.content("kindergarten", "get_queue_position", child_iin=ALIKHAN)
    assert (entry.child_iin, entry.city, day(entry.queued_on)) == (ALIKHAN, "Astana", "2026-10-15")
    assert entry.status == records_pb2.QUEUE_STATUS_WAITING and not entry.kindergarten
    ahead = [
        row
        for row in services.population.kindergarten.values()
        if row["city"] == "Astana"
        and row["status"] == "WAITING"
        and (row["queued_on"], row["child_iin"]) <= ("2026-10-15", ALIKHAN)
    ]
    assert entry.position == len(ahead) > 1
    for child in (UNKNOWN, ARMAN):  # nobody, and someone never queued
        error = await services.failure("kindergarten", "get_queue_position", child_iin=child)
        assert isinstance(error, SubjectNotFound)


def waiting(services: Services, city: str) -> int:
    entries = services.kindergarten.entries.values()
    return sum(1 for row in entries if row["city"] == city and row["status"] == "WAITING")


async def test_enqueue_twice_with_one_key_queues_once(services: Services) -> None:
    before = waiting(services, "Shymkent")
    params = {"child_iin": UNQUEUED, "city": "Shymkent", "idempotency_key": "queue-key-0001"}
    first = await services.content("kindergarten", "enqueue", **params)
    again = await services.content("kindergarten", "enqueue", **params)
    assert again == first and waiting(services, "Shymkent") == before + 1
    assert (first.city, first.position, first.status) == (
        "Shymkent",
        before + 1,
        records_pb2.QUEUE_STATUS_WAITING,
    )
    assert day(first.queued_on) == AS_OF.isoformat()
    read = await services.content("kindergarten", "get_queue_position", child_iin=UNQUEUED)
    assert read == first
    # The next child comes right after: the queue grew by one.
    params_too = {
        "child_iin": UNQUEUED_TOO,
        "city": "Shymkent",
        "idempotency_key": "queue-key-0002",
    }
    second = await services.content("kindergarten", "enqueue", **params_too)
    assert second.position == before + 2


async def test_enqueue_refuses_a_child_already_queued(services: Services) -> None:
    params = {"child_iin": UNQUEUED, "city": "Shymkent", "idempotency_key": "queue-key-0001"}
    await services.content("kindergarten", "enqueue", **params)
    before = dict(services.kindergarten.waiting)
    for child, key in ((UNQUEUED, "queue-key-0002"), (ALIKHAN, "queue-key-0003")):
        params = {"child_iin": child, "city": "Shymkent", "idempotency_key": key}
        error = await services.failure("kindergarten", "enqueue", **params)
        assert rejected(error, "ALREADY_QUEUED"), error
    adult = {"child_iin": ARMAN, "city": "Astana", "idempotency_key": "queue-key-0004"}
    assert rejected(await services.failure("kindergarten", "enqueue", **adult), "NOT_PRESCHOOL")
    assert services.kindergarten.waiting == before


# --- mobile ---------------------------------------------------------------------------


async def test_phone_status_of_the_demo_subjects(services: Services) -> None:
    phone = await services.content("mobile", "get_phone_status", iin=ZHANSAYA)
    assert (phone.iin, phone.has_phone, phone.phone_masked, phone.operator) == (
        ZHANSAYA,
        True,
        "+7 707 *** ** 67",
        "Tele2",
    )
    assert day(phone.registered_on) == "2019-02-11"
    none = await services.content("mobile", "get_phone_status", iin=ALIKHAN)
    assert (none.iin, none.has_phone, none.phone_masked) == (ALIKHAN, False, "")
    assert isinstance(
        await services.failure("mobile", "get_phone_status", iin=UNKNOWN), SubjectNotFound
    )


async def send(services: Services, key: str = "send-key-0001") -> tuple[Any, str]:
    """A code sent to Zhansaya: the answer and the code from the mock's outbox."""
    sent = await services.content("mobile", "send_code", iin=ZHANSAYA, idempotency_key=key)
    texted = services.mobile.outbox[-1]
    assert (texted.code_id, texted.phone) == (sent.code_id, "+77071234567")
    assert texted.code not in [value for _, value in sent.ListFields()]
    return sent, texted.code


async def verify(services: Services, code_id: str, code: str, key: str) -> Any:
    return await services.content(
        "mobile", "verify_code", code_id=code_id, code=code, idempotency_key=key
    )


async def test_a_sent_code_verifies_once(services: Services) -> None:
    outbox = len(services.mobile.outbox)
    sent, code = await send(services)
    assert (sent.iin, sent.phone_masked) == (ZHANSAYA, "+7 707 *** ** 67")
    expires = datetime.fromisoformat(sent.expires_at)
    assert timedelta(minutes=4) < expires - services.mobile.clock() <= timedelta(minutes=5)
    assert await send(services) == (sent, code)  # the same key: no second text
    assert len(services.mobile.outbox) == outbox + 1
    checked = await verify(services, sent.code_id, code, "check-key-0001")
    assert (checked.code_id, checked.iin, checked.verified, checked.attempts_left) == (
        sent.code_id,
        ZHANSAYA,
        True,
        3,
    )
    error = await services.failure(
        "mobile", "verify_code", code_id=sent.code_id, code=code, idempotency_key="check-key-0002"
    )
    assert rejected(error, "CODE_SPENT")


async def test_a_wrong_code_costs_an_attempt(services: Services) -> None:
    sent, code = await send(services)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    first = await verify(services, sent.code_id, wrong, "check-key-0001")
    assert (first.verified, first.attempts_left) == (False, 2)
    assert await verify(services, sent.code_id, wrong, "check-key-0001") == first  # no cost
    second = await verify(services, sent.code_id, wrong, "check-key-0002")
    assert (second.verified, second.attempts_left) == (False, 1)
    right = await verify(services, sent.code_id, code, "check-key-0003")
    assert (right.verified, right.attempts_left) == (True, 1)


async def test_codes_run_out_expire_and_are_replaced(services: Services) -> None:
    sent, code = await send(services)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    last = [await verify(services, sent.code_id, wrong, f"check-key-000{n}") for n in range(3)]
    assert [c.attempts_left for c in last] == [2, 1, 0]
    error = await services.failure(
        "mobile", "verify_code", code_id=sent.code_id, code=code, idempotency_key="check-key-0009"
    )
    assert rejected(error, "CODE_SPENT")

    later, code = await send(services, key="send-key-0002")  # a new key: a new code
    assert later.code_id != sent.code_id
    newest, newest_code = await send(services, key="send-key-0003")
    error = await services.failure(
        "mobile", "verify_code", code_id=later.code_id, code=code, idempotency_key="check-key-a"
    )
    assert rejected(error, "CODE_SPENT")  # replaced by the newest
    now = services.mobile.clock()
    services.mobile.clock = lambda: now + timedelta(minutes=5, seconds=1)
    error = await services.failure(
        "mobile",
        "verify_code",
        code_id=newest.code_id,
        code=newest_code,
        idempotency_key="check-key-b",
    )
    assert rejected(error, "CODE_EXPIRED")

    unknown = {"code_id": "00000000-0000-4000-8000-000000000000", "code": "123456"}
    error = await services.failure(
        "mobile", "verify_code", **unknown, idempotency_key="check-key-c"
    )
    assert isinstance(error, SubjectNotFound)
    error = await services.failure(
        "mobile", "send_code", iin=ALIKHAN, idempotency_key="send-key-0009"
    )
    assert rejected(error, "NO_PHONE")


# --- pki ------------------------------------------------------------------------------


async def test_the_demo_signing_certificate(services: Services) -> None:
    serial = "5F3A9C1E7B2D4086A1C3E5F7092B4D6E8A0C1E3F"
    certificate = await services.content("pki", "check_certificate", serial=serial)
    assert (certificate.serial, certificate.iin, certificate.kind) == (serial, ARMAN, "SIGN")
    assert certificate.status == records_pb2.CERTIFICATE_STATUS_VALID
    assert (day(certificate.valid_from), day(certificate.valid_to)) == ("2026-02-10", "2027-02-10")
    error = await services.failure("pki", "check_certificate", serial="0" * 39 + "1")
    assert isinstance(error, SubjectNotFound)
    bad = await services.failure("pki", "check_certificate", serial=serial.lower())
    assert isinstance(bad, InvalidParameter)  # upper case only, refused before the wire


async def test_the_examples_answer_in_order_and_again(services: Services) -> None:
    """As a walk through ListRegistries calls them on one mock: each example in turn (a
    write does not spoil a later example), and a second walk gives the writes' first
    answers again (reads see what the writes changed)."""
    calls = [(spec.registry, op) for spec in (MIGRATION, KINDERGARTEN, MOBILE, PKI)
             for op in spec.operations]  # fmt: skip
    walks = []
    for _ in range(2):
        walk = []
        for registry, op in calls:
            assert op.sample is not None
            answer = await services.router.query(registry, op.name, op.sample.known, CONTEXT)
            assert answer.record.WhichOneof("kind")
            walk.append(answer.record if op.writes else None)
        walks.append(walk)
    assert walks[1] == walks[0]
