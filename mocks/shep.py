"""ШЭП SyncChannel server side for mock registries: read ``SendMessage``,
answer ``SendMessageResponse`` or a fault carrying ``ErrorInfo``.

    message = read_message(body)        # ShepError if the envelope is incomplete
    return envelope_response(response(payload_element, message.message_id))

``ShepMock`` is all of that for a service whose payloads are ``adapters/soap/wsdl/{id}.xsd``::

    class TaxMock(ShepMock):
        id = "tax"
        service_id = "KGD_TAX_DEBT"

        def handlers(self) -> dict[str, Handler]:
            return {"TaxDebtRequest": self._debt}   # a valid request -> its answer
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.shep import SUCCESS, TYPES_NS
from regbus.mocks.soap import (
    FaultCode,
    SoapRequestError,
    description_response,
    envelope_response,
    fault_response,
    is_description,
    read_body,
    truncated_response,
)

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


Handler = Callable[[etree._Element], etree._Element]


class ShepMock:
    """The part of a ШЭП mock registry that is the same for all of them: the channel
    envelope, the service id, requests checked against the payload schema (an invalid one
    answers result code ``INVALID_REQUEST``), technical and malformed answers."""

    id: ClassVar[str]
    service_id: ClassVar[str]
    path: ClassVar[str] = "/SyncChannel"
    invalid_code: ClassVar[str] = "INVALID_REQUEST"  # the result code of a request off schema

    def handlers(self) -> Mapping[str, Handler]:
        """The answer to each request element; a handler may raise ``ShepError``."""
        raise NotImplementedError

    @functools.cached_property
    def payload(self) -> PayloadSchema:
        return PayloadSchema(f"{self.id}.xsd")

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.path, self._description), web.post(self.path, self._send_message)]

    def endpoint_path(self) -> str:
        return self.path

    def technical_error(self, request: web.Request) -> web.Response:
        return error_response(
            ShepError("SERVICE_ERROR", f"{self.service_id}: internal error", "Server")
        )

    def malformed(self, request: web.Request) -> web.Response:
        return truncated_response(response(self.answer(next(iter(self.handlers())), "OK")))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    def answer(self, request: str, code: str, message: str = "") -> etree._Element:
        """The reply to ``request`` (``TaxDebtRequest`` -> ``TaxDebtResponse``) with its
        result code, and ``message`` as ``resultMessage`` when given."""
        said = {"resultMessage": message} if message else {}
        return self.payload.build(
            request.removesuffix("Request") + "Response", resultCode=code, **said
        )

    def add(self, parent: etree._Element, tag: str, /, **children: object) -> etree._Element:
        """``<tag><child>text</child>...</tag>`` appended to ``parent``, children in the
        order given (the schema's); None and "" are left out."""
        qname = self.payload.qname
        element = etree.SubElement(parent, qname(tag))
        for child, value in children.items():
            if value is not None and value != "":
                etree.SubElement(element, qname(child)).text = str(value)
        return element

    async def _description(self, request: web.Request) -> web.Response:
        return description_response(request, "SyncChannel.wsdl", {self.id: f"{self.id}.xsd"})

    async def _send_message(self, request: web.Request) -> web.Response:
        try:
            message = read_message(read_body(await request.read()))
            if message.service_id != self.service_id:
                raise ShepError("SERVICE_NOT_FOUND", f"no service {message.service_id!r}")
            name = etree.QName(message.payload).localname
            handler = self.handlers().get(name)
            if handler is None or message.payload.tag != self.payload.qname(name):
                expected = " or ".join(self.handlers())
                raise ShepError("INVALID_REQUEST", f"{self.service_id} expects {expected}")
            try:
                self.payload.check(message.payload, name)
            except ValueError as exc:
                answer = self.answer(name, self.invalid_code, str(exc))
            else:
                answer = handler(message.payload)
        except SoapRequestError as exc:
            return fault_response("Client", str(exc))
        except ShepError as exc:
            return error_response(exc)
        return envelope_response(response(answer, message.message_id))
