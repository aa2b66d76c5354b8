"""ИС ЗАГС end to end: the real adapter against the real mock over loopback."""

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
from regbus.adapters.soap.client import SoapFault
from regbus.adapters.spec import Soap
from regbus.adapters.wires import fault_mapper
from regbus.adapters.zags import ZAGS
from regbus.mocks.faults import parse_fault
from regbus.mocks.server import MockServer
from regbus.v1 import records_pb2
from tests.scripted_http import ScriptedHttp, http_get, http_post, reply

ARMAN = "850314354052"
AIGERIM = "920721425717"
ALIKHAN = "261005565684"
DAUREN = "771130308916"  # in the population, named in no act
UNKNOWN = "940512410508"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMESPACE = "urn:kz:zags:civil-acts:v1"
ZagsAdapter = declared(ZAGS)
assert isinstance(ZAGS.wire, Soap)
zags_fault_error = fault_mapper("zags", ZAGS.wire.faults)


async def test_acts_of_a_person_in_every_role(zags: ZagsAdapter, context: CallContext) -> None:
    record = await zags.call("list_acts", {"iin": ARMAN}, context)
    assert record.WhichOneof("kind") == "civil_acts"
    acts = {act.act_number: act for act in record.civil_acts.acts}
    assert set(acts) == {"BR-1985-0023311", "MR-2019-0004521", "BR-2026-0011742"}

    own_birth = acts["BR-1985-0023311"]
    assert own_birth.type == records_pb2.CIVIL_ACT_TYPE_BIRTH
    assert (own_birth.role, own_birth.subject_iin) == ("subject", ARMAN)
    assert own_birth.registered_on == records_pb2.Date(year=1985, month=3, day=20)
    assert own_birth.registry_office == "Tselinograd city civil registry office"

    marriage = acts["MR-2019-0004521"]
    assert marriage.type == records_pb2.CIVIL_ACT_TYPE_MARRIAGE
    assert marriage.role == "spouse"
    assert {marriage.subject_iin, *marriage.participant_iins} == {ARMAN, AIGERIM}

    son = acts["BR-2026-0011742"]
    assert (son.role, son.subject_iin) == ("father", ALIKHAN)
    assert list(son.participant_iins) == [ARMAN, AIGERIM]


async def test_the_same_act_seen_by_the_mother(zags: ZagsAdapter, context: CallContext) -> None:
    record = await zags.call("list_acts", {"iin": AIGERIM}, context)
    roles = {act.act_number: act.role for act in record.civil_acts.acts}
    assert roles["BR-2026-0011742"] == "mother"
    assert roles["MR-2019-0004521"] == "spouse"


@pytest.mark.parametrize("iin", [UNKNOWN, DAUREN])
async def test_a_person_in_no_act_is_not_found(
    zags: ZagsAdapter, context: CallContext, iin: str
) -> None:
    with pytest.raises(SubjectNotFound, match="PERSON_NOT_FOUND") as caught:
        await zags.call("list_acts", {"iin": iin}, context)
    assert (caught.value.registry, caught.value.operation) == ("zags", "list_acts")
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("down", RegistryUnavailable), ("errors=1", RegistryFailure), ("malformed", RegistryFault)],
)
async def test_faults(
    zags: ZagsAdapter,
    mock_server: MockServer,
    context: CallContext,
    mode: str,
    expected: type[RegistryFailure],
) -> None:
    mock_server.faults.set("zags", parse_fault(mode))
    with pytest.raises(expected) as caught:
        await zags.call("list_acts", {"iin": ARMAN}, context)
    assert caught.value.registry == "zags"
    assert caught.value.retryable
    if mode == "malformed":
        assert "malformed answer" in str(caught.value)


def _fault(code: str, service_code: str) -> SoapFault:
    detail = etree.Element(f"{{{NAMESPACE}}}ServiceFault")
    etree.SubElement(detail, f"{{{NAMESPACE}}}code").text = service_code
    return SoapFault(code=code, message="explained", detail=detail)


def test_only_person_not_found_is_a_business_answer() -> None:
    found = zags_fault_error(_fault("Client", "PERSON_NOT_FOUND"), "zags", "list_acts")
    assert isinstance(found, SubjectNotFound)
    assert zags_fault_error(_fault("Client", "INVALID_REQUEST"), "zags", "list_acts") is None
    assert zags_fault_error(SoapFault("Server", "boom"), "zags", "list_acts") is None


async def test_an_empty_act_list_is_an_empty_record(
    context: CallContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>'
        f'<z:ListActsResponse xmlns:z="{NAMESPACE}"/></s:Body></s:Envelope>'
    )
    monkeypatch.setattr(
        "regbus.adapters.soap.client.HttpTransport",
        lambda endpoint, registry: ScriptedHttp(lambda _: reply(200, empty, "text/xml")),
    )
    adapter = ZagsAdapter(Endpoint(url="http://zags.test/ws"))
    try:
        record = await adapter.call("list_acts", {"iin": ARMAN}, context)
    finally:
        await adapter.aclose()
    assert record.WhichOneof("kind") == "civil_acts"
    assert len(record.civil_acts.acts) == 0


async def test_mock_refuses_an_invalid_request(mock_server: MockServer) -> None:
    bad = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><z:ListActsRequest xmlns:z="{NAMESPACE}">'
        f"<z:iin>12</z:iin></z:ListActsRequest></s:Body></s:Envelope>"
    )
    answer = await http_post(mock_server.endpoints()["zags"], content=bad)
    assert answer.status_code == 500
    root = etree.fromstring(answer.content)
    assert root.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode") == "soapenv:Client"
    assert root.findtext(f".//{{{NAMESPACE}}}ServiceFault/{{{NAMESPACE}}}code") == (
        "INVALID_REQUEST"
    )
    fault = SoapFault("Client", "x", root.find(f".//{{{NAMESPACE}}}ServiceFault"))
    assert zags_fault_error(fault, "zags", "list_acts") is None  # -> RegistryRejected
    assert fault.client_side


async def test_mock_refuses_entities(mock_server: MockServer) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><z:ListActsRequest xmlns:z="{NAMESPACE}">'
        f"<z:iin>&a;</z:iin></z:ListActsRequest></s:Body></s:Envelope>"
    )
    answer = await http_post(mock_server.endpoints()["zags"], content=bomb)
    assert answer.status_code == 500
    assert b"DOCTYPE" in answer.content


async def test_wsdl_is_served_with_the_requested_address(mock_server: MockServer) -> None:
    url = mock_server.endpoints()["zags"]
    wsdl = await http_get(f"{url}?wsdl")
    assert wsdl.status_code == 200
    assert wsdl.headers["Content-Type"].startswith("text/xml")
    client = zeep.Client(io.BytesIO(wsdl.content))
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == url
    assert "ListActs" in port.binding._operations


def test_refuses_an_unusable_url() -> None:
    with pytest.raises(ValueError, match="http"):
        ZagsAdapter(Endpoint(url="zags.example/ws"))


async def test_a_client_fault_without_a_known_code_is_a_refusal(
    mock_server: MockServer, context: CallContext
) -> None:
    adapter = ZagsAdapter(Endpoint(url=mock_server.endpoints()["zags"]))
    try:
        with pytest.raises(RegistryRejected):
            await adapter.call("list_acts", {"iin": "12"}, context)  # the bus never sends this
    finally:
        await adapter.aclose()
