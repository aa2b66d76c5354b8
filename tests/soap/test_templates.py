"""Envelopes built from templates copied per message: each message gets its own
copy, filled for its own caller, equal to the one built element by element."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegistryFault
from regbus.adapters.soap.client import SOAP_11, SOAP_12, Plan, new_message_id
from regbus.adapters.soap.shep import TYPES_NS, Sender, SyncChannel, request_info
from regbus.adapters.soap.xroad import XROAD, XRoadHeaders, XRoadSettings, request_headers
from tests.scripted_http import ScriptedHttp, reply

PAYLOAD_NS = "urn:test:payload"
FULL = CallContext(
    request_id="req-1", client_id="desk-3", operator_id="op-7", purpose="check", case_number="C-9"
)
BARE = CallContext(request_id="")
WHEN = datetime(2025, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)


def _built_by_hand(sender: Sender, context: CallContext, message_id: str) -> etree._Element:
    """requestInfo element by element, in the channel schema's order."""
    info = etree.Element("requestInfo")
    etree.SubElement(info, "messageId").text = message_id
    if context.request_id:
        etree.SubElement(info, "correlationId").text = context.request_id
    etree.SubElement(info, "serviceId").text = sender.service_id
    etree.SubElement(info, "messageDate").text = WHEN.isoformat(timespec="milliseconds")
    who = etree.SubElement(info, "sender")
    etree.SubElement(who, "senderId").text = sender.sender_id
    etree.SubElement(who, "password").text = sender.password
    for key, value in (
        ("clientId", context.client_id),
        ("operatorId", context.operator_id),
        ("purpose", context.purpose),
        ("caseNumber", context.case_number),
    ):
        if value:
            prop = etree.SubElement(info, "properties")
            etree.SubElement(prop, "key").text = key
            etree.SubElement(prop, "value").text = value
    return info


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def test_request_info_is_the_element_built_by_hand() -> None:
    sender = Sender("centre-01", "s3cret", "GBDFL_PERSON_INFO")
    for context in (FULL, BARE, CallContext(request_id="r", purpose="p")):
        ours = request_info(sender, context, message_id="m-1", now=lambda: WHEN)
        assert _c14n(ours) == _c14n(_built_by_hand(sender, context, "m-1"))


def _payload(text: str) -> etree._Element:
    element = etree.Element(f"{{{PAYLOAD_NS}}}Ping")
    element.text = text
    return element


def test_every_message_is_its_own_copy_filled_for_its_caller() -> None:
    channel = SyncChannel(
        Endpoint(url="http://shep.test/"), registry="gbdfl", service_id="TEST_SERVICE"
    )
    first = channel.message(_payload("one"), FULL)
    second = channel.message(_payload("two"), BARE)
    third = channel.message(_payload("three"), FULL)
    infos = [m.find("request/requestInfo") for m in (first, second, third)]
    assert all(info is not None for info in infos)
    ids = [info.findtext("messageId") for info in infos if info is not None]
    assert len(set(ids)) == 3 and all(uuid.UUID(i).version == 4 for i in ids)
    for message, info, context, text in (
        (first, infos[0], FULL, "one"),
        (second, infos[1], BARE, "two"),
        (third, infos[2], FULL, "three"),
    ):
        assert info is not None
        assert message.tag == f"{{{TYPES_NS}}}SendMessage"
        date = datetime.fromisoformat(info.findtext("messageDate", ""))
        expected = _built_by_hand(channel.sender, context, info.findtext("messageId", ""))
        expected_date = expected.find("messageDate")
        assert expected_date is not None
        expected_date.text = info.findtext("messageDate")  # the clock's, checked above
        assert _c14n(info) == _c14n(expected) and date.tzinfo is not None
        data = message.find("request/requestData/data")
        assert data is not None and [p.text for p in data] == [text]


def test_envelopes_are_not_shared() -> None:
    for soap in (SOAP_11, SOAP_12):
        plan = _plan(soap)
        one, body_one = plan.empty()
        two, body_two = plan.empty()
        assert one is not two and body_one is not body_two
        body_one.append(etree.Element("x"))
        assert len(body_two) == 0 and body_one.getparent() is one
        assert one.tag == f"{{{soap}}}Envelope" and one.nsmap == {"soap-env": soap}


def _plan(soap: str) -> Plan:
    return Plan(
        name="Op",
        operation=None,
        envelope=soap,
        http_headers={},
        request="{urn:x}Op",
        answer="{urn:x}OpResponse",
        children={},
    )


SETTINGS = XRoadSettings.from_options(
    {"xroad_client": "KZ/GOV/123/bus", "xroad_service": "KZ/COM/456/ESBD"}
)


def _envelope(soap: str = SOAP_11) -> etree._Element:
    envelope = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap-env": soap})
    etree.SubElement(envelope, f"{{{soap}}}Body").append(etree.Element(f"{{{PAYLOAD_NS}}}Get"))
    return envelope


def _exclusive(elements: list[etree._Element]) -> list[bytes]:
    return [etree.tostring(e, method="c14n", exclusive=True) for e in elements]


def test_xroad_headers_are_filled_per_request_and_per_caller() -> None:
    ids = iter(["m-1", "m-2", "m-3"])
    xroad = XRoadHeaders(SETTINGS, new_id=lambda: next(ids))
    for context, soap in ((FULL, SOAP_11), (None, SOAP_12), (BARE, SOAP_11)):
        envelope = _envelope(soap)
        sent = xroad.stamp(envelope, "GetPolicy", context)
        header = envelope[0]
        assert header.tag == f"{{{soap}}}Header" and header.prefix == "soap-env"
        assert _exclusive(list(header)) == _exclusive(
            request_headers(SETTINGS, "GetPolicy", sent.id, context)
        )
        xroad.check(envelope, sent)
    assert sent.id == "m-3"


def test_xroad_headers_go_first_in_a_header_already_there() -> None:
    xroad = XRoadHeaders(SETTINGS, new_id=lambda: "m-1")
    envelope = _envelope()
    header = etree.Element(f"{{{SOAP_11}}}Header")
    envelope.insert(0, header)
    etree.SubElement(header, "{urn:other}Token").text = "t"
    etree.SubElement(header, f"{{{XROAD}}}id").text = "stale"
    sent = xroad.stamp(envelope, "GetPolicy", FULL)
    assert envelope[0] is header
    assert [etree.QName(h).localname for h in header] == [
        *("client", "service", "id", "userId", "issue", "protocolVersion", "Token"),
    ]
    assert _exclusive(list(header)[:-1]) == _exclusive(
        request_headers(SETTINGS, "GetPolicy", "m-1", FULL)
    )
    xroad.check(envelope, sent)


def test_message_ids_are_uuid4_text() -> None:
    ids = {new_message_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in list(ids)[:200]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def _answer(status: str, data: str = f'<p:Pong xmlns:p="{PAYLOAD_NS}">hi</p:Pong>') -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_11}"><s:Body><t:SendMessageResponse xmlns:t="{TYPES_NS}">'
        "<response><responseInfo><messageId>a1</messageId>"
        f"<responseDate>2025-03-01T10:00:00+05:00</responseDate>{status}</responseInfo>"
        f"<responseData><data>{data}</data></responseData>"
        "</response></t:SendMessageResponse></s:Body></s:Envelope>"
    )


@pytest.mark.parametrize(
    ("status", "error", "text", "detail"),
    [
        ("<status><code>ESB0042</code><message> busy </message></status>", RegistryFault,
         "ШЭП status ESB0042", " busy "),
        ("<status><code> </code><message>x</message></status>", RegistryFault,
         "malformed answer: no responseInfo/status/code", None),
    ],
)  # fmt: skip
async def test_the_channel_status_is_read_below_the_one_response(
    status: str, error: type[Exception], text: str, detail: str | None
) -> None:
    http = ScriptedHttp(lambda _: reply(200, _answer(status)), registry="gbdfl")
    channel = SyncChannel(
        Endpoint(url="http://shep.test/"), registry="gbdfl", service_id="TEST", http=http
    )
    try:
        with pytest.raises(error, match=text) as caught:
            await channel.send(_payload("x"), FULL, "get_person")
    finally:
        await channel.aclose()
    if detail is not None:
        assert getattr(caught.value, "detail", None) == detail
