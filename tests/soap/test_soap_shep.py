"""The ШЭП SyncChannel envelope, against scripted HTTP answers: what is sent,
what is accepted, and which error each failure becomes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import aiohttp
import pytest
from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegistryFault, RegistryRejected, RegistryUnavailable
from regbus.adapters.http import Answer
from regbus.adapters.soap.client import FaultAnswer, SoapClient
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.shep import TYPES_NS, SyncChannel
from tests.scripted_http import Sent
from tests.scripted_http import reply as scripted_reply

ChannelFactory = Callable[..., SyncChannel]

PAYLOAD_NS = "urn:test:payload"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def payload(text: str = "hello") -> etree._Element:
    element = etree.Element(f"{{{PAYLOAD_NS}}}Ping")
    element.text = text
    return element


def envelope(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    )


def answer(code: str = "SCSS001", data: str = f'<p:Pong xmlns:p="{PAYLOAD_NS}">hi</p:Pong>') -> str:
    data_part = f"<responseData><data>{data}</data></responseData>" if data else ""
    return envelope(
        f'<t:SendMessageResponse xmlns:t="{TYPES_NS}"><response>'
        f"<responseInfo><messageId>a1</messageId><correlationId>m1</correlationId>"
        f"<responseDate>2025-03-01T10:00:00+05:00</responseDate>"
        f"<status><code>{code}</code><message>status {code}</message></status></responseInfo>"
        f"{data_part}</response></t:SendMessageResponse>"
    )


def fault(code: str, error_code: str | None) -> str:
    detail = (
        f'<detail><t:ErrorInfo xmlns:t="{TYPES_NS}"><errorCode>{error_code}</errorCode>'
        f"<errorMessage>explained</errorMessage></t:ErrorInfo></detail>"
        if error_code
        else ""
    )
    return envelope(
        f"<s:Fault><faultcode>s:{code}</faultcode><faultstring>it failed</faultstring>"
        f"{detail}</s:Fault>"
    )


def reply(text: str, status: int = 200) -> Answer:
    return scripted_reply(status, text, "text/xml; charset=utf-8")


async def test_request_carries_the_envelope_and_the_payload(
    scripted_channel: ChannelFactory, context: CallContext
) -> None:
    sent: list[Sent] = []

    def handler(request: Sent) -> Answer:
        sent.append(request)
        return reply(answer())

    channel = scripted_channel(handler, sender_id="centre-01", password="s3cret")
    await channel.send(payload(), context, "get_person")

    (request,) = sent
    assert str(request.url) == "http://shep.test/bip-sync/"
    assert request.method == "POST"
    assert request.headers["Content-Type"].startswith("text/xml")
    body = etree.fromstring(request.content).find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    message = body.find(f"{{{TYPES_NS}}}SendMessage/request")
    assert message is not None
    info = message.find("requestInfo")
    assert info is not None
    assert uuid.UUID(info.findtext("messageId", ""))
    assert info.findtext("correlationId") == context.request_id
    assert info.findtext("serviceId") == "TEST_SERVICE"
    assert datetime.fromisoformat(info.findtext("messageDate", "")).tzinfo is not None
    assert info.findtext("sender/senderId") == "centre-01"
    assert info.findtext("sender/password") == "s3cret"
    properties = {p.findtext("key"): p.findtext("value") for p in info.iterfind("properties")}
    assert properties == {"clientId": "tests", "operatorId": "op-7"}
    sent_payload = message.find(f"requestData/data/{{{PAYLOAD_NS}}}Ping")
    assert sent_payload is not None and sent_payload.text == "hello"


async def test_every_message_gets_its_own_id_and_options_override_defaults(
    scripted_channel: ChannelFactory, context: CallContext
) -> None:
    infos: list[etree._Element] = []

    def handler(request: Sent) -> Answer:
        infos.append(etree.fromstring(request.content).find(".//requestInfo"))
        return reply(answer())

    defaults = scripted_channel(handler)
    await defaults.send(payload(), context, "get_person")
    await defaults.send(payload(), context, "get_person")
    override = scripted_channel(handler, service_id="OTHER_SERVICE")
    await override.send(payload(), context, "get_person")

    assert infos[0].findtext("messageId") != infos[1].findtext("messageId")
    assert infos[0].findtext("sender/senderId") == "regbus"
    assert infos[0].findtext("sender/password") == ""
    assert infos[2].findtext("serviceId") == "OTHER_SERVICE"


async def test_scss001_gives_the_payload(
    scripted_channel: ChannelFactory, context: CallContext
) -> None:
    channel = scripted_channel(lambda _: reply(answer()))
    result = await channel.send(payload(), context, "get_person")
    assert result.tag == f"{{{PAYLOAD_NS}}}Pong"
    assert result.text == "hi"


async def test_another_status_is_a_registry_fault(
    scripted_channel: ChannelFactory, context: CallContext
) -> None:
    channel = scripted_channel(lambda _: reply(answer(code="ESB0042")))
    with pytest.raises(RegistryFault, match="ESB0042") as caught:
        await channel.send(payload(), context, "get_person")
    assert caught.value.registry == "gbdfl"
    assert caught.value.operation == "get_person"
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("code", "error_code", "expected", "text", "detail"),
    [
        ("Server", "SERVICE_ERROR", RegistryFault, "ErrorInfo SERVICE_ERROR", "explained"),
        ("Client", "AUTHENTICATION_FAILED", RegistryRejected, "AUTHENTICATION_FAILED", "explained"),
        ("Server", None, RegistryFault, "SOAP Server fault", "it failed"),
        ("Client", None, RegistryRejected, "Client fault", "it failed"),
    ],
)
async def test_faults_become_registry_errors(
    scripted_channel: ChannelFactory,
    context: CallContext,
    code: str,
    error_code: str | None,
    expected: type[RegistryFault | RegistryRejected],
    text: str,
    detail: str,
) -> None:
    channel = scripted_channel(lambda _: reply(fault(code, error_code), status=500))
    with pytest.raises(expected, match=text) as caught:
        await channel.send(payload(), context, "get_person")
    assert type(caught.value) is expected
    # The gateway's own words are kept for the log, out of what the caller reads.
    assert caught.value.detail == detail
    assert detail not in caught.value.message
    assert isinstance(caught.value.__cause__, FaultAnswer)  # raised from the fault as sent
    assert caught.value.__cause__.fault.code == code


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (answer()[:150], 200),  # cut off
        ("<html><body>gateway says hi</body></html>", 200),  # not SOAP
        (envelope(f'<x:Other xmlns:x="{PAYLOAD_NS}"/>'), 200),  # another operation's answer
        (answer(data=""), 200),  # no payload
        (answer().replace("<responseInfo>", "<responseInfo><surprise/>"), 200),  # not the WSDL's
        (
            '<!DOCTYPE x [<!ENTITY e "boom">]>'
            + envelope(f'<t:SendMessageResponse xmlns:t="{TYPES_NS}"/>'),
            200,
        ),  # DTDs are refused
        ("not xml at all", 500),
    ],
)
async def test_unreadable_answers_are_malformed(
    scripted_channel: ChannelFactory, context: CallContext, body: str, status: int
) -> None:
    channel = scripted_channel(lambda _: reply(body, status=status))
    with pytest.raises(RegistryFault) as caught:
        await channel.send(payload(), context, "get_person")
    if status == 200:
        assert "malformed answer" in str(caught.value)


async def test_unavailable_gateway(
    scripted_channel: ChannelFactory, context: CallContext, unused_port: int
) -> None:
    down = scripted_channel(lambda _: reply("503 Service Unavailable", status=503))
    with pytest.raises(RegistryUnavailable, match="503"):
        await down.send(payload(), context, "get_person")

    endpoint = Endpoint(url=f"http://127.0.0.1:{unused_port}/bip-sync/")
    refused = SyncChannel(endpoint, registry="gbdfl", service_id="TEST_SERVICE")
    try:
        with pytest.raises(RegistryUnavailable, match="connection refused") as caught:
            await refused.send(payload(), context, "get_person")
    finally:
        await refused.aclose()
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)


async def test_the_lxml_envelope_is_what_zeep_would_send(
    scripted_channel: ChannelFactory, context: CallContext
) -> None:
    """The hot path builds SendMessage with lxml; zeep, the authority on the WSDL,
    would send the same document and the WSDL's schema accepts it."""
    sent: list[Sent] = []
    channel = scripted_channel(lambda request: sent.append(request) or reply(answer()))
    await channel.send(payload(), context, "get_person")
    ours = etree.fromstring(sent[0].content)
    message = ours.find(f"{{{SOAP_ENV}}}Body/{{{TYPES_NS}}}SendMessage")
    assert message is not None
    PayloadSchema("SyncChannel.wsdl").check(message, "SendMessage")
    info = message.find("request/requestInfo")
    assert info is not None
    date = info.find("messageDate")
    assert date is not None and date.text
    soap = SoapClient("SyncChannel.wsdl", Endpoint("http://shep.test/"), registry="gbdfl")
    zeeps, headers = soap._binding._create(
        "SendMessage",
        (),
        {
            "request": {
                "requestInfo": {
                    "messageId": info.findtext("messageId"),
                    "correlationId": info.findtext("correlationId"),
                    "serviceId": info.findtext("serviceId"),
                    "messageDate": datetime.fromisoformat(date.text),
                    "sender": {"senderId": "regbus", "password": ""},
                    "properties": [
                        {"key": p.findtext("key"), "value": p.findtext("value")}
                        for p in info.iterfind("properties")
                    ],
                },
                "requestData": {"data": {"_value_1": payload()}},
            }
        },
        client=soap._client,
        options=soap._options,
    )
    theirs_date = zeeps.find(".//messageDate")
    assert theirs_date is not None
    theirs_date.text = date.text  # zeep writes the same instant its own way
    assert etree.tostring(ours, method="c14n") == etree.tostring(zeeps, method="c14n")
    assert sent[0].headers["SOAPAction"] == headers["SOAPAction"] == '""'
    assert sent[0].headers["Content-Type"] == headers["Content-Type"]
