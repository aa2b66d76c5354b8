"""ШЭП SyncChannel v10: the envelope every synchronous ШЭП service shares.

The channel wraps a service's payload in ``SendMessage/request`` with
``requestInfo`` (message id, service id, sender, ...) and answers with
``SendMessageResponse/response``: ``responseInfo/status`` and
``responseData/data``. Adapters hand it a payload element and get one back:

    channel = SyncChannel(endpoint, registry="gbdfl", service_id="GBDFL_PERSON_INFO")
    answer = await channel.send(request_element, context, "get_person")

The envelope is built and read with lxml (the request element's name comes from
the WSDL through :class:`~regbus.adapters.soap.client.SoapClient`): its fixed
parts once per channel, copied and filled for each message. The answer is
checked against the WSDL's schema before anything is read from it.

Endpoint options: ``sender_id``, ``password``, ``service_id`` (overrides the
adapter's default).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.http import HttpTransport, clip
from regbus.adapters.soap.client import SoapClient, SoapFault, new_message_id
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

    def message(self, payload: etree._Element, context: CallContext) -> etree._Element:
        """``SendMessage`` carrying ``payload`` for ``context`` (the payload moves into it)."""
        message = self._message.__copy__()
        info, request_data = message[0]
        _fill_info(info, context, new_message_id(), _now)
        request_data[0].append(payload)
        return message

    async def send(
        self, payload: etree._Element, context: CallContext, operation: str
    ) -> etree._Element:
        """Send one payload; return the answer's payload element.

        A status other than SCSS001, or an answer without data, is a technical
        fault: business answers travel inside the payload.
        """
        message = self.message(payload, context)
        answer = await self._soap.send_element(OPERATION, operation, message, context=context)
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
