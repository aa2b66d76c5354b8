"""ШЭП SyncChannel server side for mock registries: read ``SendMessage``,
answer ``SendMessageResponse`` or a fault carrying ``ErrorInfo``.

    message = read_message(body)        # ShepError if the envelope is incomplete
    return envelope_response(response(payload_element, message.message_id))
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.shep import SUCCESS, TYPES_NS
from regbus.mocks.soap import FaultCode, fault_response

SUCCESS_MESSAGE = "Message has been processed successfully"


class ShepError(Exception):
    """A request the channel refuses, with its ErrorInfo code."""

    def __init__(self, code: str, message: str, fault: FaultCode = "Client") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fault: FaultCode = fault


@dataclass(frozen=True)
class Message:
    """What the mock needs from one ``SendMessage``."""

    message_id: str
    correlation_id: str
    service_id: str
    sender_id: str
    payload: etree._Element


def read_message(body: etree._Element) -> Message:
    """Check the SyncChannel envelope the way the gateway does."""
    if body.tag != f"{{{TYPES_NS}}}SendMessage":
        raise ShepError("INVALID_REQUEST", f"unknown operation {etree.QName(body).localname}")
    info = body.find("request/requestInfo")
    if info is None:
        raise ShepError("INVALID_REQUEST", "requestInfo is missing")

    def field(path: str) -> str:
        return (info.findtext(path) or "").strip()

    message_id, service_id = field("messageId"), field("serviceId")
    sender_id = field("sender/senderId")
    if not message_id:
        raise ShepError("INVALID_REQUEST", "requestInfo/messageId is missing")
    if not service_id:
        raise ShepError("INVALID_REQUEST", "requestInfo/serviceId is missing")
    if not sender_id:
        raise ShepError("AUTHENTICATION_FAILED", "requestInfo/sender/senderId is missing")
    if not field("messageDate"):
        raise ShepError("INVALID_REQUEST", "requestInfo/messageDate is missing")
    data = body.find("request/requestData/data")
    payload = None if data is None else next(iter(data.iterchildren(etree.Element)), None)
    if payload is None:
        raise ShepError("INVALID_REQUEST", "requestData/data is empty")
    return Message(message_id, field("correlationId"), service_id, sender_id, payload)


def response(payload: etree._Element, correlation_id: str = "") -> etree._Element:
    """``SendMessageResponse`` with status SCSS001, answering message ``correlation_id``."""
    root = etree.Element(f"{{{TYPES_NS}}}SendMessageResponse", nsmap={"typ": TYPES_NS})
    answer = etree.SubElement(root, "response")
    info = etree.SubElement(answer, "responseInfo")
    etree.SubElement(info, "messageId").text = str(uuid.uuid4())
    if correlation_id:
        etree.SubElement(info, "correlationId").text = correlation_id
    etree.SubElement(info, "responseDate").text = _now()
    status = etree.SubElement(info, "status")
    etree.SubElement(status, "code").text = SUCCESS
    etree.SubElement(status, "message").text = SUCCESS_MESSAGE
    etree.SubElement(etree.SubElement(answer, "responseData"), "data").append(payload)
    return root


def error_info(code: str, message: str) -> etree._Element:
    info = etree.Element(f"{{{TYPES_NS}}}ErrorInfo", nsmap={"typ": TYPES_NS})
    etree.SubElement(info, "errorCode").text = code
    etree.SubElement(info, "errorMessage").text = message
    etree.SubElement(info, "errorDate").text = _now()
    return info


def error_response(error: ShepError) -> web.Response:
    return fault_response(error.fault, error.message, error_info(error.code, error.message))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
