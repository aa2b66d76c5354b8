"""ШЭП SyncChannel v10: the envelope every synchronous ШЭП service shares.

The channel wraps a service's payload in ``SendMessage/request`` with
``requestInfo`` (message id, service id, sender, ...) and answers with
``SendMessageResponse/response``: ``responseInfo/status`` and
``responseData/data``. Adapters hand it a payload element and get one back:

    channel = SyncChannel(endpoint, registry="gbdfl", service_id="GBDFL_PERSON_INFO")
    answer = await channel.send(request_element, context, "get_person")

Endpoint options: ``sender_id``, ``password``, ``service_id`` (overrides the
adapter's default).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from lxml import etree

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.soap.client import SoapClient, SoapFault

WSDL = "SyncChannel.wsdl"
TYPES_NS = "http://bip.bee.kz/SyncChannel/v10/Types"
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


def request_info(
    sender: Sender,
    context: CallContext,
    *,
    message_id: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """``requestInfo`` of one message; the caller's context travels as properties."""
    properties = [
        {"key": key, "value": value}
        for key, value in (
            ("clientId", context.client_id),
            ("operatorId", context.operator_id),
            ("purpose", context.purpose),
            ("caseNumber", context.case_number),
        )
        if value
    ]
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "correlationId": context.request_id or None,
        "serviceId": sender.service_id,
        "messageDate": now(),
        "sender": {"senderId": sender.sender_id, "password": sender.password},
        "properties": properties,
    }


def error_info_error(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
    """The error for a fault carrying ШЭП ``ErrorInfo``; None if it carries none."""
    info = fault.detail
    if info is None or etree.QName(info).localname != "ErrorInfo":
        return None
    code = (info.findtext("errorCode") or "").strip() or "?"
    message = (info.findtext("errorMessage") or "").strip() or fault.message
    if fault.client_side:
        return RegistryRejected(
            f"ШЭП refused the request: ErrorInfo {code}: {message}",
            registry=registry,
            operation=operation,
        )
    return RegistryFault(
        f"ШЭП fault: ErrorInfo {code}: {message}", registry=registry, operation=operation
    )


class SyncChannel:
    """A ШЭП SyncChannel client for one service behind the gateway."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        registry: str,
        service_id: str,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.sender = Sender.from_options(endpoint.options, service_id)
        self._soap = SoapClient(
            WSDL, endpoint, registry=registry, fault_mapper=error_info_error, http=http
        )

    async def send(
        self, payload: etree._Element, context: CallContext, operation: str
    ) -> etree._Element:
        """Send one payload; return the answer's payload element.

        A status other than SCSS001, or an answer without data, is a technical
        fault: business answers travel inside the payload.
        """
        response = await self._soap.call(
            "SendMessage",
            operation,
            request={
                "requestInfo": request_info(self.sender, context),
                "requestData": {"data": {"_value_1": payload}},
            },
        )
        info = getattr(response, "responseInfo", None)
        status = getattr(info, "status", None)
        if status is None or not status.code:
            raise self._soap.malformed("no responseInfo/status/code", operation)
        if status.code != SUCCESS:
            raise RegistryFault(
                f"ШЭП status {status.code}: {status.message}",
                registry=self._soap.registry,
                operation=operation,
            )
        data = getattr(getattr(response, "responseData", None), "data", None)
        answer = getattr(data, "_value_1", None)
        if not isinstance(answer, etree._Element):
            raise self._soap.malformed("no responseData/data payload", operation)
        return answer

    def malformed(self, why: str, operation: str) -> RegistryFault:
        """The error for a payload the adapter cannot read."""
        return self._soap.malformed(why, operation)

    async def aclose(self) -> None:
        await self._soap.aclose()
