"""A zeep client for one packaged WSDL, bound to the configured endpoint, and the
one place SOAP failures become registry errors.

    soap = SoapClient("zags.wsdl", endpoint, registry="zags")
    acts = await soap.call("ListActs", "list_acts", iin="850314354052")
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, ValidationError
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from regbus.adapters.base import Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.http import make_client, require_http_url, status_error, transport_error
from regbus.adapters.soap import descriptions

SOAP_ENVELOPES = (
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    "http://www.w3.org/2003/05/soap-envelope",  # SOAP 1.2
)
_STATUSES = frozenset(HTTPStatus)


@dataclass(frozen=True)
class SoapFault:
    """A SOAP fault as the registry sent it.

    ``code`` is the fault code without its prefix (``Client``, ``Server``, or
    SOAP 1.2 ``Sender``/``Receiver``); ``detail`` the first element inside
    ``<detail>``, where registries put their own error structure.
    """

    code: str
    message: str
    detail: etree._Element | None = None

    @property
    def client_side(self) -> bool:
        """The registry blames the request, so sending it again will not help."""
        return self.code.split(".", 1)[0] in ("Client", "Sender")

    @classmethod
    def from_zeep(cls, fault: Fault) -> SoapFault:
        code = str(fault.code or "Server").rsplit(":", 1)[-1]
        detail = fault.detail if isinstance(fault.detail, etree._Element) else None
        first = next(iter(detail.iterchildren(etree.Element)), None) if detail is not None else None
        return cls(code=code, message=str(fault.message or "").strip(), detail=first)


# Turns a fault into the registry's own meaning, or None for the generic rule.
FaultMapper = Callable[[SoapFault, str, str], RegbusError | None]


def generic_fault_error(fault: SoapFault, registry: str, operation: str) -> RegbusError:
    """A Client fault is a refusal; anything else is a technical fault."""
    text = f"{fault.code} fault: {fault.message or 'no message'}"
    if fault.client_side:
        return RegistryRejected(
            f"registry refused the request ({text})", registry=registry, operation=operation
        )
    return RegistryFault(f"SOAP {text}", registry=registry, operation=operation)


class UnexpectedAnswer(Exception):
    """The answer is XML, but not the one the operation promises."""


class ExpectedAnswer(zeep.Plugin):
    """Refuse an answer whose body is neither a fault nor the operation's output
    element: zeep would otherwise read a foreign document as an empty result."""

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        body = next(
            (b for ns in SOAP_ENVELOPES if (b := envelope.find(f"{{{ns}}}Body")) is not None), None
        )
        if body is None:
            raise UnexpectedAnswer("the answer has no SOAP Body")
        first = next(iter(body.iterchildren(etree.Element)), None)
        if first is None:
            raise UnexpectedAnswer("the answer's SOAP Body is empty")
        expected = getattr(getattr(operation, "output", None), "body", None)
        name = etree.QName(first)
        if name.localname != "Fault" and expected is not None and name.text != expected.qname.text:
            raise UnexpectedAnswer(f"expected {expected.qname.text} in the answer, got {name.text}")
        return envelope, http_headers


class SoapClient:
    """An async zeep client for a WSDL shipped in the package.

    The binding address is the configured ``Endpoint.url``, not the WSDL's.
    zeep's secure defaults are kept (no DTDs, no entities, no external
    fetches, strict parsing). ``fault_mapper`` gives registry-specific
    meaning to faults; unmapped ones follow :func:`generic_fault_error`.
    """

    def __init__(
        self,
        wsdl: str,
        endpoint: Endpoint,
        *,
        registry: str,
        fault_mapper: FaultMapper | None = None,
        plugins: Sequence[zeep.Plugin] = (),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        require_http_url(endpoint.url, registry)
        self.registry = registry
        self._fault_mapper = fault_mapper
        self._http = http or make_client(endpoint)
        self._owns_http = http is None
        wsdl_http = httpx.Client()
        try:
            self._client = zeep.AsyncClient(  # type: ignore[no-untyped-call]
                io.BytesIO(descriptions.read(wsdl)),
                transport=AsyncTransport(  # type: ignore[no-untyped-call]
                    client=self._http, wsdl_client=wsdl_http
                ),
                settings=zeep.Settings(
                    strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True
                ),
                plugins=[*plugins, ExpectedAnswer()],
            )
        finally:
            wsdl_http.close()  # descriptions come from the package, never over the network
        service = next(iter(self._client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        self._service = AsyncServiceProxy(  # type: ignore[no-untyped-call]
            self._client, port.binding, **{**port.binding_options, "address": endpoint.url}
        )

    async def call(self, soap_operation: str, operation: str, /, **arguments: Any) -> Any:
        """Run one SOAP operation; ``operation`` is the bus operation, for errors."""
        try:
            return await self._service[soap_operation](**arguments)
        except ValidationError:
            raise  # our own request does not fit the WSDL: a bug, not a registry failure
        except Fault as exc:
            raise self.fault_error(SoapFault.from_zeep(exc), operation) from exc
        except TransportError as exc:
            raise self._transport_failure(exc, operation) from exc
        except (ZeepError, etree.XMLSyntaxError, UnexpectedAnswer) as exc:
            raise self.malformed(str(exc) or type(exc).__name__, operation) from exc
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.registry, operation) from exc

    def fault_error(self, fault: SoapFault, operation: str) -> RegbusError:
        """The registry's meaning of ``fault``, else the generic rule."""
        mapped = self._fault_mapper(fault, self.registry, operation) if self._fault_mapper else None
        return mapped or generic_fault_error(fault, self.registry, operation)

    def malformed(self, why: str, operation: str) -> RegistryFault:
        """The error for an answer that cannot be read as the WSDL promises."""
        return RegistryFault(
            f"malformed answer: {why}", registry=self.registry, operation=operation
        )

    def _transport_failure(self, exc: TransportError, operation: str) -> RegbusError:
        # zeep reports "not XML" and "HTTP error without a body" alike; the status tells them apart.
        if exc.status_code and exc.status_code != 200:
            phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in _STATUSES else ""
            return status_error(exc.status_code, phrase, self.registry, operation)
        first_line = str(exc.message).split("\n", 1)[0]
        return self.malformed(first_line, operation)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
