"""X-Road 4.0: the headers as they cross the wire (through a recording proxy in
front of the mock ЕСБД), the mock's security-server checks and echo, the
plugin's echo check, fault mapping, and the insurance data."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import (
    RegbusError,
    RegistryFault,
    RegistryRejected,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.soap.client import SoapClient, SoapFault, generic_fault_error
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.xroad import (
    IDENTIFIERS,
    XROAD,
    XRoadHeaders,
    XRoadIdentity,
    XRoadMismatch,
    XRoadSettings,
    request_headers,
)
from regbus.mocks.faults import parse_fault
from regbus.mocks.insurance import InsuranceMock
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from tests.conftest import serving
from tests.scripted_http import http_get, http_post

NS = "urn:kz:esbd:policy:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONTEXT = CallContext(request_id="req-1", operator_id="KZ850314354052", case_number="CASE-77")
Rewrite = Callable[[bytes], bytes]


@dataclass
class Proxy:
    """Forwards POSTs to ``upstream``, keeping every request; ``rewrite`` may alter answers."""

    upstream: str
    url: str = ""
    requests: list[tuple[etree._Element, dict[str, str]]] = field(default_factory=list)
    rewrite: Rewrite | None = None

    async def handle(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.requests.append((etree.fromstring(data), dict(request.headers)))
        async with (
            ClientSession() as session,
            session.post(self.upstream, data=data, headers={"Content-Type": "text/xml"}) as answer,
        ):
            body = await answer.read()
            content_type = answer.headers.get("Content-Type", "text/xml")
        if self.rewrite is not None:
            body = self.rewrite(body)
        return web.Response(body=body, status=answer.status, headers={"Content-Type": content_type})

    def header(self, index: int, name: str) -> etree._Element | None:
        return self.requests[index][0].find(f"{{{SOAP_ENV}}}Header/{{{XROAD}}}{name}")

    def text(self, index: int, name: str) -> str | None:
        """The text of a header of request ``index``; None if it was not sent."""
        element = self.header(index, name)
        return None if element is None else element.text


@pytest.fixture
async def esbd() -> AsyncIterator[MockServer]:
    async with serving(InsuranceMock(Population.load())) as server:
        yield server


@pytest.fixture
async def proxy(esbd: MockServer) -> AsyncIterator[Proxy]:
    recorder = Proxy(esbd.endpoints()["insurance"])
    app = web.Application()
    app.router.add_post("/", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield recorder
    finally:
        await runner.cleanup()


def options(esbd: MockServer) -> dict[str, str]:
    return esbd.endpoint_options()["insurance"]


@pytest.fixture
async def soap(proxy: Proxy, esbd: MockServer) -> AsyncIterator[SoapClient]:
    """An X-Road client for the mock ЕСБД, through the recording proxy."""
    endpoint = Endpoint(url=proxy.url, options=options(esbd))
    client = SoapClient(
        "insurance.wsdl",
        endpoint,
        registry="insurance",
        plugins=[XRoadHeaders.from_options(endpoint.options)],
    )
    try:
        yield client
    finally:
        await client.aclose()


def identifier(element: etree._Element | None) -> tuple[str | None, list[tuple[str, str]]]:
    assert element is not None
    children = [(etree.QName(c).localname, c.text or "") for c in element]
    assert all(etree.QName(c).namespace == IDENTIFIERS for c in element)
    return element.get(f"{{{IDENTIFIERS}}}objectType"), children


def policies(answer: etree._Element) -> list[dict[str, str]]:
    return [{etree.QName(f).localname: f.text or "" for f in p} for p in answer]


async def test_the_headers_on_the_wire(soap: SoapClient, proxy: Proxy) -> None:
    await soap.send("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
    await soap.send("GetPolicy", "get_policy", context=CONTEXT, iin="850314354052")
    assert len(proxy.requests) == 2
    assert identifier(proxy.header(0, "client")) == (
        "SUBSYSTEM",
        [
            ("xRoadInstance", "KZ-TEST"),
            ("memberClass", "GOV"),
            ("memberCode", "000000000001"),
            ("subsystemCode", "regbus"),
        ],
    )
    assert identifier(proxy.header(0, "service")) == (
        "SERVICE",
        [
            ("xRoadInstance", "KZ-TEST"),
            ("memberClass", "COM"),
            ("memberCode", "100140011111"),
            ("subsystemCode", "ESBD"),
            ("serviceCode", "GetPolicy"),
            ("serviceVersion", "v1"),
        ],
    )
    ids = []
    for index in (0, 1):
        assert proxy.text(index, "userId") == "KZ850314354052"
        assert proxy.text(index, "issue") == "CASE-77"
        assert proxy.text(index, "protocolVersion") == "4.0"
        assert uuid.UUID(str(proxy.text(index, "id"))).version == 4
        ids.append(proxy.text(index, "id"))
        assert proxy.requests[index][1]["SOAPAction"] == '""'
    assert ids[0] != ids[1]


async def test_the_headers_fit_xroad_xsd(soap: SoapClient, proxy: Proxy) -> None:
    await soap.send("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
    xroad = PayloadSchema("xroad.xsd")
    header = proxy.requests[0][0].find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    names = [etree.QName(h).localname for h in header]
    assert names == ["client", "service", "id", "userId", "issue", "protocolVersion"]
    for element in header:
        xroad.check(element, etree.QName(element).localname)


async def test_without_a_caller_userid_and_issue_are_left_out(
    soap: SoapClient, proxy: Proxy
) -> None:
    answer = await soap.send("GetPolicy", "get_policy", plate="123ABC01")
    assert policies(answer)[0]["policyNumber"] == "OGPO-2026-00412233"
    assert proxy.text(0, "userId") is None
    assert proxy.text(0, "issue") is None
    assert proxy.text(0, "id")


async def test_concurrent_calls_keep_their_own_caller_and_id(
    soap: SoapClient, proxy: Proxy
) -> None:
    contexts = [
        CallContext(request_id=f"r{i}", operator_id=f"op-{i}", case_number=f"case-{i}")
        for i in range(12)
    ]
    answers = await asyncio.gather(
        *(soap.send("GetPolicy", "get_policy", context=c, plate="777KZA09") for c in contexts)
    )
    assert all(policies(a)[0]["status"] == "EXPIRED" for a in answers)  # every echo matched
    sent = {(proxy.text(i, "userId"), proxy.text(i, "issue")) for i in range(len(contexts))}
    assert sent == {(c.operator_id, c.case_number) for c in contexts}
    assert len({proxy.text(i, "id") for i in range(len(contexts))}) == len(contexts)


async def test_call_goes_through_the_plugin_too(soap: SoapClient, proxy: Proxy) -> None:
    answer = await soap.call("GetPolicy", "get_policy", context=CONTEXT, iin="850314354052")
    numbers = [p.policyNumber for p in answer.body.policy]
    assert numbers == ["OGPO-2026-00412233", "OGPO-2025-00388120"]
    assert answer.header.id == proxy.text(0, "id")


async def test_a_call_without_the_plugin_is_refused(esbd: MockServer) -> None:
    endpoint = Endpoint(url=esbd.endpoints()["insurance"], options=options(esbd))
    plain = SoapClient("insurance.wsdl", endpoint, registry="insurance")
    try:
        with pytest.raises(RegistryRejected, match=r"Client.MissingHeaderField fault") as caught:
            await plain.send("GetPolicy", "get_policy", plate="123ABC01")
        assert "'xrd:client'" in caught.value.detail
    finally:
        await plain.aclose()


def raw_request(headers: list[etree._Element], payload: str = "<plate>123ABC01</plate>") -> bytes:
    """A GetPolicy envelope with exactly ``headers``, built by hand."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(root, f"{{{SOAP_ENV}}}Header").extend(headers)
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    body.append(etree.fromstring(f'<GetPolicy xmlns="{NS}">{payload}</GetPolicy>'))
    return bytes(etree.tostring(root))


def headers_for(esbd: MockServer, service_code: str = "GetPolicy") -> list[etree._Element]:
    settings = XRoadSettings.from_options(options(esbd))
    return request_headers(settings, service_code, str(uuid.uuid4()), CONTEXT)


@dataclass(frozen=True)
class FaultAnswer:
    status: int
    code: str
    message: str
    detail_code: str
    header: list[str]


async def post(esbd: MockServer, data: bytes) -> FaultAnswer:
    answer = await http_post(esbd.endpoints()["insurance"], content=data)
    root = etree.fromstring(answer.content)
    header = root.find(f"{{{SOAP_ENV}}}Header")
    return FaultAnswer(
        answer.status_code,
        root.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode") or "",
        root.findtext(f".//{{{SOAP_ENV}}}Fault/faultstring") or "",
        root.findtext(f".//{{{NS}}}ServiceFault/{{{NS}}}code") or "",
        [] if header is None else [etree.QName(h).localname for h in header],
    )


@pytest.mark.parametrize("missing", ["client", "service", "id", "protocolVersion"])
async def test_the_mock_names_a_missing_header(esbd: MockServer, missing: str) -> None:
    headers = [h for h in headers_for(esbd) if etree.QName(h).localname != missing]
    fault = await post(esbd, raw_request(headers))
    assert (fault.status, fault.code) == (500, "soapenv:Client.MissingHeaderField")
    assert f"'xrd:{missing}'" in fault.message
    assert fault.header == []  # the security server's own faults carry no headers


async def test_the_mock_checks_protocol_service_and_client(esbd: MockServer) -> None:
    old = headers_for(esbd)
    old[-1].text = "3.1"
    assert (await post(esbd, raw_request(old))).code == "soapenv:Client.InvalidProtocolVersion"
    other = await post(esbd, raw_request(headers_for(esbd, "GetSecret")))
    assert other.code == "soapenv:Server.ServerProxy.UnknownService"
    assert "GetSecret" in other.message
    stranger = headers_for(esbd)
    member_code = stranger[0].find(f"{{{IDENTIFIERS}}}memberCode")
    assert member_code is not None
    member_code.text = "999999999999"
    assert (await post(esbd, raw_request(stranger))).code == (
        "soapenv:Server.ServerProxy.AccessDenied"
    )


async def test_the_mock_refuses_both_plate_and_iin(esbd: MockServer) -> None:
    both = "<plate>123ABC01</plate><iin>850314354052</iin>"
    fault = await post(esbd, raw_request(headers_for(esbd), both))
    assert (fault.code, fault.detail_code) == ("soapenv:Client", "INVALID_REQUEST")
    assert fault.header[:3] == ["client", "service", "id"]  # the service's faults are echoed


async def test_the_answer_echoes_the_request_headers(esbd: MockServer) -> None:
    sent = headers_for(esbd)
    data = raw_request(sent)
    answer = await http_post(esbd.endpoints()["insurance"], content=data)
    assert answer.status_code == 200
    header = etree.fromstring(answer.content).find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    echoed = list(header)
    assert [etree.tostring(e, method="c14n") for e in echoed[:-1]] == [
        etree.tostring(e, method="c14n") for e in raw_request_headers(data)
    ]
    assert etree.QName(echoed[-1]).localname == "requestHash"
    assert echoed[-1].get("algorithmId", "").endswith("#sha512")


def raw_request_headers(data: bytes) -> list[etree._Element]:
    header = etree.fromstring(data).find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    return list(header)


def rewrite_header(change: Callable[[etree._Element], None]) -> Rewrite:
    def rewrite(body: bytes) -> bytes:
        root = etree.fromstring(body)
        header = root.find(f"{{{SOAP_ENV}}}Header")
        assert header is not None
        change(header)
        return bytes(etree.tostring(root))

    return rewrite


def found(header: etree._Element, path: str) -> etree._Element:
    element = header.find(path)
    assert element is not None
    return element


def other_id(header: etree._Element) -> None:
    found(header, f"{{{XROAD}}}id").text = "not-the-request-id"


def no_header(header: etree._Element) -> None:
    envelope = header.getparent()
    assert envelope is not None
    envelope.remove(header)


def other_service(header: etree._Element) -> None:
    found(header, f"{{{XROAD}}}service/{{{IDENTIFIERS}}}serviceCode").text = "GetOtherThing"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (other_id, r"does not echo request id [0-9a-f-]{36} \(got not-the-request-id\)"),
        (no_header, "has no SOAP Header"),
        (other_service, "names another service"),
    ],
)
@pytest.mark.parametrize("method", ["send", "call"])
async def test_an_answer_that_does_not_echo_is_a_registry_fault(
    soap: SoapClient,
    proxy: Proxy,
    change: Callable[[etree._Element], None],
    expected: str,
    method: str,
) -> None:
    proxy.rewrite = rewrite_header(change)
    run = soap.send if method == "send" else soap.call
    with pytest.raises(RegistryFault, match=f"X-Road answer.*{expected}") as caught:
        await run("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
    assert caught.value.retryable
    assert (caught.value.registry, caught.value.operation) == ("insurance", "get_policy")


@pytest.mark.parametrize(
    ("mode", "expected", "text"),
    [
        ("errors=1", RegistryFault, "Server.ServerProxy.ServiceFailed"),
        ("down", RegistryUnavailable, "HTTP 503"),
        ("malformed", RegistryFault, "malformed answer"),
    ],
)
@pytest.mark.parametrize("method", ["send", "call"])
async def test_registry_failures(
    soap: SoapClient,
    esbd: MockServer,
    mode: str,
    expected: type[RegbusError],
    text: str,
    method: str,
) -> None:
    esbd.faults.set("insurance", parse_fault(mode))
    run = soap.send if method == "send" else soap.call
    with pytest.raises(expected, match=text) as caught:
        await run("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Server.ServerProxy.ServiceFailed", RegistryFault),
        ("Server.ClientProxy.NetworkError", RegistryFault),
        ("Client.InternalError", RegistryRejected),
        ("Client.MissingHeaderField", RegistryRejected),
    ],
)
def test_xroad_fault_codes_follow_the_generic_rule(code: str, expected: type[RegbusError]) -> None:
    error = generic_fault_error(SoapFault(code, "why"), "insurance", "get_policy")
    assert type(error) is expected
    assert code in str(error)


def policy_not_found(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
    detail = fault.detail
    if detail is not None and detail.findtext(f"{{{NS}}}code") == "POLICY_NOT_FOUND":
        return SubjectNotFound(fault.message, registry=registry, operation=operation)
    return None


async def test_an_unknown_plate_is_a_policy_not_found_fault(
    soap: SoapClient, proxy: Proxy, esbd: MockServer
) -> None:
    with pytest.raises(RegistryRejected, match=r"refused the request \(Client fault\)") as caught:
        await soap.send("GetPolicy", "get_policy", context=CONTEXT, plate="999ZZZ01")
    assert caught.value.detail == "no policy for plate 999ZZZ01"
    endpoint = Endpoint(url=proxy.url, options=options(esbd))
    mapped = SoapClient(
        "insurance.wsdl",
        endpoint,
        registry="insurance",
        fault_mapper=policy_not_found,
        plugins=[XRoadHeaders.from_options(endpoint.options)],
    )
    try:
        with pytest.raises(SubjectNotFound):
            await mapped.send("GetPolicy", "get_policy", context=CONTEXT, plate="999ZZZ01")
    finally:
        await mapped.aclose()


async def test_policies_by_plate_and_by_iin(soap: SoapClient) -> None:
    valid = await soap.send("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
    assert valid.tag == f"{{{NS}}}GetPolicyResponse"
    assert policies(valid) == [
        {
            "policyNumber": "OGPO-2026-00412233",
            "insurer": "Nomad Demo Insurance",
            "plate": "123ABC01",
            "vin": "XW8ZZZ61ZKG012345",
            "holderIin": "850314354052",
            "validFrom": "2026-05-22",
            "validTo": "2027-05-21",
            "status": "VALID",
        }
    ]
    expired = policies(await soap.send("GetPolicy", "get_policy", plate="777KZA09"))
    assert [(p["holderIin"], p["status"]) for p in expired] == [("771130308916", "EXPIRED")]
    held = policies(await soap.send("GetPolicy", "get_policy", iin="850314354052"))
    assert [(p["policyNumber"], p["status"]) for p in held] == [
        ("OGPO-2026-00412233", "VALID"),
        ("OGPO-2025-00388120", "EXPIRED"),
    ]
    assert policies(await soap.send("GetPolicy", "get_policy", iin="920721425717")) == []


def test_settings_from_options() -> None:
    settings = XRoadSettings.from_options(
        {"xroad_client": "KZ/GOV/123/bus", "xroad_service": "KZ/COM/456/ESBD"}
    )
    assert settings.client == XRoadIdentity("KZ", "GOV", "123", "bus")
    assert settings.service_version == ""
    assert XRoadSettings.from_options(settings.options()) == settings
    member = XRoadSettings.from_options({**settings.options(), "xroad_client": "KZ/GOV/123"})
    (client, *_) = request_headers(member, "GetPolicy", "m-1", None)
    assert client.get(f"{{{IDENTIFIERS}}}objectType") == "MEMBER"
    assert [etree.QName(c).localname for c in client] == [
        "xRoadInstance",
        "memberClass",
        "memberCode",
    ]
    with pytest.raises(ValueError, match="xroad_service"):
        XRoadSettings.from_options({"xroad_client": "KZ/GOV/123/bus"})
    with pytest.raises(ValueError, match="option xroad_client must be INSTANCE/CLASS/MEMBER"):
        XRoadSettings.from_options({"xroad_client": "KZ/GOV", "xroad_service": "KZ/COM/1/x"})


async def test_the_served_wsdl_loads_offline_from_a_path(esbd: MockServer, tmp_path: Path) -> None:
    url = esbd.endpoints()["insurance"]
    wsdl = await http_get(f"{url}?wsdl")
    xroad = await http_get(f"{url}?xsd=xroad")
    identifiers = await http_get(f"{url}?xsd=identifiers")
    assert b'schemaLocation="http://x-road.eu/xsd/xroad.xsd"' in wsdl.content
    assert etree.fromstring(xroad.content).get("targetNamespace") == XROAD
    assert etree.fromstring(identifiers.content).get("targetNamespace") == IDENTIFIERS
    path = tmp_path / "esbd.wsdl"
    path.write_bytes(wsdl.content)
    endpoint = Endpoint(url=url, options=options(esbd))
    soap = SoapClient(
        path, endpoint, registry="insurance", plugins=[XRoadHeaders.from_options(options(esbd))]
    )
    try:
        assert soap.input_params("GetPolicy") == ("plate", "iin")
        answer = await soap.send("GetPolicy", "get_policy", context=CONTEXT, plate="123ABC01")
        assert policies(answer)[0]["status"] == "VALID"
    finally:
        await soap.aclose()


def test_the_headers_are_stamped_and_checked_on_lxml_alone() -> None:
    settings = XRoadSettings.from_options(
        {"xroad_client": "KZ/GOV/123/bus", "xroad_service": "KZ/COM/456/ESBD"}
    )
    xroad = XRoadHeaders(settings, new_id=lambda: "m-1")
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap-env": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(etree.Element(f"{{{NS}}}GetPolicy"))
    xroad.stamp(envelope, "GetPolicy", None)  # stamping again replaces, never duplicates
    sent = xroad.stamp(envelope, "GetPolicy", CONTEXT)
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    assert header is not None and envelope.index(header) == 0

    def exclusive(elements: list[etree._Element]) -> list[bytes]:
        return [etree.tostring(e, method="c14n", exclusive=True) for e in elements]

    assert exclusive(list(header)) == exclusive(
        request_headers(settings, "GetPolicy", "m-1", CONTEXT)
    )
    xroad.check(envelope, sent)  # an answer echoing every header passes
    other = xroad.stamp(copy.deepcopy(envelope), "GetOtherThing", CONTEXT)
    with pytest.raises(XRoadMismatch, match="names another service"):
        xroad.check(envelope, other)
    echoed = header.find(f"{{{XROAD}}}id")
    assert echoed is not None
    echoed.text = "m-2"
    with pytest.raises(XRoadMismatch, match=r"does not echo request id m-1 \(got m-2\)"):
        xroad.check(envelope, sent)
    fault = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><s:Fault><faultcode>s:Server</faultcode>'
        "</s:Fault></s:Body></s:Envelope>"
    )
    xroad.check(fault, sent)  # security servers send their faults without headers
