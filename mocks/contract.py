"""The contract suite every adapter and its mock registry must pass, as a pytest plugin.

An integrator's tests are one class::

    from regbus.testing import ContractSuite

    class TestLand(ContractSuite):
        registries = ("land",)   # default: every installed adapter that has a mock

or ``pytest --regbus-registry land`` to choose on the command line. Each case
runs the adapter against its own mock registry over real sockets; the
samples come from the declaration (``Operation.sample``). Test ids name the
registry and operation (``test_known_subject[land.get_parcel]``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import pytest
from aiohttp import ClientSession, web
from prometheus_client import CollectorRegistry

from regbus.adapters.base import Adapter, CallContext
from regbus.adapters.declared import declared
from regbus.adapters.errors import (
    InvalidParameter,
    RegbusError,
    RegistryFailure,
    RegistryFault,
    RegistryTimeout,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.kinds import TEXT
from regbus.adapters.mapping import content
from regbus.adapters.spec import Operation, Param, Registry
from regbus.bus.access import with_demo_access
from regbus.bus.config import Config, with_endpoints
from regbus.bus.plugins import discover
from regbus.bus.router import Router
from regbus.circuit.policy import BreakerPolicy, BulkheadPolicy, Policy, RetryPolicy
from regbus.mocks.faults import parse_fault
from regbus.mocks.plugins import discover_mocks
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.monitoring.metrics import Metrics

# The router is in demo mode (mock registries): the client "demo", with the purpose "demo".
CONTEXT = CallContext(
    request_id="contract-suite", client_id="demo", operator_id="regbus.testing", purpose="demo"
)
# One attempt, a short timeout, a breaker that never opens: each case sees one answer.
POLICY = Policy(
    timeout=0.5,
    default_deadline=3.0,
    retry=RetryPolicy(attempts=1),
    breaker=BreakerPolicy(fail_max=1000, reset_timeout=1.0),
    bulkhead=BulkheadPolicy(max_concurrent=5, max_wait=0.5),
)
FAULTS = {
    "down": RegistryUnavailable,
    "errors=1": RegistryFailure,
    "malformed": RegistryFault,
    "hang": RegistryTimeout,
}


@dataclass(frozen=True)
class Case:
    """One registry, or one of its operations, or one parameter of one."""

    registry: str
    adapter: type[Adapter]
    op: Operation | None = None
    param: Param | None = None
    fault: str = ""

    @property
    def spec(self) -> Registry:
        return self.adapter.spec

    def __str__(self) -> str:
        parts = [
            self.registry,
            *(
                x
                for x in (self.op and self.op.name, self.param and self.param.name, self.fault)
                if x
            ),
        ]
        return ".".join(parts)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regbus-registry",
        action="append",
        default=[],
        metavar="ID",
        help="run the regbus contract suite for this registry only (repeatable)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if cls is None or not issubclass(cls, ContractSuite) or "case" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("regbus_registry") or cls.registries
    cases = list(_cases(cls.selected(chosen), metafunc.function.__name__))
    metafunc.parametrize("case", cases, ids=[str(c) for c in cases])


def _cases(adapters: Mapping[str, type[Adapter]], test: str) -> Iterator[Case]:
    for registry, adapter in sorted(adapters.items()):
        if test in ("test_declaration_matches_its_description", "test_registry_has_a_mock"):
            yield Case(registry, adapter)
            continue
        for op in adapter.spec.operations:
            sample = op.sample
            if test == "test_bad_parameter_is_refused_before_the_wire":
                yield from (Case(registry, adapter, op, p) for p in op.params if p.kind is not TEXT)
            elif sample is None:
                continue
            elif test == "test_unknown_subject_is_not_found" and sample.unknown is not None:
                yield Case(registry, adapter, op)
            elif test == "test_answer_about_another_subject_is_a_fault":
                if sample.other:
                    yield Case(registry, adapter, op)
            elif test == "test_technical_failures_map_to_registry_errors":
                yield from (Case(registry, adapter, op, fault=f) for f in FAULTS)
            elif test in ("test_known_subject_fills_the_record", "test_slow_answer_and_cancel") or (
                test == "test_repeated_write_gives_the_first_answer" and op.idempotency_key
            ):
                yield Case(registry, adapter, op)


class ContractSuite:
    """The cases; subclass it (named ``Test...``) to run them."""

    registries: ClassVar[tuple[str, ...]] = ()  # empty: every installed adapter with a mock
    adapters: ClassVar[Mapping[str, Registry | type[Adapter]]] = {}  # instead of installed ones

    @classmethod
    def selected(cls, names: tuple[str, ...] | list[str]) -> dict[str, type[Adapter]]:
        given = {k: declared(v) if isinstance(v, Registry) else v for k, v in cls.adapters.items()}
        installed = given or discover()
        if not names:
            mocks = discover_mocks()
            return {k: v for k, v in installed.items() if k in mocks}
        missing = [n for n in names if n not in installed]
        if missing:
            raise pytest.UsageError(
                f"regbus contract suite: no adapter installed for {', '.join(missing)}"
                f" (installed: {', '.join(sorted(installed)) or 'none'})"
            )
        return {n: installed[n] for n in names}

    def test_registry_has_a_mock(self, case: Case) -> None:
        assert case.registry in discover_mocks(), (
            f"{case.registry}: no mock registry installed under the entry-point group regbus.mocks"
        )

    def test_declaration_matches_its_description(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _nothing))

    def test_known_subject_fills_the_record(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _known_subject))

    def test_unknown_subject_is_not_found(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _unknown_subject))

    def test_bad_parameter_is_refused_before_the_wire(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _bad_parameter))

    def test_technical_failures_map_to_registry_errors(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _technical_failure))

    def test_answer_about_another_subject_is_a_fault(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _another_subject))

    def test_slow_answer_and_cancel(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _slow_and_cancelled))

    def test_repeated_write_gives_the_first_answer(self, case: Case) -> None:
        asyncio.run(_with_mock(case, _repeated_write))


@dataclass
class Running:
    case: Case
    mocks: MockServer
    router: Router

    async def query(self, params: Mapping[str, str]) -> Any:
        assert self.case.op is not None
        return await self.router.query(self.case.registry, self.case.op.name, params, CONTEXT)

    def expect(self, error: BaseException, kind: type[RegbusError], what: str) -> None:
        assert isinstance(error, kind), (
            f"{self.case}: {what} should be {kind.__name__}, got {type(error).__name__}: {error}"
        )
        assert error.registry == self.case.registry, f"{self.case}: the error names no registry"


async def _with_mock(case: Case, body: Any, endpoint_url: str | None = None) -> None:
    factories = discover_mocks()
    assert case.registry in factories, f"{case.registry}: no mock registry installed"
    mocks = MockServer([factories[case.registry](Population.load())])
    await mocks.start("127.0.0.1", 0)
    try:
        endpoint = mocks.adapter_endpoints()[case.registry]
        config = with_endpoints(
            with_demo_access(Config(policy=POLICY, source=f"contract suite: {case}")),
            {case.registry: endpoint},
        )
        router = Router(config, {case.registry: case.adapter}, Metrics(CollectorRegistry()))
        try:
            await body(Running(case, mocks, router))
        finally:
            await router.aclose()
    finally:
        await mocks.stop()


async def _nothing(run: Running) -> None:
    """Loading the adapter checks the declaration against the WSDL/OpenAPI document."""


async def _known_subject(run: Running) -> None:
    op, case = run.case.op, run.case
    assert op is not None and op.sample is not None
    answer = await run.query(op.sample.known)
    record = answer.record
    kind = op.record.kind if op.record is not None else record.WhichOneof("kind")
    assert record.WhichOneof("kind") == kind, f"{case}: the record is not a {kind}"
    assert record.ByteSize() > 0, f"{case}: the record is empty for {dict(op.sample.known)}"
    message = content(record)  # an extension unpacked
    if op.record is None or message is None:
        return
    items = [message]
    if op.record.each:
        (repeated,) = [f for f in message.DESCRIPTOR.fields if f.is_repeated and f.message_type]
        items = list(getattr(message, repeated.name))
        assert items, f"{case}: the sample subject's list is empty; choose one with entries"
    for name, source in op.record.fields.items():
        if not isinstance(source, str) or source.endswith("?"):
            continue
        for item in items:
            field = item.DESCRIPTOR.fields_by_name[name]
            filled = (
                getattr(item, name)
                if field.is_repeated
                else (
                    item.HasField(name)
                    if field.message_type
                    else getattr(item, name) != field.default_value
                )
            )
            assert filled, f"{case}: the mapping leaves required field {name} ({source}) empty"


async def _unknown_subject(run: Running) -> None:
    op = run.case.op
    assert op is not None and op.sample is not None and op.sample.unknown is not None
    with pytest.raises(RegbusError) as caught:
        await run.query(op.sample.unknown)
    run.expect(caught.value, SubjectNotFound, "an unknown subject")
    assert not caught.value.retryable


async def _bad_parameter(run: Running) -> None:
    op, param = run.case.op, run.case.param
    assert op is not None and param is not None
    params = dict(op.sample.known) if op.sample else {}
    params = {k: v for k, v in params.items() if k not in op.one_of}
    params[param.name] = "0" * 11 + "\n"  # no kind accepts a trailing newline
    before = run.mocks.requests.get(run.case.registry, 0)
    with pytest.raises(RegbusError) as caught:
        await run.query(params)
    run.expect(caught.value, InvalidParameter, f"a bad {param.name}")
    assert run.mocks.requests.get(run.case.registry, 0) == before, (
        f"{run.case}: a request with a bad {param.name} reached the registry"
    )


async def _technical_failure(run: Running) -> None:
    op, fault = run.case.op, run.case.fault
    assert op is not None and op.sample is not None
    run.mocks.faults.set(run.case.registry, parse_fault(fault))
    with pytest.raises(RegbusError) as caught:
        await run.query(op.sample.known)
    run.expect(caught.value, FAULTS[fault], f"registry fault {fault}")
    assert caught.value.retryable, f"{run.case}: {fault} should say a retry may help"


async def _another_subject(run: Running) -> None:
    """A proxy on the wire swaps the subject: the registry answers about someone else."""
    op = run.case.op
    assert op is not None and op.sample is not None and op.sample.other
    pairs = [(v, op.sample.other[k]) for k, v in op.sample.known.items() if k in op.sample.other]
    # As written, and as a URL query or path carries it (a cadastral number's ":" as %3A).
    swaps = list(
        dict.fromkeys(
            (old_.encode(), new_.encode())
            for old, new in pairs
            for old_, new_ in ((old, new), (quote(old, safe=""), quote(new, safe="")))
        )
    )
    endpoint = run.mocks.adapter_endpoints()[run.case.registry]
    async with _swapping_proxy(endpoint.url, swaps) as url:
        config = with_endpoints(
            with_demo_access(Config(policy=POLICY, source="contract suite")),
            {run.case.registry: type(endpoint)(url=url, options=endpoint.options)},
        )
        router = Router(config, {run.case.registry: run.case.adapter}, Metrics(CollectorRegistry()))
        try:
            with pytest.raises(RegbusError) as caught:
                await router.query(run.case.registry, op.name, op.sample.known, CONTEXT)
        finally:
            await router.aclose()
    run.expect(caught.value, RegistryFault, "an answer about another subject")


@contextlib.asynccontextmanager
async def _swapping_proxy(target: str, swaps: list[tuple[bytes, bytes]]) -> AsyncIterator[str]:
    """An HTTP proxy to ``target`` that replaces bytes in requests' paths and bodies."""
    base = target.rstrip("/")
    prefix = "/" + base.split("/", 3)[3] if base.count("/") >= 3 else ""

    def swapped(data: bytes) -> bytes:
        for old, new in swaps:
            data = data.replace(old, new)
        return data

    async with ClientSession() as session:

        async def forward(request: web.Request) -> web.Response:
            path = swapped(request.raw_path.encode()).decode()
            url = base[: len(base) - len(prefix)] + path
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            }
            body = swapped(await request.read())
            async with session.request(request.method, url, headers=headers, data=body) as answer:
                return web.Response(
                    body=await answer.read(),
                    status=answer.status,
                    content_type=answer.content_type,
                    charset=answer.charset,
                )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            yield f"http://127.0.0.1:{port}{prefix}"
        finally:
            await runner.cleanup()


async def _repeated_write(run: Running) -> None:
    """A write sent again with the same idempotency key answers as the first time."""
    op = run.case.op
    assert op is not None and op.sample is not None and op.idempotency_key
    assert op.idempotency_key in op.sample.known, (
        f"{run.case}: the sample gives no {op.idempotency_key}"
    )
    first = await run.query(op.sample.known)
    again = await run.query(op.sample.known)
    assert again.record == first.record, (
        f"{run.case}: a repeat with the same {op.idempotency_key} answered differently"
    )


async def _slow_and_cancelled(run: Running) -> None:
    op = run.case.op
    assert op is not None and op.sample is not None
    run.mocks.faults.set(run.case.registry, parse_fault("hang"))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run.query(op.sample.known), 0.1)
    run.mocks.faults.set(run.case.registry, parse_fault("slow=50"))
    answer = await run.query(op.sample.known)
    assert answer.record.ByteSize() > 0, f"{run.case}: no answer after a cancelled call"
