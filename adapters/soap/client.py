"""A zeep client for one WSDL, bound to the configured endpoint, and the one
place SOAP failures become registry errors.

    soap = SoapClient("zags.wsdl", endpoint, registry="zags")   # or a Path, or files(...) / ...
    acts = await soap.call("ListActs", "list_acts", iin="850314354052")   # zeep objects
    answer = await soap.send("ListActs", "list_acts", iin="850314354052")  # the lxml element
    soap.soap_operations()   # {"ListActs"}, to check declarations against the WSDL
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, ValidationError
from zeep.plugins import apply_ingress
from zeep.proxy import AsyncServiceProxy
from zeep.wsdl.utils import etree_to_string

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.http import make_client, require_http_url, status_error, transport_error
from regbus.adapters.soap import descriptions
from regbus.adapters.soap.catalogue import Catalogue, OfflineTransport
from regbus.adapters.soap.descriptions import DescriptionSource

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


def body_element(envelope: etree._Element) -> etree._Element:
    """The first element inside a SOAP 1.1 or 1.2 ``Body``; ``UnexpectedAnswer`` if none."""
    body = next(
        (b for ns in SOAP_ENVELOPES if (b := envelope.find(f"{{{ns}}}Body")) is not None), None
    )
    if body is None:
        raise UnexpectedAnswer("the answer has no SOAP Body")
    first = next(iter(body.iterchildren(etree.Element)), None)
    if first is None:
        raise UnexpectedAnswer("the answer's SOAP Body is empty")
    return first


class ExpectedAnswer(zeep.Plugin):
    """Refuse an answer whose body is neither a fault nor the operation's output
    element: zeep would otherwise read a foreign document as an empty result."""

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        first = body_element(envelope)
        expected = getattr(getattr(operation, "output", None), "body", None)
        name = etree.QName(first)
        if name.localname != "Fault" and expected is not None and name.text != expected.qname.text:
            raise UnexpectedAnswer(f"expected {expected.qname.text} in the answer, got {name.text}")
        return envelope, http_headers


# Who the SOAP calls of this task are made for, for plugins that send it (X-Road's
# userId and issue). Each asyncio task has its own copy: concurrent calls cannot mix.
_CALLER: ContextVar[CallContext | None] = ContextVar("regbus_soap_caller", default=None)


@contextmanager
def on_behalf_of(context: CallContext | None) -> Iterator[None]:
    """Make the SOAP calls inside be made for ``context`` (see :func:`current_caller`)."""
    token = _CALLER.set(context)
    try:
        yield
    finally:
        _CALLER.reset(token)


def current_caller() -> CallContext | None:
    """The context the running SOAP call is made for, if its caller gave one."""
    return _CALLER.get()


class SoapClient:
    """An async zeep client for one WSDL: a file of regbus's own, a path, or a
    package resource.

    The binding address is the configured ``Endpoint.url``, not the WSDL's.
    The WSDL and what it imports load offline (:mod:`~regbus.adapters.soap.catalogue`);
    zeep's other secure defaults are kept (no DTDs, no entities, strict parsing).
    ``fault_mapper`` gives registry-specific meaning to faults; unmapped ones
    follow :func:`generic_fault_error`.
    """

    def __init__(
        self,
        wsdl: DescriptionSource,
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
        catalogue = Catalogue(wsdl)
        # forbid_external stays off: it would refuse every import before the
        # catalogue, which refuses all it does not hold, sees it.
        self._client = zeep.AsyncClient(  # type: ignore[no-untyped-call]
            catalogue.location,
            transport=OfflineTransport(catalogue, self._http),
            settings=zeep.Settings(
                strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False
            ),
            plugins=[*plugins, ExpectedAnswer()],
        )
        service = next(iter(self._client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        self._binding: Any = port.binding
        self._options: dict[str, Any] = {**port.binding_options, "address": endpoint.url}
        self._service = AsyncServiceProxy(  # type: ignore[no-untyped-call]
            self._client, port.binding, **self._options
        )

    def soap_operations(self) -> set[str]:
        """The operations of the bound port, as the WSDL names them."""
        return set(self._binding.all())

    def output_element(self, soap_operation: str) -> Any:
        """zeep's element for the body of the operation's answer (``.qname``, ``.type``)."""
        return self._operation(soap_operation).output.body

    def input_element(self, soap_operation: str) -> Any:
        """zeep's element for the body of the operation's request."""
        return self._operation(soap_operation).input.body

    def input_params(self, soap_operation: str) -> tuple[str, ...]:
        """Names of the children of the operation's request element, in order
        (both branches of a choice)."""
        return tuple(name for name, _ in self.input_element(soap_operation).type.elements)

    def _operation(self, soap_operation: str) -> Any:
        operation = self._binding.all().get(soap_operation)
        if operation is None:
            known = ", ".join(sorted(self._binding.all()))
            raise ValueError(
                f"{self.registry}: the WSDL has no operation {soap_operation!r} (it has {known})"
            )
        return operation

    async def call(
        self,
        soap_operation: str,
        operation: str,
        /,
        *,
        context: CallContext | None = None,
        **arguments: Any,
    ) -> Any:
        """Run one SOAP operation; ``operation`` is the bus operation, for errors;
        ``context`` the caller, for plugins that send it (:func:`on_behalf_of`)."""
        try:
            with self._caller(context):
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

    async def send(
        self,
        soap_operation: str,
        operation: str,
        /,
        *,
        context: CallContext | None = None,
        **arguments: Any,
    ) -> etree._Element:
        """Run one SOAP operation; return the answer's body element as lxml sees it
        (e.g. ``{urn:kz:zags:civil-acts:v1}ListActsResponse``), for declarative
        mapping. Plugins and ``context`` apply, and failures map, as in :meth:`call`."""
        soap_op = self._operation(soap_operation)
        with self._caller(context):
            envelope, headers = self._binding._create(
                soap_operation, (), arguments, client=self._client, options=self._options
            )
            try:
                response = await self._http.post(
                    self._options["address"],
                    content=etree_to_string(envelope),  # type: ignore[no-untyped-call]
                    headers=headers,
                )
            except httpx.HTTPError as exc:
                raise transport_error(exc, self.registry, operation) from exc
            return self._read_answer(response, soap_op, operation)

    @staticmethod
    def _caller(context: CallContext | None) -> AbstractContextManager[None]:
        """``on_behalf_of(context)``; the surrounding caller's when ``context`` is None."""
        return on_behalf_of(context) if context is not None else nullcontext()

    def _read_answer(
        self, response: httpx.Response, soap_op: Any, operation: str
    ) -> etree._Element:
        """What zeep's ``process_reply`` does, stopping at the body element."""
        status = response.status_code
        if status != 200 and not response.content:
            raise self._status_failure(status, operation)
        try:
            document = descriptions.parse(response.content)
        except (etree.XMLSyntaxError, descriptions.UnsafeXml) as exc:
            if status != 200:
                raise self._status_failure(status, operation) from exc
            raise self.malformed(f"not acceptable XML: {exc}", operation) from exc
        try:
            document, _ = apply_ingress(  # type: ignore[no-untyped-call]
                self._client, document, response.headers, soap_op
            )
            first = body_element(document)
        except (ZeepError, etree.XMLSyntaxError, UnexpectedAnswer) as exc:
            raise self.malformed(str(exc) or type(exc).__name__, operation) from exc
        if status != 200 or etree.QName(first).localname == "Fault":
            try:
                self._binding.process_error(document, soap_op)
            except Fault as exc:
                raise self.fault_error(SoapFault.from_zeep(exc), operation) from exc
            raise self.malformed("a fault zeep cannot read", operation)
        expected = soap_op.output.body
        if first.tag != expected.qname.text:
            raise self.malformed(
                f"expected {expected.qname.text} in the answer, got {first.tag}", operation
            )
        return first

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
            return self._status_failure(exc.status_code, operation)
        first_line = str(exc.message).split("\n", 1)[0]
        return self.malformed(first_line, operation)

    def _status_failure(self, status: int, operation: str) -> RegbusError:
        phrase = HTTPStatus(status).phrase if status in _STATUSES else ""
        return status_error(status, phrase, self.registry, operation)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
