"""ШЭП SyncChannel v10: the envelope every synchronous ШЭП service shares.

The channel wraps a service's payload in ``SendMessage/request`` with
``requestInfo`` (message id, service id, sender, ...) and answers with
``SendMessageResponse/response``: ``responseInfo/status`` and
``responseData/data``. Adapters hand it a payload element and get one back:

    channel = SyncChannel(endpoint, registry="gbdfl", service_id="GBDFL_PERSON_INFO")
    answer = await channel.send(request_element, context, "get_person")

The envelope is built and read with lxml (the request element's name comes from
the WSDL through :class:`~regbus.adapters.soap.client.SoapClient`): its fixed
parts once per channel, copied and filled for each message. Adapters that send a
payload of text children (``ShepWire``) have the whole request written instead
(:meth:`SyncChannel.request_bytes`, :meth:`SyncChannel.send_bytes`): serialised once
per shape of message and filled by joining strings, the same bytes. The answer is
checked against the WSDL's schema before anything is read from it.

Endpoint options: ``sender_id``, ``password``, ``service_id`` (overrides the
adapter's default).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.http import HttpTransport, clip
from regbus.adapters.soap.client import (
    Serialized,
    SoapClient,
    SoapFault,
    mark,
    new_message_id,
)
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.views import finder

WSDL = "SyncChannel.wsdl"
TYPES_NS = "http://bip.bee.kz/SyncChannel/v10/Types"
OPERATION = "SendMessage"
ANSWER = "SendMessageResponse"
SUCCESS = "SCSS001"
DEFAULT_SENDER_ID = "regbus"


@dataclass(frozen=True)
class Sender:
    """Who the bus is to ШЭП, and which service it calls."""

    sender_id: str
    password: str
    service_id: str

    @classmethod
    def from_options(cls, options: Mapping[str, Any], service_id: str) -> Sender:
        return cls(
            sender_id=str(options.get("sender_id") or DEFAULT_SENDER_ID),
            password=str(options.get("password") or ""),
            service_id=str(options.get("service_id") or service_id),
        )


def _text(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, name)
    element.text = text
    return element


def _now() -> datetime:
    return datetime.now(UTC)


def request_info(
    sender: Sender,
    context: CallContext,
    *,
    message_id: str | None = None,
    now: Callable[[], datetime] = _now,
) -> etree._Element:
    """``requestInfo`` of one message (unqualified, as the channel's schema says);
    the caller's context travels as properties."""
    info = _template_of(sender).__copy__()
    _fill_info(info, context, message_id or new_message_id(), now)
    return info


@functools.lru_cache(maxsize=64)
def _template_of(sender: Sender) -> etree._Element:
    return info_template(sender)


def info_template(sender: Sender) -> etree._Element:
    """``requestInfo`` with the sender's fixed parts filled in and the others
    (``messageId``, ``correlationId``, ``messageDate``) empty: built once per
    sender, copied for each message and filled by :func:`_fill_info`."""
    info = etree.Element("requestInfo")
    _text(info, "messageId", "")
    _text(info, "correlationId", "")
    _text(info, "serviceId", sender.service_id)
    _text(info, "messageDate", "")
    who = etree.SubElement(info, "sender")
    _text(who, "senderId", sender.sender_id)
    _text(who, "password", sender.password)
    for key in PROPERTIES:
        prop = etree.SubElement(info, "properties")
        _text(prop, "key", key)
        _text(prop, "value", "")
    return info


# The caller's context as requestInfo properties, in this order.
PROPERTIES = ("clientId", "operatorId", "purpose", "caseNumber")


def _fill_info(
    info: etree._Element, context: CallContext, message_id: str, now: Callable[[], datetime]
) -> None:
    """Fill a copy of :func:`info_template` for one message: its own id and date,
    the caller's request id and the properties it has; the rest is left out."""
    message_node, correlation, _, date, _, client, operator, purpose, case = info
    message_node.text = message_id
    if context.request_id:
        correlation.text = context.request_id
    else:
        info.remove(correlation)
    date.text = now().isoformat(timespec="milliseconds")
    for prop, value in (
        (client, context.client_id),
        (operator, context.operator_id),
        (purpose, context.purpose),
        (case, context.case_number),
    ):
        if value:
            prop[1].text = value
        else:
            info.remove(prop)


def _given(context: CallContext) -> tuple[bool, bool, bool, bool, bool]:
    """Which of the request id and the properties ``context`` has."""
    return (
        bool(context.request_id),
        bool(context.client_id),
        bool(context.operator_id),
        bool(context.purpose),
        bool(context.case_number),
    )


def _properties(context: CallContext) -> tuple[str, str, str, str]:
    """The values of :data:`PROPERTIES`, in that order."""
    return (context.client_id, context.operator_id, context.purpose, context.case_number)


_STATUS = finder(None, "responseInfo/status")
_DATA = finder(None, "responseData/data")


def _text_of(parent: etree._Element | None, tag: str) -> str:
    """The text of ``parent``'s first ``tag`` child; "" if there is none."""
    if parent is not None:
        for child in parent.iterchildren(tag):
            return child.text or ""
    return ""


def error_info_error(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
    """The error for a fault carrying ШЭП ``ErrorInfo``; None if it carries none.
    The error code is in the message; the gateway's words only in ``detail``."""
    info = fault.detail
    if info is None or etree.QName(info).localname != "ErrorInfo":
        return None
    code = clip((info.findtext("errorCode") or "").strip() or "?", 100)
    message = (info.findtext("errorMessage") or "").strip() or fault.message
    if fault.client_side:
        return RegistryRejected(
            f"ШЭП refused the request (ErrorInfo {code})",
            registry=registry,
            operation=operation,
            detail=message,
        )
    return RegistryFault(
        f"ШЭП fault: ErrorInfo {code}", registry=registry, operation=operation, detail=message
    )


class SyncChannel:
    """A ШЭП SyncChannel client for one service behind the gateway."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        registry: str,
        service_id: str,
        http: HttpTransport | None = None,
    ) -> None:
        self.sender = Sender.from_options(endpoint.options, service_id)
        self._soap = SoapClient(
            WSDL, endpoint, registry=registry, fault_mapper=error_info_error, http=http
        )
        self._request = self._soap.plan(OPERATION).request
        self._types = PayloadSchema(WSDL)
        # SendMessage/request with requestInfo's fixed parts and an empty
        # requestData/data, built once and copied for each message.
        self._message = etree.Element(self._request)
        request = etree.SubElement(self._message, "request")
        request.append(info_template(self.sender))
        etree.SubElement(etree.SubElement(request, "requestData"), "data")
        # The whole envelope per set of context fields given, for envelope(); serialized
        # with the payload too, per shape of message, for request_bytes().
        self._envelopes: dict[tuple[bool, ...], etree._Element] = {}
        self._serialized: dict[tuple[Any, ...], Serialized | Literal[False]] = {}

    def message(self, payload: etree._Element, context: CallContext) -> etree._Element:
        """``SendMessage`` carrying ``payload`` for ``context`` (the payload moves into it)."""
        message = self._message.__copy__()
        info, request_data = message[0]
        _fill_info(info, context, new_message_id(), _now)
        request_data[0].append(payload)
        return message

    def envelope(self, context: CallContext) -> tuple[etree._Element, etree._Element]:
        """The whole SOAP envelope of a ``SendMessage`` for ``context``, and its empty
        ``requestData/data`` for the payload to be built in: :meth:`message` inside
        ``SoapClient``'s envelope, from one template copied (nothing moves between
        documents). Send it with :meth:`send_envelope`."""
        given = _given(context)
        envelope = self._envelope_template(given).__copy__()
        info, request_data = envelope[0][0][0]  # Body/SendMessage/request
        nodes = iter(info)
        next(nodes).text = new_message_id()
        if given[0]:
            next(nodes).text = context.request_id
        next(nodes)  # serviceId
        next(nodes).text = _now().isoformat(timespec="milliseconds")
        next(nodes)  # sender
        for value in _properties(context):
            if value:
                next(nodes)[1].text = value
        return envelope, request_data[0]

    def request_bytes(
        self,
        context: CallContext,
        payload: PayloadSchema,
        name: str,
        children: Mapping[str, str],
    ) -> bytes:
        """The whole ``SendMessage`` request for ``context`` carrying ``payload``'s
        ``name`` with ``children`` (:meth:`PayloadSchema.build`), as sent: what
        :meth:`envelope` and ``build_in`` give, serialized, written from a template
        serialized once per shape of message."""
        given = _given(context)
        key = (given, id(payload), name, tuple(children))
        serialized = self._serialized.get(key)
        if serialized is None:
            serialized = self._serialize(given, payload, name, tuple(children))
            if len(self._serialized) < 1024:  # shapes are few; this only bounds misuse
                self._serialized[key] = serialized
        if serialized:
            texts = [new_message_id()]
            if given[0]:
                texts.append(context.request_id)
            texts.append(_now().isoformat(timespec="milliseconds"))
            texts.extend(value for value in _properties(context) if value)
            texts.extend(children.values())
            data = serialized.fill(texts)
            if data is not None:
                return data
        # A text lxml refuses (it raises here, as it always did), or no template.
        message = self.message(payload.build(name, **children), context)
        envelope = self._soap.plan(OPERATION).wrap(message)
        written: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return written

    def _serialize(
        self, given: tuple[bool, ...], payload: PayloadSchema, name: str, names: tuple[str, ...]
    ) -> Serialized | Literal[False]:
        """The serialized template of one shape of message; False when there is none."""
        envelope = self._envelope_template(given).__copy__()
        info, request_data = envelope[0][0][0]
        nodes = iter(info)
        count = 0

        def marked(node: etree._Element) -> None:
            nonlocal count
            node.text = mark(count)
            count += 1

        marked(next(nodes))  # messageId
        if given[0]:
            marked(next(nodes))  # correlationId
        next(nodes)
        marked(next(nodes))  # messageDate
        next(nodes)
        for flag in given[1:]:
            if flag:
                marked(next(nodes)[1])
        payload.build_in(request_data[0], name, {n: mark(count + i) for i, n in enumerate(names)})
        try:
            return Serialized(envelope, count + len(names))
        except ValueError:  # a fixed text (a sender option) looks like a mark
            return False

    def _envelope_template(self, given: tuple[bool, ...]) -> etree._Element:
        """The envelope with ``requestInfo`` holding only the properties ``given``."""
        template = self._envelopes.get(given)
        if template is None:
            envelope, body = self._soap.plan(OPERATION).empty()
            message = self._message.__copy__()
            fields = ["x" if flag else "" for flag in given]
            _fill_info(message[0][0], CallContext(*fields), "", _now)
            body.append(message)
            template = self._envelopes[given] = envelope.__copy__()  # one document, compact
        return template

    async def send(
        self, payload: etree._Element, context: CallContext, operation: str
    ) -> etree._Element:
        """Send one payload; return the answer's payload element.

        A status other than SCSS001, or an answer without data, is a technical
        fault: business answers travel inside the payload.
        """
        message = self.message(payload, context)
        answer = await self._soap.send_element(OPERATION, operation, message, context=context)
        return self._payload_of(answer, operation)

    async def send_bytes(self, data: bytes, context: CallContext, operation: str) -> etree._Element:
        """:meth:`send` for a request from :meth:`request_bytes`."""
        answer = await self._soap.send_bytes(OPERATION, operation, data, context=context)
        return self._payload_of(answer, operation)

    async def send_envelope(
        self, envelope: etree._Element, context: CallContext, operation: str
    ) -> etree._Element:
        """:meth:`send` for an envelope from :meth:`envelope` with its payload in."""
        answer = await self._soap.send_envelope(OPERATION, operation, envelope, context=context)
        return self._payload_of(answer, operation)

    def _payload_of(self, answer: etree._Element, operation: str) -> etree._Element:
        try:
            self._types.check(answer, ANSWER)
        except ValueError as exc:
            raise self.malformed(str(exc), operation) from exc
        # The schema allows one response: read below it.
        response = next(answer.iterchildren("response"), None)
        status = _STATUS(response) if response is not None else None
        code = _text_of(status, "code").strip()
        if not code:
            raise self.malformed("no responseInfo/status/code", operation)
        if code != SUCCESS:
            raise RegistryFault(
                f"ШЭП status {clip(code, 100)}",
                registry=self._soap.registry,
                operation=operation,
                detail=_text_of(status, "message"),
            )
        data = _DATA(response) if response is not None else None
        found = next(data.iterchildren(etree.Element), None) if data is not None else None
        if found is None:
            raise self.malformed("no responseData/data payload", operation)
        return found

    def malformed(self, why: str, operation: str) -> RegistryFault:
        """The error for a payload the adapter cannot read."""
        return self._soap.malformed(why, operation)

    async def aclose(self) -> None:
        await self._soap.aclose()
