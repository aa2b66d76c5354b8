"""ГБД ФЛ end to end: the real adapter against the real mock over loopback."""

from __future__ import annotations

import io

import pytest
import zeep
from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.declared import declared
from regbus.adapters.errors import (
    RegistryFailure,
    RegistryFault,
    RegistryRejected,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.gbdfl import GBDFL
from regbus.adapters.soap.shep import TYPES_NS
from regbus.mocks.faults import parse_fault
from regbus.mocks.server import MockServer
from regbus.v1 import records_pb2
from tests.scripted_http import http_get, http_post

GbdflAdapter = declared(GBDFL)

ARMAN = "850314354052"
UNKNOWN = "940512410508"
BOLAT = "550601388798"  # deceased
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


async def test_known_person(gbdfl: GbdflAdapter, context: CallContext) -> None:
    record = await gbdfl.call("get_person", {"iin": ARMAN}, context)
    assert record.WhichOneof("kind") == "person"
    person = record.person
    assert (person.iin, person.last_name, person.first_name, person.patronymic) == (
        ARMAN,
        "Akhmetov",
        "Arman",
        "Serikuly",
    )
    assert person.sex == records_pb2.SEX_MALE
    assert person.birth_date == records_pb2.Date(year=1985, month=3, day=14)
    assert person.birth_place == "Astana"
    assert person.citizenship == "KAZ"
    assert person.document_number == "N12345678"
    assert not person.deceased
    assert not person.HasField("death_date")


async def test_deceased_person(gbdfl: GbdflAdapter, context: CallContext) -> None:
    person = (await gbdfl.call("get_person", {"iin": BOLAT}, context)).person
    assert person.deceased
    assert person.death_date == records_pb2.Date(year=2025, month=2, day=11)


async def test_unknown_person_is_a_business_not_found(
    gbdfl: GbdflAdapter, context: CallContext
) -> None:
    with pytest.raises(SubjectNotFound) as caught:
        await gbdfl.call("get_person", {"iin": UNKNOWN}, context)
    assert (caught.value.registry, caught.value.operation) == ("gbdfl", "get_person")
    assert not caught.value.retryable


async def test_a_refused_request_is_not_retried(gbdfl: GbdflAdapter, context: CallContext) -> None:
    with pytest.raises(RegistryRejected, match="INVALID_IIN") as caught:
        await gbdfl.call("get_person", {"iin": "12"}, context)  # the bus never sends this
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("down", RegistryUnavailable), ("errors=1", RegistryFailure), ("malformed", RegistryFault)],
)
async def test_faults(
    gbdfl: GbdflAdapter,
    mock_server: MockServer,
    context: CallContext,
    mode: str,
    expected: type[RegistryFailure],
) -> None:
    mock_server.faults.set("gbdfl", parse_fault(mode))
    with pytest.raises(expected) as caught:
        await gbdfl.call("get_person", {"iin": ARMAN}, context)
    assert caught.value.registry == "gbdfl"
    assert caught.value.retryable
    if mode == "malformed":
        assert "malformed answer" in str(caught.value)


async def test_unreachable_registry(unused_port: int, context: CallContext) -> None:
    adapter = GbdflAdapter(Endpoint(url=f"http://127.0.0.1:{unused_port}/gbdfl/SyncChannel"))
    try:
        with pytest.raises(RegistryUnavailable):
            await adapter.call("get_person", {"iin": ARMAN}, context)
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("url", ["not a url", "ftp://shep.example/", "http://"])
def test_refuses_an_unusable_url(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        GbdflAdapter(Endpoint(url=url))


async def test_wsdl_is_served_with_the_requested_address(mock_server: MockServer) -> None:
    url = mock_server.endpoints()["gbdfl"]
    wsdl = await http_get(f"{url}?wsdl")
    xsd = await http_get(f"{url}?xsd=gbdfl")
    assert wsdl.status_code == 200 and xsd.status_code == 200
    client = zeep.Client(io.BytesIO(wsdl.content))
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == url
    assert "SendMessage" in port.binding._operations
    schema = etree.XMLSchema(etree.fromstring(xsd.content))
    assert schema is not None


def _send_message(info: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><t:SendMessage xmlns:t="{TYPES_NS}">'
        f"<request><requestInfo>{info}</requestInfo><requestData><data>"
        f'<g:PersonRequest xmlns:g="urn:kz:gbdfl:person:v1"><g:iin>{ARMAN}</g:iin>'
        f"</g:PersonRequest></data></requestData></request></t:SendMessage></s:Body></s:Envelope>"
    )


@pytest.mark.parametrize(
    ("info", "error_code"),
    [
        (  # no sender
            "<messageId>m1</messageId><serviceId>GBDFL_PERSON_INFO</serviceId>"
            "<messageDate>2025-03-01T10:00:00Z</messageDate>",
            "AUTHENTICATION_FAILED",
        ),
        (  # no serviceId
            "<messageId>m1</messageId><messageDate>2025-03-01T10:00:00Z</messageDate>"
            "<sender><senderId>x</senderId><password/></sender>",
            "INVALID_REQUEST",
        ),
        (  # a service this mock is not
            "<messageId>m1</messageId><serviceId>GBUL_INFO</serviceId>"
            "<messageDate>2025-03-01T10:00:00Z</messageDate>"
            "<sender><senderId>x</senderId><password/></sender>",
            "SERVICE_NOT_FOUND",
        ),
    ],
)
async def test_mock_refuses_an_incomplete_envelope_with_error_info(
    mock_server: MockServer, info: str, error_code: str
) -> None:
    answer = await http_post(
        mock_server.endpoints()["gbdfl"],
        content=_send_message(info),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert answer.status_code == 500
    root = etree.fromstring(answer.content)
    assert root.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode") == "soapenv:Client"
    assert root.findtext(f".//{{{TYPES_NS}}}ErrorInfo/errorCode") == error_code


async def test_mock_echoes_the_message_id_as_correlation(mock_server: MockServer) -> None:
    info = (
        "<messageId>m-77</messageId><serviceId>GBDFL_PERSON_INFO</serviceId>"
        "<messageDate>2025-03-01T10:00:00Z</messageDate>"
        "<sender><senderId>x</senderId><password/></sender>"
    )
    answer = await http_post(mock_server.endpoints()["gbdfl"], content=_send_message(info))
    assert answer.status_code == 200
    root = etree.fromstring(answer.content)
    assert root.findtext(".//responseInfo/correlationId") == "m-77"
    assert root.findtext(".//responseInfo/status/code") == "SCSS001"
