"""``SoapClient.send``: the raw-XML path for declarative adapters returns the
operation's output element and maps every failure exactly as ``call`` does."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import zeep
from lxml import etree

from regbus.adapters.base import Endpoint
from regbus.adapters.errors import (
    RegbusError,
    RegistryFault,
    RegistryRejected,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.http import Answer
from regbus.adapters.soap.client import SoapClient, SoapFault
from regbus.mocks.faults import parse_fault
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.mocks.zags import ZagsMock
from tests.conftest import serving
from tests.scripted_http import ScriptedHttp, Sent, reply

NAMESPACE = "urn:kz:zags:civil-acts:v1"
ARMAN = "850314354052"
UNKNOWN = "940512410508"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class Recorder(zeep.Plugin):
    """Sees what plugins see: the request leaving, the answer arriving."""

    def __init__(self) -> None:
        self.sent: list[etree._Element] = []
        self.received: list[etree._Element] = []

    def egress(
        self, envelope: etree._Element, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[etree._Element, Any]:
        http_headers["X-Plugin"] = "egress"
        self.sent.append(envelope)
        return envelope, http_headers

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        self.received.append(envelope)
        return envelope, http_headers


def person_not_found(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
    """ЗАГС's ServiceFault code PERSON_NOT_FOUND is a business answer."""
    detail = fault.detail
    if detail is not None and detail.findtext(f"{{{NAMESPACE}}}code") == "PERSON_NOT_FOUND":
        return SubjectNotFound(fault.message, registry=registry, operation=operation)
    return None


@pytest.fixture
async def zags_server() -> AsyncIterator[MockServer]:
    async with serving(ZagsMock(Population.load())) as server:
        yield server


@pytest.fixture
async def zags_soap(zags_server: MockServer) -> AsyncIterator[SoapClient]:
    soap = SoapClient(
        "zags.wsdl",
        Endpoint(url=zags_server.endpoints()["zags"]),
        registry="zags",
        fault_mapper=person_not_found,
    )
    try:
        yield soap
    finally:
        await soap.aclose()


async def test_send_returns_the_output_element(zags_server: MockServer) -> None:
    recorder = Recorder()
    endpoint = Endpoint(url=zags_server.endpoints()["zags"])
    soap = SoapClient("zags.wsdl", endpoint, registry="zags", plugins=[recorder])
    try:
        answer = await soap.send("ListActs", "list_acts", iin=ARMAN)
    finally:
        await soap.aclose()
    assert answer.tag == f"{{{NAMESPACE}}}ListActsResponse"
    numbers = {a.findtext(f"{{{NAMESPACE}}}actNumber") for a in answer}
    assert numbers == {"BR-1985-0023311", "MR-2019-0004521", "BR-2026-0011742"}
    assert len(recorder.sent) == len(recorder.received) == 1
    request = recorder.sent[0].find(f"{{{SOAP_ENV}}}Body/{{{NAMESPACE}}}ListActsRequest")
    assert request is not None and request.findtext(f"{{{NAMESPACE}}}iin") == ARMAN
    assert answer.getroottree().getroot() is recorder.received[0]


async def test_send_posts_what_zeep_would(zags_soap: SoapClient) -> None:
    seen: list[Sent] = []

    def answer(request: Sent) -> Answer:
        seen.append(request)
        return reply(200, _envelope(f'<z:ListActsResponse xmlns:z="{NAMESPACE}"/>'))

    soap = _scripted(answer)
    try:
        await soap.send("ListActs", "list_acts", iin=ARMAN)
        await soap.call("ListActs", "list_acts", iin=ARMAN)
    finally:
        await soap.aclose()
    sent, called = seen
    assert sent.url == called.url == "http://zags.test/ws"
    for name in ("SOAPAction", "Content-Type"):
        assert sent.headers[name] == called.headers[name]
    assert sent.headers["SOAPAction"] == '"urn:kz:zags:civil-acts:v1/ListActs"'
    assert etree.tostring(etree.fromstring(sent.content), method="c14n") == etree.tostring(
        etree.fromstring(called.content), method="c14n"
    )


@pytest.mark.parametrize(
    ("mode", "expected", "text"),
    [
        ("down", RegistryUnavailable, "HTTP 503"),
        ("errors=1", RegistryFault, "SOAP Server fault"),
        ("malformed", RegistryFault, "malformed answer"),
    ],
)
async def test_send_maps_registry_failures_like_call(
    zags_soap: SoapClient,
    zags_server: MockServer,
    mode: str,
    expected: type[RegbusError],
    text: str,
) -> None:
    zags_server.faults.set("zags", parse_fault(mode))
    for run in (zags_soap.send, zags_soap.call):
        with pytest.raises(expected, match=text) as caught:
            await run("ListActs", "list_acts", iin=ARMAN)
        assert (caught.value.registry, caught.value.operation) == ("zags", "list_acts")


async def test_send_maps_faults_like_call(zags_soap: SoapClient) -> None:
    for run in (zags_soap.send, zags_soap.call):
        with pytest.raises(SubjectNotFound, match="no civil acts name IIN"):
            await run("ListActs", "list_acts", iin=UNKNOWN)
        with pytest.raises(RegistryRejected, match="Client fault"):
            await run("ListActs", "list_acts", iin="12")


def _envelope(body: str, header: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


def _scripted(answer: Callable[[Sent], Answer]) -> SoapClient:
    http = ScriptedHttp(answer, registry="zags")
    return SoapClient("zags.wsdl", Endpoint(url="http://zags.test/ws"), registry="zags", http=http)


@pytest.mark.parametrize(
    ("status", "content", "expected", "text"),
    [
        (200, _envelope('<z:Other xmlns:z="urn:z"/>'), RegistryFault, "expected {urn:kz:zags"),
        (200, _envelope(""), RegistryFault, "SOAP Body is empty"),
        (200, b"<html>not soap</html>", RegistryFault, "no SOAP Body"),
        (200, b"<Envelope", RegistryFault, "malformed answer"),
        (200, b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', RegistryFault, "malformed answer"),
        (503, b"Service Unavailable", RegistryUnavailable, "HTTP 503 Service Unavailable"),
        (502, b"", RegistryUnavailable, "HTTP 502 Bad Gateway"),
        (404, b"<html>gone", RegistryFault, "HTTP 404 Not Found"),
        (500, _envelope("<x/>"), RegistryFault, "malformed answer: expected {urn:kz:zags"),
    ],
)
async def test_send_maps_unusable_answers_like_call(
    status: int, content: bytes, expected: type[RegbusError], text: str
) -> None:
    soap = _scripted(lambda _: reply(status, content))
    try:
        for run in (soap.send, soap.call):
            with pytest.raises(expected, match=text.replace("{", r"\{")):
                await run("ListActs", "list_acts", iin=ARMAN)
    finally:
        await soap.aclose()


async def test_send_maps_connection_failures(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/ws"
    soap = SoapClient("zags.wsdl", Endpoint(url=url), registry="zags")
    try:
        for run in (soap.send, soap.call):
            with pytest.raises(RegistryUnavailable, match="cannot reach"):
                await run("ListActs", "list_acts", iin=ARMAN)
    finally:
        await soap.aclose()


async def test_a_request_that_does_not_fit_the_wsdl_is_a_bug(zags_soap: SoapClient) -> None:
    with pytest.raises(TypeError):
        await zags_soap.send("ListActs", "list_acts", nonsense="x")
    with pytest.raises(ValueError, match="no operation 'Nope'"):
        await zags_soap.send("Nope", "list_acts", iin=ARMAN)


async def test_an_answer_with_an_external_entity_is_refused_unfetched() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/secret"
        evil = f'<!DOCTYPE x [<!ENTITY e SYSTEM "{url}">]>'.encode() + _envelope("&e;")
        soap = _scripted(lambda _: reply(200, evil))
        try:
            for run in (soap.send, soap.call):
                with pytest.raises(RegistryFault, match="malformed answer"):
                    await run("ListActs", "list_acts", iin=ARMAN)
        finally:
            await soap.aclose()
        with pytest.raises(BlockingIOError):
            sock.accept()
