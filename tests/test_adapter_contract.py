"""One contract every adapter and its mock registry must pass (as pybreaker runs one
storage suite against every storage)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from regbus.adapters.base import Adapter, CallContext, Endpoint
from regbus.adapters.errors import (
    RegistryFailure,
    RegistryFault,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.bus.plugins import discover
from regbus.mocks.faults import parse_fault
from regbus.mocks.server import MockServer


@dataclass(frozen=True)
class Sample:
    operation: str
    known: dict[str, str]
    record_kind: str
    unknown: dict[str, str]


SAMPLES = {
    "gbdfl": Sample("get_person", {"iin": "850314354052"}, "person", {"iin": "940512410508"}),
    "zags": Sample("list_acts", {"iin": "850314354052"}, "civil_acts", {"iin": "940512410508"}),
    "vehicles": Sample("get_vehicle", {"plate": "123ABC01"}, "vehicle", {"plate": "999ZZZ01"}),
}
CONTEXT = CallContext(request_id="contract-test", client_id="tests")


@pytest.fixture(params=sorted(SAMPLES))
def registry(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def mocks() -> AsyncIterator[MockServer]:
    server = MockServer()
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def adapter(registry: str, mocks: MockServer) -> AsyncIterator[Adapter]:
    cls = discover()[registry]
    instance = cls(Endpoint(url=mocks.endpoints()[registry]))
    try:
        yield instance
    finally:
        await instance.aclose()


def test_every_installed_adapter_has_a_sample_and_a_mock() -> None:
    installed = discover()
    assert set(SAMPLES) <= set(installed)
    for registry_id, cls in installed.items():
        spec = cls.spec
        assert spec.registry == registry_id
        assert spec.protocol in ("shep-soap", "xroad-soap", "soap", "rest")
        assert spec.operations and all(op.params for op in spec.operations)
    assert set(MockServer().registries) >= set(SAMPLES)


def test_adapter_refuses_an_unusable_url(registry: str) -> None:
    with pytest.raises(ValueError):
        discover()[registry](Endpoint(url="not a url"))


async def test_known_subject_gives_its_record(registry: str, adapter: Adapter) -> None:
    sample = SAMPLES[registry]
    record = await adapter.call(sample.operation, sample.known, CONTEXT)
    assert record.WhichOneof("kind") == sample.record_kind
    assert record.ByteSize() > 0


async def test_unknown_subject_is_a_business_not_found(registry: str, adapter: Adapter) -> None:
    sample = SAMPLES[registry]
    with pytest.raises(SubjectNotFound) as caught:
        await adapter.call(sample.operation, sample.unknown, CONTEXT)
    assert caught.value.registry == registry
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("down", RegistryUnavailable), ("errors=1", RegistryFailure), ("malformed", RegistryFault)],
)
async def test_faults_become_transient_registry_errors(
    registry: str, adapter: Adapter, mocks: MockServer, mode: str, expected: type[Exception]
) -> None:
    sample = SAMPLES[registry]
    mocks.faults.set(registry, parse_fault(mode))
    with pytest.raises(expected) as caught:
        await adapter.call(sample.operation, sample.known, CONTEXT)
    assert getattr(caught.value, "registry", None) == registry
    assert getattr(caught.value, "retryable", False)


async def test_a_cancelled_call_leaves_the_adapter_usable(
    registry: str, adapter: Adapter, mocks: MockServer
) -> None:
    sample = SAMPLES[registry]
    mocks.faults.set(registry, parse_fault("hang"))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(adapter.call(sample.operation, sample.known, CONTEXT), 0.2)
    mocks.faults.set(registry, parse_fault("ok"))
    record = await adapter.call(sample.operation, sample.known, CONTEXT)
    assert record.WhichOneof("kind") == sample.record_kind


async def test_slow_registry_still_answers(
    registry: str, adapter: Adapter, mocks: MockServer
) -> None:
    sample = SAMPLES[registry]
    mocks.faults.set(registry, parse_fault("slow=50"))
    record = await adapter.call(sample.operation, sample.known, CONTEXT)
    assert record.WhichOneof("kind") == sample.record_kind
