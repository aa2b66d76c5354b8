"""X-Road message protocol 4.0 as a wire style: the SOAP headers every request
carries, and the check that the answer echoes them.

    xroad = XRoadHeaders.from_options(endpoint.options)
    soap = SoapClient(wsdl, endpoint, registry="insurance", plugins=[xroad])
    answer = await soap.send("GetPolicy", "get_policy", context=context, plate="123ABC01")

The caller's ``context`` gives ``userId`` (its operator) and ``issue`` (its
case number). ``SoapClient.send`` hands it to the headers directly
(:meth:`XRoadHeaders.stamp` and :meth:`XRoadHeaders.check` work on an lxml
envelope, without zeep); as a zeep plugin (``SoapClient.call``) it arrives
through a context variable (:func:`~regbus.adapters.soap.client.on_behalf_of`).
Either way concurrent calls cannot mix them up.

Endpoint options (identifiers written as X-Road writes them):

- ``xroad_client``: the bus, ``INSTANCE/CLASS/MEMBER/SUBSYSTEM`` (or ``INSTANCE/CLASS/MEMBER``);
- ``xroad_service``: the provider, ``INSTANCE/CLASS/MEMBER/SUBSYSTEM``; the
  service code is the SOAP operation;
- ``xroad_service_version`` (optional): e.g. ``v1``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import zeep
from lxml import etree

from regbus.adapters.base import CallContext
from regbus.adapters.http import clip
from regbus.adapters.soap.client import UnexpectedAnswer, current_caller, new_message_id
from regbus.adapters.views import first_children, namespace_of

XROAD = "http://x-road.eu/xsd/xroad.xsd"
IDENTIFIERS = "http://x-road.eu/xsd/identifiers"
PROTOCOL_VERSION = "4.0"
NSMAP = {"xrd": XROAD, "iden": IDENTIFIERS}
OBJECT_TYPE = f"{{{IDENTIFIERS}}}objectType"
# Children of an identifier, in the order of identifiers.xsd.
ID_FIELDS = (
    "xRoadInstance",
    "memberClass",
    "memberCode",
    "subsystemCode",
    "serviceCode",
    "serviceVersion",
)
CLIENT_OPTION = "xroad_client"
SERVICE_OPTION = "xroad_service"
VERSION_OPTION = "xroad_service_version"
FORMAT = "INSTANCE/CLASS/MEMBER or INSTANCE/CLASS/MEMBER/SUBSYSTEM"


@dataclass(frozen=True)
class XRoadIdentity:
    """A member, or one of its subsystems, in an X-Road instance."""

    instance: str
    member_class: str
    member_code: str
    subsystem_code: str = ""

    @classmethod
    def parse(cls, text: str, option: str = "identifier") -> XRoadIdentity:
        """``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``; ``ValueError`` naming ``option``."""
        parts = text.strip().split("/")
        if len(parts) not in (3, 4) or not all(parts):
            raise ValueError(f"option {option} must be {FORMAT}, got {text!r}")
        return cls(*parts)

    def __str__(self) -> str:
        parts = (self.instance, self.member_class, self.member_code, self.subsystem_code)
        return "/".join(p for p in parts if p)

    @property
    def object_type(self) -> str:
        return "SUBSYSTEM" if self.subsystem_code else "MEMBER"


@dataclass(frozen=True)
class XRoadSettings:
    """Who the bus is on X-Road, and whose service it calls."""

    client: XRoadIdentity
    service: XRoadIdentity
    service_version: str = ""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> XRoadSettings:
        """Read ``xroad_client``, ``xroad_service``, ``xroad_service_version``."""
        values: dict[str, XRoadIdentity] = {}
        for key in (CLIENT_OPTION, SERVICE_OPTION):
            value = str(options.get(key) or "")
            if not value:
                raise ValueError(f"X-Road needs the endpoint option {key}: {FORMAT}")
            values[key] = XRoadIdentity.parse(value, key)
        version = str(options.get(VERSION_OPTION) or "")
        return cls(values[CLIENT_OPTION], values[SERVICE_OPTION], version)

    def options(self) -> dict[str, str]:
        """The endpoint options that configure these settings."""
        found = {CLIENT_OPTION: str(self.client), SERVICE_OPTION: str(self.service)}
        if self.service_version:
            found[VERSION_OPTION] = self.service_version
        return found


def identifier(name: str, object_type: str, **fields: str) -> etree._Element:
    """``<xrd:NAME iden:objectType=...>`` with the given identifier fields."""
    element = etree.Element(f"{{{XROAD}}}{name}", {OBJECT_TYPE: object_type}, nsmap=NSMAP)
    for field in ID_FIELDS:
        if fields.get(field):
            etree.SubElement(element, f"{{{IDENTIFIERS}}}{field}").text = fields[field]
    return element


def _fields(identity: XRoadIdentity) -> dict[str, str]:
    return {
        "xRoadInstance": identity.instance,
        "memberClass": identity.member_class,
        "memberCode": identity.member_code,
        "subsystemCode": identity.subsystem_code,
    }


def client_header(settings: XRoadSettings) -> etree._Element:
    """``xrd:client``: the bus, a MEMBER or a SUBSYSTEM."""
    return identifier("client", settings.client.object_type, **_fields(settings.client))


def service_header(settings: XRoadSettings, service_code: str) -> etree._Element:
    """``xrd:service``: the provider's service ``service_code``."""
    return identifier(
        "service",
        "SERVICE",
        **_fields(settings.service),
        serviceCode=service_code,
        serviceVersion=settings.service_version,
    )


_ID_TAGS = tuple(f"{{{IDENTIFIERS}}}{f}" for f in ID_FIELDS)
_ID, _CLIENT, _SERVICE = (f"{{{XROAD}}}{name}" for name in ("id", "client", "service"))


def read_identifier(element: etree._Element | None) -> tuple[str, ...]:
    """An identifier as comparable values: objectType, then every field."""
    if element is None:
        return ()
    found = {child.tag: child.text for child in element.iterchildren()}
    return (element.get(OBJECT_TYPE, ""), *[(found.get(tag) or "").strip() for tag in _ID_TAGS])


def request_headers(
    settings: XRoadSettings, service_code: str, message_id: str, context: CallContext | None
) -> list[etree._Element]:
    """The X-Road headers of one request, in the order of the protocol."""
    texts = {
        "id": message_id,
        "userId": context.operator_id if context else "",
        "issue": context.case_number if context else "",
        "protocolVersion": PROTOCOL_VERSION,
    }
    headers = [client_header(settings), service_header(settings, service_code)]
    for name, text in texts.items():
        if text:
            element = etree.Element(f"{{{XROAD}}}{name}", nsmap=NSMAP)
            element.text = text
            headers.append(element)
    return headers


def _texts(message_id: str, context: CallContext | None) -> tuple[str, str, str]:
    """The texts of the ``id``, ``userId`` and ``issue`` headers ("" leaves one out)."""
    if context is None:
        return message_id, "", ""
    return message_id, context.operator_id, context.case_number


@functools.lru_cache(maxsize=16)
def _soap_tags(soap: str | None) -> tuple[str, str, str]:
    """The Body, Header and Fault tags of a SOAP envelope namespace."""
    return f"{{{soap}}}Body", f"{{{soap}}}Header", f"{{{soap}}}Fault"


class XRoadMismatch(UnexpectedAnswer):
    """The answer does not echo the request's X-Road headers."""


@dataclass(frozen=True)
class Sent:
    """What one request's headers said, for checking the answer's echo."""

    id: str
    client: tuple[str, ...]
    service: tuple[str, ...]


# What the last request of this task carried, for the zeep plugin path; each
# asyncio task has its own copy.
_SENT: ContextVar[Sent | None] = ContextVar("regbus_xroad_sent", default=None)


class XRoadHeaders(zeep.Plugin):
    """Adds the X-Road 4.0 headers to every request; checks the answer echoes
    ``id``, ``client`` and ``service`` (faults are exempt: security servers send
    theirs without headers).

    On lxml alone (:class:`~regbus.adapters.soap.client.EnvelopeHook`, what
    ``SoapClient.send`` uses): ``sent = xroad.stamp(envelope, "GetPolicy", context)``,
    then ``xroad.check(answer_envelope, sent)``. As a zeep plugin, ``egress`` and
    ``ingress`` do the same, the caller coming from
    :func:`~regbus.adapters.soap.client.current_caller`.
    """

    def __init__(
        self, settings: XRoadSettings, *, new_id: Callable[[], str] = new_message_id
    ) -> None:
        self.settings = settings
        self._new_id = new_id
        # Per SOAP envelope namespace and service code: a SOAP Header holding
        # every X-Road header (id, userId and issue to fill in), built once and
        # copied into each request, and the identifiers the answer must echo.
        self._fixed: dict[tuple[str | None, str], tuple[etree._Element, Sent]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> XRoadHeaders:
        """The plugin for an endpoint's options (:meth:`XRoadSettings.from_options`)."""
        return cls(XRoadSettings.from_options(options))

    def _template(self, soap: str | None, soap_operation: str) -> tuple[etree._Element, Sent]:
        fixed = self._fixed.get((soap, soap_operation))
        if fixed is None:
            header = etree.Element(f"{{{soap}}}Header")
            client = client_header(self.settings)
            service = service_header(self.settings, soap_operation)
            header.append(client)
            header.append(service)
            # As request_headers() builds them, in the order of the protocol.
            for name in ("id", "userId", "issue", "protocolVersion"):
                element = etree.SubElement(header, f"{{{XROAD}}}{name}", nsmap=NSMAP)
                element.text = PROTOCOL_VERSION
            fixed = (header, Sent("", read_identifier(client), read_identifier(service)))
            self._fixed[(soap, soap_operation)] = fixed
        return fixed

    def stamp(
        self, envelope: etree._Element, soap_operation: str, context: CallContext | None
    ) -> Sent:
        """Put this request's X-Road headers first in the envelope's SOAP Header
        (replacing any there); return what the answer must echo."""
        soap = namespace_of(envelope)
        template, expected = self._template(soap, soap_operation)
        message_id = self._new_id()
        self._stamp(envelope, soap, template, _texts(message_id, context))
        return Sent(message_id, expected.client, expected.service)

    def texts(
        self, soap: str, soap_operation: str, context: CallContext | None
    ) -> tuple[tuple[str, ...], Sent]:
        """What :meth:`stamp` would write into an envelope of SOAP namespace ``soap``
        (``id``, ``userId``, ``issue``; "" for one left out) and return: the
        :class:`~regbus.adapters.soap.client.TemplateHook` half of stamping."""
        _, expected = self._template(soap, soap_operation)
        message_id = self._new_id()
        return _texts(message_id, context), Sent(message_id, expected.client, expected.service)

    def stamp_texts(
        self, envelope: etree._Element, soap_operation: str, texts: tuple[str, ...]
    ) -> None:
        """:meth:`stamp` with the texts :meth:`texts` gave (or stand-ins for them)."""
        soap = namespace_of(envelope)
        template, _ = self._template(soap, soap_operation)
        self._stamp(envelope, soap, template, texts)

    @staticmethod
    def _stamp(
        envelope: etree._Element, soap: str | None, template: etree._Element, texts: tuple[str, ...]
    ) -> None:
        headers = template.__copy__()
        _, _, id_node, user_node, issue_node, _ = headers
        for node, text in zip((id_node, user_node, issue_node), texts, strict=True):
            if text:
                node.text = text
            else:
                headers.remove(node)
        header = next(envelope.iterchildren(f"{{{soap}}}Header"), None)
        if header is None:
            envelope.insert(0, headers)
        else:
            for old in header.findall(f"{{{XROAD}}}*"):
                header.remove(old)
            for position, element in enumerate(list(headers)):
                header.insert(position, element)

    def check(self, envelope: etree._Element, sent: Sent | None) -> None:
        """``XRoadMismatch`` unless the answer echoes ``sent`` (a fault needs not)."""
        soap = namespace_of(envelope)
        body_tag, header_tag, fault = _soap_tags(soap)
        header = None
        for child in envelope:  # every Body, and the first Header
            tag = child.tag
            if tag == body_tag:
                if next(child.iterchildren(fault), None) is not None:
                    return
            elif tag == header_tag and header is None:
                header = child
        if sent is None:
            raise XRoadMismatch("X-Road answer to a request this client did not send")
        if header is None:
            raise XRoadMismatch(f"X-Road answer has no SOAP Header to echo request id {sent.id}")
        headers = first_children(header)
        node = headers.get(_ID)
        echoed = ("" if node is None else node.text or "").strip()
        if echoed != sent.id:
            shown = clip(echoed, 80) or "none"
            raise XRoadMismatch(f"X-Road answer does not echo request id {sent.id} (got {shown})")
        for name, tag, expected in (
            ("client", _CLIENT, sent.client),
            ("service", _SERVICE, sent.service),
        ):
            got = read_identifier(headers.get(tag))
            if got != expected:
                raise XRoadMismatch(f"X-Road answer to {sent.id} names another {name}")

    def egress(
        self, envelope: etree._Element, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[etree._Element, Any]:
        _SENT.set(self.stamp(envelope, operation.name, current_caller()))
        return envelope, http_headers

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        self.check(envelope, _SENT.get())
        return envelope, http_headers
