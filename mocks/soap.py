"""SOAP 1.1 server side for mock registries: read a request envelope safely,
answer with an envelope or a fault, serve the packaged WSDL.

    body = read_body(await request.read())           # SoapRequestError if unusable
    header, body = read_envelope(await request.read())   # header: None if there is none
    return envelope_response(answer_element)
    return envelope_response(answer_element, header=[...])   # SOAP Header children
    return fault_response("Client", "no such person", detail_element)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aiohttp import web
from lxml import etree

from regbus.adapters.soap import descriptions
from regbus.adapters.soap.descriptions import DescriptionSource

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
CONTENT_TYPE = "text/xml"

FaultCode = Literal["Client", "Server"]


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
