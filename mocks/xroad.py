"""A mock registry behind an X-Road 4.0 security server: subclass, declare who
the provider is, and answer the operations.

    class LandMock(XRoadMock):
        id = "land"
        wsdl = files("kz_land") / "land.wsdl"
        provider = XRoadIdentity("KZ-TEST", "GOV", "000000000007", "EGKN")

        def answer(self, operation: str, request: View) -> etree._Element:
            parcel = PARCELS.get(request.text("iin")) or not_found(f"no parcel")
            return self.reply("GetParcelResponse", parcel=parcel)

As a security server it refuses a request without the X-Road headers
(``Client.MissingHeaderField``), of another protocol version, for another
service or from a client it does not admit, and echoes the request's headers
in its answer, adding ``requestHash``. ``ServiceFault`` raised by ``answer``
becomes a Client fault whose detail is the WSDL's ``ServiceFault`` element.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar, NoReturn

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.descriptions import DescriptionSource
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.xroad import (
    NSMAP,
    PROTOCOL_VERSION,
    XROAD,
    XRoadIdentity,
    XRoadSettings,
    client_header,
    read_identifier,
    service_header,
)
from regbus.adapters.views import View, XmlView
from regbus.mocks.population import Population
from regbus.mocks.soap import (
    Content,
    SoapRequestError,
    append_content,
    description_response,
    envelope_response,
    fault_response,
    is_description,
    read_envelope,
    truncated_response,
)
from regbus.mocks.soap import ServiceFault as ServiceFault  # re-exported: X-Road mocks raise it

# The client every X-Road mock admits: what `regbus mocks --write-config` configures.
REGBUS_CLIENT = XRoadIdentity("KZ-TEST", "GOV", "000000000001", "regbus")
HASH_ALGORITHM = "http://www.w3.org/2001/04/xmlenc#sha512"
REQUIRED_HEADERS = ("client", "service", "id", "protocolVersion")


class XRoadRefusal(Exception):
    """A request the security server refuses, with its X-Road fault code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def not_found(message: str, code: str = "NOT_FOUND") -> NoReturn:
    raise ServiceFault(code, message)


class XRoadMock:
    """The security-server side of an X-Road mock; subclasses answer operations."""

    id: ClassVar[str]
    wsdl: ClassVar[DescriptionSource]
    provider: ClassVar[XRoadIdentity]
    client: ClassVar[XRoadIdentity] = REGBUS_CLIENT
    service_version: ClassVar[str] = "v1"
    path: ClassVar[str] = "/"
    schemas: ClassVar[Mapping[str, str]] = {"xroad": "xroad.xsd", "identifiers": "identifiers.xsd"}

    def __init__(self, population: Population) -> None:
        self.population = population
        self.schema = PayloadSchema(self.wsdl)
        self.settings = XRoadSettings(self.client, self.provider, self.service_version)

    def answer(self, operation: str, request: View) -> etree._Element:
        """The answer element to ``operation``'s request; raise ``ServiceFault`` to refuse."""
        raise NotImplementedError

    def reply(self, name: str, **content: Content) -> etree._Element:
        """``<name>`` with children in the WSDL's namespace, in the order given."""
        element = self.schema.build(name)
        append_content(self.schema, element, content)
        return element

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.path, self._description), web.post(self.path, self._post)]

    def endpoint_path(self) -> str:
        return self.path

    def endpoint_options(self) -> dict[str, str]:
        """The X-Road identifiers the adapter must be configured with."""
        return self.settings.options()

    def technical_error(self, request: web.Request) -> web.Response:
        return fault_response("Server.ServerProxy.ServiceFailed", f"{self.id}: service failed")

    def malformed(self, request: web.Request) -> web.Response:
        return truncated_response(self.schema.build("Answer"))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    async def _description(self, request: web.Request) -> web.Response:
        return description_response(request, self.wsdl, dict(self.schemas))

    async def _post(self, request: web.Request) -> web.Response:
        data = await request.read()
        try:
            header, body = read_envelope(data)
            operation = etree.QName(body).localname
            echo = self._security_check(header, operation)
        except SoapRequestError as exc:
            return fault_response("Client.InvalidSoap", str(exc))
        except XRoadRefusal as exc:
            return fault_response(exc.code, exc.message)
        echo.append(_request_hash(data))
        try:
            self.schema.check(body, operation)
            return envelope_response(self.answer(operation, XmlView(body)), echo)
        except ValueError as exc:
            return self._fault(ServiceFault("INVALID_REQUEST", str(exc)), echo)
        except ServiceFault as exc:
            return self._fault(exc, echo)

    def _security_check(
        self, header: etree._Element | None, operation: str
    ) -> list[etree._Element]:
        """The request's X-Road headers, copied for the answer; ``XRoadRefusal`` if wrong."""
        found = {} if header is None else {
            etree.QName(h).localname: h for h in header.iterfind(f"{{{XROAD}}}*")
        }  # fmt: skip
        for name in REQUIRED_HEADERS:
            if name not in found or not (found[name].text or len(found[name])):
                raise XRoadRefusal(
                    "Client.MissingHeaderField", f"Required field 'xrd:{name}' is missing"
                )
        version = (found["protocolVersion"].text or "").strip()
        if version != PROTOCOL_VERSION:
            raise XRoadRefusal(
                "Client.InvalidProtocolVersion", f"Unsupported protocol version {version!r}"
            )
        service = read_identifier(found["service"])
        unversioned = replace(self.settings, service_version="")
        if service not in {
            read_identifier(service_header(s, operation)) for s in (self.settings, unversioned)
        }:
            named = "/".join(part for part in service[1:] if part)
            raise XRoadRefusal("Server.ServerProxy.UnknownService", f"Unknown service: {named}")
        if read_identifier(found["client"]) != read_identifier(client_header(self.settings)):
            raise XRoadRefusal(
                "Server.ServerProxy.AccessDenied", f"Request is not allowed: {operation}"
            )
        return [copy.deepcopy(h) for h in found.values()]

    def _fault(self, fault: ServiceFault, echo: list[etree._Element]) -> web.Response:
        detail = self.schema.build("ServiceFault", code=fault.code, message=fault.message)
        return fault_response("Client", fault.message, detail, echo)


def _request_hash(data: bytes) -> etree._Element:
    """``xrd:requestHash``, which the provider's security server adds to an answer."""
    element = etree.Element(f"{{{XROAD}}}requestHash", {"algorithmId": HASH_ALGORITHM}, nsmap=NSMAP)
    element.text = base64.b64encode(hashlib.sha512(data).digest()).decode()
    return element
