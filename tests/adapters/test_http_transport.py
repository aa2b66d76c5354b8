"""The HTTP transport under every adapter: answers bounded by size and read as a
stream, broken connections and Retry-After as registry errors, the registry's own
words kept out of error messages, and no import attempted per call."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import struct
import sys
import tracemalloc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from regbus.adapters.base import DEFAULT_MAX_ANSWER_BYTES, Adapter, CallContext, Endpoint
from regbus.adapters.declared import declared
from regbus.adapters.errors import (
    AnswerTooLarge,
    RegistryFault,
    RegistryRejected,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.gbdfl import GBDFL
from regbus.adapters.http import HttpTransport, parse_retry_after
from regbus.adapters.insurance import INSURANCE
from regbus.adapters.rest import RestClient
from regbus.adapters.soap.client import SoapClient
from regbus.adapters.vehicles import VEHICLES
from regbus.adapters.zags import ZAGS
from regbus.bus.config import ConfigError, parse_config
from regbus.mocks.faults import parse_fault
from regbus.mocks.gbdfl import GbdflMock
from regbus.mocks.insurance import InsuranceMock
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.mocks.vehicles import VehiclesMock
from regbus.mocks.zags import ZagsMock
from tests.conftest import serving
from tests.scripted_http import ScriptedHttp, reply

CONTEXT = CallContext(request_id="req-1", operator_id="op-7", case_number="case-1")
MB = 1024 * 1024
HUGE = 50 * MB
CHUNK = 64 * 1024


@dataclasses.dataclass
class Streamed:
    """How much of a huge answer the server managed to send before the client hung up."""

    written: int = 0
    done: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def http_server(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def registry() -> AsyncIterator[tuple[str, dict[str, Streamed]]]:
    """A registry that answers ``/ok`` small and ``/length`` or ``/chunked`` with 50 MB."""
    streams: dict[str, Streamed] = {"length": Streamed(), "chunked": Streamed()}

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"plate": "123ABC01"})

    async def huge(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        stream = streams[kind]
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if kind == "length":
            response.content_length = HUGE
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"x" * CHUNK
        try:
            while stream.written < HUGE:
                await response.write(chunk)
                stream.written += len(chunk)
            await response.write_eof()
        except ConnectionResetError:
            pass
        finally:
            stream.done.set()
        return response

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/{kind}", huge)
    async with http_server(app) as url:
        yield url, streams


@pytest.mark.parametrize("kind", ["length", "chunked"])
async def test_an_answer_over_the_limit_is_cut_off_and_the_next_call_works(
    registry: tuple[str, dict[str, Streamed]], kind: str
) -> None:
    url, streams = registry
    http = HttpTransport(Endpoint(url, max_answer_bytes=MB), registry="land")
    try:
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge) as caught:
                await http.request("GET", f"{url}/{kind}", "get_parcel")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        error = caught.value
        assert (
            error.message == "answer larger than the 1.0 MB limit for this registry; cut off unread"
        )
        assert (error.registry, error.operation, error.reason) == (
            "land",
            "get_parcel",
            "ANSWER_TOO_LARGE",
        )
        assert isinstance(error, RegistryFault) and not error.retryable
        assert ("Content-Length: 52428800" in error.detail) == (kind == "length")
        assert peak < 3 * MB  # never the whole answer, nor anything near it
        # The connection was dropped, not drained: the registry could not deliver it all.
        await asyncio.wait_for(streams[kind].done.wait(), 30)
        assert streams[kind].written < HUGE
        answer = await http.request("GET", f"{url}/ok", "get_parcel")
        assert (answer.status, json.loads(answer.body)) == (200, {"plate": "123ABC01"})
    finally:
        await http.aclose()


async def test_an_answer_at_the_limit_is_read_whole(
    registry: tuple[str, dict[str, Streamed]],
) -> None:
    url, _ = registry
    body = json.dumps({"plate": "123ABC01"}).encode()
    exact = HttpTransport(Endpoint(url, max_answer_bytes=len(body)), registry="land")
    short = HttpTransport(Endpoint(url, max_answer_bytes=len(body) - 1), registry="land")
    try:
        assert (await exact.request("GET", f"{url}/ok", "get")).body == body
        with pytest.raises(AnswerTooLarge, match=f"the {len(body) - 1} bytes limit"):
            await short.request("GET", f"{url}/ok", "get")
    finally:
        await exact.aclose()
        await short.aclose()


ADAPTER_CASES = [
    pytest.param("vehicles", VEHICLES, "get_vehicle", {"plate": "123ABC01"}, id="rest"),
    pytest.param("zags", ZAGS, "list_acts", {"iin": "850314354052"}, id="soap"),
    pytest.param("gbdfl", GBDFL, "get_person", {"iin": "850314354052"}, id="shep"),
    pytest.param("insurance", INSURANCE, "get_policy", {"plate": "123ABC01"}, id="xroad"),
]


@pytest.fixture(scope="module")
def population() -> Population:
    return Population.load()


@pytest.fixture
async def mocks(population: Population) -> AsyncIterator[MockServer]:
    registries = [
        VehiclesMock(population),
        ZagsMock(population),
        GbdflMock(population),
        InsuranceMock(population),
    ]
    async with serving(*registries) as server:
        yield server


@pytest.mark.parametrize(("registry", "spec", "operation", "params"), ADAPTER_CASES)
async def test_every_wire_style_cuts_off_a_huge_answer(
    mocks: MockServer, registry: str, spec: Any, operation: str, params: dict[str, str]
) -> None:
    endpoint = dataclasses.replace(mocks.adapter_endpoints()[registry], max_answer_bytes=256 * 1024)
    adapter: Adapter = declared(spec)(endpoint)
    try:
        mocks.faults.set(registry, parse_fault("huge=20"))
        with pytest.raises(AnswerTooLarge, match=r"256\.0 KB limit"):
            await adapter.call(operation, params, CONTEXT)
        mocks.faults.set(registry, parse_fault("ok"))
        record = await adapter.call(operation, params, CONTEXT)
        assert record.WhichOneof("kind")
    finally:
        await adapter.aclose()


def test_the_huge_fault_mode() -> None:
    fault = parse_fault("huge=50")
    assert (fault.mode, fault.size, str(fault)) == ("huge", 50 * MB, "huge=50")
    assert parse_fault("huge=0.5").size == MB // 2
    for wrong in ("huge", "huge=0", "huge=-1", "huge=lots"):
        with pytest.raises(ValueError, match="huge=MB"):
            parse_fault(wrong)


async def test_the_pool_is_opened_lazily_with_the_endpoint_limits(
    registry: tuple[str, dict[str, Streamed]],
) -> None:
    url, _ = registry
    http = HttpTransport(Endpoint(url, max_connections=3, connect_timeout=2.0), registry="land")
    assert http._session is None  # nothing opened outside the running loop
    try:
        await http.request("GET", f"{url}/ok", "get")
        session = http._session
        assert session is not None and session.connector is not None
        assert session.connector.limit == 3
        assert session.timeout.sock_connect == 2.0
        await http.request("GET", f"{url}/ok", "get")
        assert http._session is session  # one session per adapter, reused
    finally:
        await http.aclose()


def test_the_answer_limit_must_be_a_positive_whole_number() -> None:
    assert Endpoint("http://x.test/").max_answer_bytes == DEFAULT_MAX_ANSWER_BYTES == 4 * MB
    for wrong in (0, -1, True, 1.5, "4MB"):
        with pytest.raises(ValueError, match="land: max_answer_bytes must be a whole number"):
            HttpTransport(Endpoint("http://x.test/", max_answer_bytes=wrong), registry="land")  # type: ignore[arg-type]


def test_max_answer_bytes_in_the_configuration() -> None:
    def parse(**table: Any) -> Any:
        return parse_config({"registries": {"land": {"url": "http://land.test/", **table}}})

    assert parse().registries["land"].endpoint.max_answer_bytes == 4 * MB
    assert parse(max_answer_bytes=65536).registries["land"].endpoint.max_answer_bytes == 65536
    for wrong in (0, -5, "4MB", 1.5, True):
        with pytest.raises(ConfigError, match=r"registries\.land\.max_answer_bytes must be"):
            parse(max_answer_bytes=wrong)


@contextlib.asynccontextmanager
async def raw_server(answers: list[str]) -> AsyncIterator[str]:
    """A registry speaking raw HTTP/1.1, one connection per request, answering each
    in turn: ``ok``, ``cut`` (closes mid-answer), ``reset`` (RST mid-answer) or
    ``silent`` (closes without answering)."""
    pending = iter(answers)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            mode = next(pending)
            if mode == "ok":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
                )
            elif mode in ("cut", "reset"):
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000\r\n\r\n" + b'{"plate": "' + b"x" * 100
                )
            await writer.drain()
            if mode == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("answers", "text"),
    [
        (["cut"], "broke in the middle of the answer"),
        (["reset"], "broke in the middle of the answer|reset the connection"),
        # aiohttp sends a GET again, once, when a connection closes before any answer
        (["silent", "silent"], "closed the connection without answering"),
    ],
)
async def test_a_connection_broken_mid_answer_is_unavailable(answers: list[str], text: str) -> None:
    async with raw_server([*answers, "ok"]) as url:
        client = RestClient(Endpoint(url), registry="land")
        try:
            with pytest.raises(RegistryUnavailable, match=text) as caught:
                await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
            assert caught.value.retryable
            assert caught.value.__cause__ is not None  # translated once, from aiohttp's error
            assert await client.get_json("parcels/1", "get_parcel", context=CONTEXT) == {}
        finally:
            await client.aclose()


NOW = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("3600", 60.0),  # capped
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # already past
        ("Sun, 01 Mar 2026 12:00:00 GMT", 60.0),
        ("-5", None),
        ("soon", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=lambda: NOW) == seconds


def rest_answering(status: int, body: str, **headers: str) -> RestClient:
    http = ScriptedHttp(lambda _: reply(status, body, "application/problem+json", headers))
    return RestClient(Endpoint("http://land.test/api"), registry="land", http=http)


@pytest.mark.parametrize(
    ("status", "headers", "expected", "retry_after"),
    [
        (503, {"Retry-After": "7"}, RegistryUnavailable, 7.0),
        (429, {"Retry-After": "120"}, RegistryUnavailable, 60.0),
        (429, {}, RegistryUnavailable, None),
        (502, {"Retry-After": "7"}, RegistryUnavailable, None),  # only 429 and 503 say when
        (500, {"Retry-After": "7"}, RegistryFault, None),
    ],
)
async def test_retry_after_reaches_the_error(
    status: int, headers: dict[str, str], expected: type[Exception], retry_after: float | None
) -> None:
    client = rest_answering(status, json.dumps({"status": status}), **headers)
    with pytest.raises(expected) as caught:
        await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
    assert getattr(caught.value, "retry_after", None) == retry_after


async def test_retry_after_in_an_http_date_from_a_real_answer() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=45), usegmt=True)

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy", headers={"retry-after": when})

    app = web.Application()
    app.router.add_post("/ws", busy)
    async with http_server(app) as url:
        soap = SoapClient("zags.wsdl", Endpoint(f"{url}/ws"), registry="zags")
        try:
            with pytest.raises(RegistryUnavailable, match="HTTP 503") as caught:
                await soap.send("ListActs", "list_acts", iin="850314354052")
        finally:
            await soap.aclose()
    assert caught.value.retry_after is not None and 30 < caught.value.retry_after <= 45


ORACLE = (
    "ORA-00942: table or view does not exist\n"
    'ORA-06512: at "ZAGS.PKG_ACTS", line 412\n' + "    at oracle.jdbc.driver ..." * 200
)


def soap_fault(code: str, text: str) -> str:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        f"<faultcode>s:{code}</faultcode><faultstring>{text}</faultstring>"
        "</s:Fault></s:Body></s:Envelope>"
    )


@pytest.mark.parametrize(
    ("code", "expected"), [("Server", RegistryFault), ("Client", RegistryRejected)]
)
async def test_a_database_error_in_a_soap_fault_stays_in_the_detail(
    code: str, expected: type[RegistryFault | RegistryRejected]
) -> None:
    http = ScriptedHttp(lambda _: reply(500, soap_fault(code, ORACLE)), registry="zags")
    soap = SoapClient("zags.wsdl", Endpoint("http://zags.test/ws"), registry="zags", http=http)
    with pytest.raises(expected) as caught:
        await soap.send("ListActs", "list_acts", iin="850314354052")
    error = caught.value
    assert "ORA-" not in error.message and "ORA-" not in str(error)
    assert len(error.message) <= 200
    assert "ORA-00942: table or view does not exist" in error.detail


Problem = Callable[[str], str]


@pytest.mark.parametrize(
    ("status", "expected", "message"),
    [
        (500, RegistryFault, "registry answered HTTP 500 Internal Server Error"),
        (404, SubjectNotFound, "the registry does not know the subject (VEHICLE_NOT_FOUND)"),
        (422, RegistryRejected, "the registry refused the request (code VEHICLE_NOT_FOUND)"),
    ],
)
async def test_a_database_error_in_a_problem_stays_in_the_detail(
    status: int, expected: type[Exception], message: str
) -> None:
    problem = {"status": status, "detail": ORACLE, "code": "VEHICLE_NOT_FOUND"}
    client = rest_answering(status, json.dumps(problem))
    with pytest.raises(expected) as caught:
        await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
    error: Any = caught.value
    assert error.message == message
    assert "ORA-00942" in error.detail


IMPORTS: list[str] = []
_WATCHING = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING and event == "import":
        IMPORTS.append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while watching


@pytest.mark.parametrize(("registry", "spec", "operation", "params"), ADAPTER_CASES)
async def test_calls_attempt_no_imports(
    mocks: MockServer, registry: str, spec: Any, operation: str, params: dict[str, str]
) -> None:
    global _WATCHING
    adapter: Adapter = declared(spec)(mocks.adapter_endpoints()[registry])
    try:
        await adapter.call(operation, params, CONTEXT)  # first use opens the pool
        IMPORTS.clear()
        _WATCHING = True
        try:
            for _ in range(5):
                await adapter.call(operation, params, CONTEXT)
        finally:
            _WATCHING = False
    finally:
        await adapter.aclose()
    assert IMPORTS == []


async def test_a_refused_connection_says_the_request_never_left() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        unused_port = sock.getsockname()[1]
    client = RestClient(Endpoint(f"http://127.0.0.1:{unused_port}/api"), registry="land")
    try:
        with pytest.raises(RegistryUnavailable) as caught:
            await client.get_json("parcels/1", "get_parcel", context=CONTEXT)
    finally:
        await client.aclose()
    error = caught.value
    assert error.message == "cannot reach the registry (connection refused)"
    assert error.delivered is False  # so even a write may be sent again
    assert f"127.0.0.1:{unused_port}" in error.detail
