"""Mock ЕСБД compulsory motor insurance behind an X-Road 4.0 security server:
``POST /insurance/`` (``GetPolicy``), ``GET /insurance/?wsdl``, and
``?xsd=xroad`` / ``?xsd=identifiers`` for the X-Road schemas.

As a security server it refuses a request without the X-Road headers
(``Client.MissingHeaderField``), of another protocol version, for another
service or from a client it does not know, and echoes the request's headers
in its answer, adding ``requestHash``. The service answers by plate (the
current policy, or a Client fault coded POLICY_NOT_FOUND) or by IIN (every
policy the person holds, newest first; an empty list for none).
"""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import replace
from typing import Any

from aiohttp import web
from lxml import etree

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
from regbus.mocks.population import Population
from regbus.mocks.soap import (
    SoapRequestError,
    description_response,
    envelope_response,
    fault_response,
    is_description,
    read_envelope,
    truncated_response,
)

PATH = "/"
WSDL = "insurance.wsdl"
SERVICE_CODE = "GetPolicy"
SERVICE_VERSION = "v1"
# Who the mock is on X-Road, and the one client its access rights admit.
PROVIDER = XRoadIdentity("KZ-TEST", "COM", "100140011111", "ESBD")
CLIENT = XRoadIdentity("KZ-TEST", "GOV", "000000000001", "regbus")
HASH_ALGORITHM = "http://www.w3.org/2001/04/xmlenc#sha512"
REQUIRED_HEADERS = ("client", "service", "id", "protocolVersion")


class XRoadRefusal(Exception):
    """A request the security server refuses, with its X-Road fault code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InsuranceMock:
    """The unified insurance database, answering from the shared population."""

    id = "insurance"

    def __init__(self, population: Population) -> None:
        self.schema = PayloadSchema(WSDL)
        self.settings = XRoadSettings(CLIENT, PROVIDER, SERVICE_VERSION)
        vehicles = {v["plate"]: v for v in population.vehicles}
        self.policies = [
            _policy(row, vehicles[row["plate"]])
            for row in sorted(population.policies, key=lambda p: p["valid_from"], reverse=True)
        ]

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self._description), web.post(PATH, self._get_policy)]

    def endpoint_path(self) -> str:
        return PATH

    def endpoint_options(self) -> dict[str, str]:
        """The X-Road identifiers the adapter must be configured with."""
        return self.settings.options()

    def technical_error(self, request: web.Request) -> web.Response:
        return fault_response("Server.ServerProxy.ServiceFailed", "ESBD database is unavailable")

    def malformed(self, request: web.Request) -> web.Response:
        return truncated_response(self._answer(self.policies[:1]))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    async def _description(self, request: web.Request) -> web.Response:
        schemas = {"xroad": "xroad.xsd", "identifiers": "identifiers.xsd"}
        return description_response(request, WSDL, schemas)

    async def _get_policy(self, request: web.Request) -> web.Response:
        data = await request.read()
        try:
            header, body = read_envelope(data)
            echo = self._security_check(header)
        except SoapRequestError as exc:
            return fault_response("Client.InvalidSoap", str(exc))
        except XRoadRefusal as exc:
            return fault_response(exc.code, exc.message)
        echo.append(_request_hash(data))
        try:
            self.schema.check(body, SERVICE_CODE)
        except ValueError as exc:
            return self._fault("INVALID_REQUEST", str(exc), echo)
        plate, iin = self.schema.text(body, "plate"), self.schema.text(body, "iin")
        if iin:
            return envelope_response(self._answer(self._held_by(iin)), echo)
        current = next((p for p in self.policies if p["plate"] == plate), None)
        if current is None:
            return self._fault("POLICY_NOT_FOUND", f"no policy for plate {plate}", echo)
        return envelope_response(self._answer([current]), echo)

    def _security_check(self, header: etree._Element | None) -> list[etree._Element]:
        """The request's X-Road headers, copied for the answer; ``XRoadRefusal`` if wrong."""
        found = {etree.QName(h).localname: h for h in _xroad_headers(header)}
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
            read_identifier(service_header(s, SERVICE_CODE)) for s in (self.settings, unversioned)
        }:
            named = "/".join(part for part in service[1:] if part)
            raise XRoadRefusal("Server.ServerProxy.UnknownService", f"Unknown service: {named}")
        if read_identifier(found["client"]) != read_identifier(client_header(self.settings)):
            raise XRoadRefusal(
                "Server.ServerProxy.AccessDenied", f"Request is not allowed: {SERVICE_CODE}"
            )
        return [copy.deepcopy(h) for h in found.values()]

    def _held_by(self, iin: str) -> list[dict[str, str]]:
        return [p for p in self.policies if p["holderIin"] == iin]

    def _answer(self, policies: list[dict[str, str]]) -> etree._Element:
        answer = self.schema.build("GetPolicyResponse")
        for policy in policies:
            element = etree.SubElement(answer, self.schema.qname("policy"))
            for name, text in policy.items():
                if text:
                    etree.SubElement(element, self.schema.qname(name)).text = text
        return answer

    def _fault(self, code: str, message: str, echo: list[etree._Element]) -> web.Response:
        detail = self.schema.build("ServiceFault", code=code, message=message)
        return fault_response("Client", message, detail, echo)


def _policy(row: dict[str, Any], vehicle: dict[str, Any]) -> dict[str, str]:
    """One policy's fields, in the order of the WSDL's ``Policy``."""
    return {
        "policyNumber": row["policy_number"],
        "insurer": row["insurer"],
        "plate": row["plate"],
        "vin": vehicle.get("vin", ""),
        "holderIin": vehicle["owner_iin"],
        "validFrom": row["valid_from"],
        "validTo": row["valid_to"],
        "status": row["status"],
    }


def _xroad_headers(header: etree._Element | None) -> list[etree._Element]:
    return [] if header is None else list(header.iterfind(f"{{{XROAD}}}*"))


def _request_hash(data: bytes) -> etree._Element:
    """``xrd:requestHash``, which the provider's security server adds to an answer."""
    element = etree.Element(f"{{{XROAD}}}requestHash", {"algorithmId": HASH_ALGORITHM}, nsmap=NSMAP)
    element.text = base64.b64encode(hashlib.sha512(data).digest()).decode()
    return element
