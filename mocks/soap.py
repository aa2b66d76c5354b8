"""SOAP 1.1 server side for mock registries: read a request envelope safely,
answer with an envelope or a fault, serve the packaged WSDL.

    body = read_body(await request.read())           # SoapRequestError if unusable
    header, body = read_envelope(await request.read())   # header: None if there is none
    return envelope_response(answer_element)
    return envelope_response(answer_element, header=[...])   # SOAP Header children
    return fault_response("Client", "no such person", detail_element)

``SoapMock`` is all of that for an agency's own document/literal service on
``adapters/soap/wsdl/{id}.wsdl``::

    class CriminalMock(SoapMock):
        id = "criminal"
        path = "/CriminalRecordService"

        def handlers(self) -> dict[str, Handler]:
            return {"GetRecordRequest": self._record}   # a valid request -> its answer

A handler raises ``ServiceFault`` to refuse: a Client fault whose detail is the
WSDL's ``ServiceFault`` element (``code``, ``message``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import ClassVar, Literal

from aiohttp import web
from lxml import etree

from regbus.adapters.soap import descriptions
from regbus.adapters.soap.descriptions import DescriptionSource
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.views import XmlView
from regbus.mocks import people

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
CONTENT_TYPE = "text/xml"

FaultCode = Literal["Client", "Server"]
# A reply's content: text, a nested element, or repeated elements.
Content = str | Mapping[str, "Content"] | Sequence[Mapping[str, "Content"]]


class SoapRequestError(Exception):
    """The request is not a usable SOAP 1.1 envelope; answer with a Client fault."""


def read_envelope(data: bytes) -> tuple[etree._Element | None, etree._Element]:
    """The ``Envelope/Header`` of a request (None if absent) and the first element
    inside its ``Envelope/Body``."""
    try:
        root = descriptions.parse(data)
    except (etree.XMLSyntaxError, descriptions.UnsafeXml) as exc:
        raise SoapRequestError(f"request is not acceptable XML: {exc}") from exc
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapRequestError("request is not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    first = None if body is None else next(iter(body.iterchildren(etree.Element)), None)
    if first is None:
        raise SoapRequestError("request has an empty SOAP body")
    return root.find(f"{{{SOAP_ENV}}}Header"), first


def read_body(data: bytes) -> etree._Element:
    """The first element inside ``Envelope/Body`` of a request."""
    return read_envelope(data)[1]


def _envelope(header: Sequence[etree._Element]) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    if header:
        etree.SubElement(root, f"{{{SOAP_ENV}}}Header").extend(header)
    return root, etree.SubElement(root, f"{{{SOAP_ENV}}}Body")


def envelope(payload: etree._Element, header: Sequence[etree._Element] = ()) -> bytes:
    """A SOAP 1.1 envelope around ``payload`` (and ``header`` elements), serialised."""
    root, body = _envelope(header)
    body.append(payload)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def xml_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=CONTENT_TYPE, charset="utf-8")


def envelope_response(
    payload: etree._Element, header: Sequence[etree._Element] = ()
) -> web.Response:
    return xml_response(envelope(payload, header))


def fault_response(
    code: FaultCode | str,
    message: str,
    detail: etree._Element | None = None,
    header: Sequence[etree._Element] = (),
) -> web.Response:
    """A SOAP 1.1 fault; HTTP 500 whoever is to blame, as SOAP 1.1 over HTTP says.

    ``code`` is ``Client``, ``Server`` or a dotted refinement of one
    (``Server.ServerProxy.ServiceFailed``, as X-Road writes them).
    """
    root, body = _envelope(header)
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(fault, "faultstring").text = message
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return xml_response(bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")), 500)


def truncated_response(payload: etree._Element) -> web.Response:
    """HTTP 200 with an envelope cut off mid-way: what a broken proxy delivers."""
    whole = envelope(payload)
    return xml_response(whole[: len(whole) * 2 // 3] + b"\x00<<garbage")


def is_description(request: web.Request) -> bool:
    """``GET ...?wsdl`` or ``GET ...?xsd=NAME``."""
    return request.method == "GET" and ("wsdl" in request.query or "xsd" in request.query)


def description_response(
    request: web.Request, wsdl: DescriptionSource, xsds: dict[str, str]
) -> web.Response:
    """Serve the packaged WSDL, its ``soap:address`` pointing at the requested URL,
    or one of ``xsds`` (``?xsd=gbdfl`` -> ``xsds["gbdfl"]``)."""
    if "xsd" in request.query:
        name = xsds.get(request.query["xsd"])
        if name is None:
            raise web.HTTPNotFound(text=f"no schema {request.query['xsd']!r}")
        return xml_response(descriptions.read(name))
    if "wsdl" not in request.query:
        raise web.HTTPNotFound(text="append ?wsdl for the service description")
    root = etree.fromstring(
        descriptions.read(wsdl), descriptions.secure_parser(remove_comments=False)
    )
    here = str(request.url.with_query(None))
    for address in root.iter(f"{{{WSDL_SOAP}}}address"):
        address.set("location", here)
    return xml_response(bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")))


class ServiceFault(Exception):
    """A business refusal of the service (``code``: e.g. ``PERSON_NOT_FOUND``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def append_content(
    schema: PayloadSchema, parent: etree._Element, content: Mapping[str, Content]
) -> None:
    """Children of ``parent`` in the schema's namespace, in the order given; "" is left out."""
    for name, value in content.items():
        if isinstance(value, str):
            if value:
                etree.SubElement(parent, schema.qname(name)).text = value
            continue
        for item in [value] if isinstance(value, Mapping) else value:
            append_content(schema, etree.SubElement(parent, schema.qname(name)), item)


Handler = Callable[[XmlView], etree._Element]
IDEMPOTENCY_KEY = "idempotency_key"  # the request element of a write that names its key


class SoapMock:
    """The part of a plain SOAP mock registry that is the same for all of them: the
    WSDL served, requests checked against its schema (an invalid one is a Client fault
    coded ``INVALID_REQUEST``), business faults, technical and malformed answers, and
    writes answered once per idempotency key (``once``)."""

    id: ClassVar[str]
    path: ClassVar[str]

    def __init__(self) -> None:
        self.schema = PayloadSchema(f"{self.id}.wsdl")
        # idempotency key -> (the request's other fields, the answer)
        self._written: dict[str, tuple[dict[str, str], etree._Element]] = {}

    def handlers(self) -> Mapping[str, Handler]:
        """The answer to each request element; a handler may raise ``ServiceFault``."""
        raise NotImplementedError

    def reply(self, name: str, **content: Content) -> etree._Element:
        """``<name>`` with children in the WSDL's namespace, in the order given."""
        element = self.schema.build(name)
        append_content(self.schema, element, content)
        return element

    def once(self, request: XmlView, write: Callable[[], etree._Element]) -> etree._Element:
        """The answer to a write: ``write()`` the first time its ``idempotency_key`` comes,
        that same answer for a repeat of the same request; the key sent with another
        request is refused (``IDEMPOTENCY_KEY_REUSED``). Refusals are not remembered:
        they changed nothing."""
        key = request.text(IDEMPOTENCY_KEY)
        asked = {
            etree.QName(child).localname: (child.text or "").strip()
            for child in request.element.iterchildren(etree.Element)
        }
        asked.pop(IDEMPOTENCY_KEY, None)
        seen = self._written.get(key)
        if seen is not None:
            if seen[0] != asked:
                raise ServiceFault(
                    "IDEMPOTENCY_KEY_REUSED", f"idempotency key {key} came with another request"
                )
            return copy.deepcopy(seen[1])
        answer = write()
        self._written[key] = (asked, copy.deepcopy(answer))
        return answer

    @staticmethod
    def today() -> date:
        """The registry's today, never before the population's own (its newest facts)."""
        return max(date.today(), people.AS_OF)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self.path, self._description), web.post(self.path, self._post)]

    def endpoint_path(self) -> str:
        return self.path

    def technical_error(self, request: web.Request) -> web.Response:
        return self.fault(
            ServiceFault("INTERNAL_ERROR", f"{self.id}: database unavailable"), "Server"
        )

    def malformed(self, request: web.Request) -> web.Response:
        first = next(iter(self.handlers()))
        return truncated_response(self.schema.build(first.removesuffix("Request") + "Response"))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    def fault(self, fault: ServiceFault, code: FaultCode = "Client") -> web.Response:
        detail = self.schema.build("ServiceFault", code=fault.code, message=fault.message)
        return fault_response(code, fault.message, detail)

    async def _description(self, request: web.Request) -> web.Response:
        return description_response(request, f"{self.id}.wsdl", {})

    async def _post(self, request: web.Request) -> web.Response:
        handlers = self.handlers()
        try:
            body = read_body(await request.read())
            name = etree.QName(body).localname
            handler = handlers.get(name)
            if handler is None or body.tag != self.schema.qname(name):
                raise ValueError(f"{self.id} expects {' or '.join(handlers)}, not {body.tag}")
            self.schema.check(body, name)
        except (SoapRequestError, ValueError) as exc:
            return self.fault(ServiceFault("INVALID_REQUEST", str(exc)))
        try:
            return envelope_response(handler(XmlView(body)))
        except ServiceFault as exc:
            return self.fault(exc)


class Numbering:
    """Register numbers ``PREFIX-YYYY-NNNNNNN`` a mock issues: each year's next after the
    highest already taken (``taken``: the population's numbers)."""

    def __init__(self, prefix: str, taken: Iterable[str]) -> None:
        self.prefix = prefix
        self._last: dict[int, int] = {}
        form = re.compile(rf"{re.escape(prefix)}-([0-9]{{4}})-([0-9]{{7}})")
        for number in taken:
            found = form.fullmatch(number)
            if found:
                year = int(found[1])
                self._last[year] = max(self._last.get(year, 0), int(found[2]))

    def issue(self, year: int) -> str:
        last = self._last[year] = self._last.get(year, 0) + 1
        return f"{self.prefix}-{year}-{last:07d}"
