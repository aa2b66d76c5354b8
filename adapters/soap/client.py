"""A SOAP client for one WSDL, bound to the configured endpoint, and the one
place SOAP failures become registry errors.

    soap = SoapClient("zags.wsdl", endpoint, registry="zags")   # or a Path, or files(...) / ...
    answer = await soap.send("ListActs", "list_acts", iin="850314354052")  # the lxml element
    acts = await soap.call("ListActs", "list_acts", iin="850314354052")   # zeep objects
    soap.soap_operations()   # {"ListActs"}, to check declarations against the WSDL

zeep stays the authority on the WSDL: it loads it (offline, through the
:mod:`~regbus.adapters.soap.catalogue`), checks declarations against it and, once
at load time, tells each operation's :class:`Plan` (SOAPAction, request element
and its children, answer element). :meth:`SoapClient.send`, the hot path, then
builds the envelope with lxml, posts it over the registry's
:class:`~regbus.adapters.http.HttpTransport` and reads the answer with one
hardened ``etree.fromstring`` and a Body/Fault check. :meth:`SoapClient.call`
keeps zeep's serialisation and objects, for callers that want them.

Building and serialising an envelope costs more than the rest of a call, so an
envelope of plain text children (and :class:`TemplateHook` plugins, X-Road's) is
built and serialised once per shape with stand-ins for its texts
(:class:`Serialized`), then written for each request by joining strings: the very
bytes lxml would write. A text lxml would refuse takes the lxml way, which says why.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import zeep
import zeep.xsd
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, ValidationError
from zeep.plugins import apply_ingress
from zeep.wsdl.messages.soap import DocumentMessage

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected
from regbus.adapters.http import (
    Answer,
    HttpTransport,
    answer_error,
    clip,
    require_http_url,
    snippet,
)
from regbus.adapters.soap import descriptions
from regbus.adapters.soap.catalogue import Catalogue, OfflineTransport
from regbus.adapters.soap.descriptions import DescriptionSource

SOAP_11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP_ENVELOPES = (SOAP_11, SOAP_12)
_BODY_11, _BODY_12 = (f"{{{ns}}}Body" for ns in SOAP_ENVELOPES)
_FAULTS = frozenset(f"{{{ns}}}Fault" for ns in SOAP_ENVELOPES)


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
        detail = fault.detail if isinstance(fault.detail, etree._Element) else None
        return cls(
            code=_code(fault.code), message=str(fault.message or "").strip(), detail=_first(detail)
        )

    @classmethod
    def from_element(cls, fault: etree._Element) -> SoapFault:
        """Read a SOAP 1.1 ``Fault`` (``faultcode``, ``faultstring``, ``detail``) or a
        SOAP 1.2 one (``Code/Value``, ``Reason/Text``, ``Detail``)."""
        children = {etree.QName(c).localname: c for c in fault.iterchildren(etree.Element)}
        if etree.QName(fault).namespace == SOAP_12:
            code_node = children.get("Code")
            reason = children.get("Reason")
            code = code_node.findtext(f"{{{SOAP_12}}}Value") if code_node is not None else None
            message = reason.findtext(f"{{{SOAP_12}}}Text") if reason is not None else None
            detail = children.get("Detail")
        else:
            code_node, reason = children.get("faultcode"), children.get("faultstring")
            code = code_node.text if code_node is not None else None
            message = reason.text if reason is not None else None
            detail = children.get("detail")
        return cls(code=_code(code), message=(message or "").strip(), detail=_first(detail))


def _code(code: object) -> str:
    return str(code or "").strip().rsplit(":", 1)[-1] or "Server"


def _first(detail: etree._Element | None) -> etree._Element | None:
    return next(iter(detail.iterchildren(etree.Element)), None) if detail is not None else None


class FaultAnswer(Exception):
    """The registry answered with a SOAP fault: the cause of the registry error
    it maps to, carrying the fault as sent (its text included)."""

    def __init__(self, fault: SoapFault) -> None:
        super().__init__(f"{fault.code}: {fault.message}")
        self.fault = fault


# Turns a fault into the registry's own meaning, or None for the generic rule.
FaultMapper = Callable[[SoapFault, str, str], RegbusError | None]


def generic_fault_error(fault: SoapFault, registry: str, operation: str) -> RegbusError:
    """A Client fault is a refusal; anything else is a technical fault. The fault
    code is in the message, the registry's fault string only in ``detail``."""
    code = clip(fault.code, 100)
    error = RegistryRejected if fault.client_side else RegistryFault
    text = (
        f"the registry refused the request ({code} fault)"
        if fault.client_side
        else f"the registry answered a SOAP {code} fault"
    )
    return error(text, registry=registry, operation=operation, detail=fault.message)


class UnexpectedAnswer(Exception):
    """The answer is XML, but not the one the operation promises."""


def body_element(envelope: etree._Element) -> etree._Element:
    """The first element inside a SOAP 1.1 or 1.2 ``Body``; ``UnexpectedAnswer`` if none."""
    body = next(envelope.iterchildren(_BODY_11), None)
    if body is None:
        body = next(envelope.iterchildren(_BODY_12), None)
        if body is None:
            raise UnexpectedAnswer("the answer has no SOAP Body")
    first = next(body.iterchildren(etree.Element), None)
    if first is None:
        raise UnexpectedAnswer("the answer's SOAP Body is empty")
    return first


class ExpectedAnswer(zeep.Plugin):
    """Refuse an answer whose body is neither a fault nor the operation's output
    element: zeep would otherwise read a foreign document as an empty result.
    (:class:`SoapClient` makes this check itself; the plugin is for zeep clients.)"""

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        first = body_element(envelope)
        expected = getattr(getattr(operation, "output", None), "body", None)
        name = etree.QName(first)
        if name.localname != "Fault" and expected is not None and name.text != expected.qname.text:
            raise UnexpectedAnswer(f"expected {expected.qname.text} in the answer, got {name.text}")
        return envelope, http_headers


@runtime_checkable
class EnvelopeHook(Protocol):
    """Adds to every request envelope and checks every answer, on lxml alone
    (X-Road's headers and their echo, :class:`~regbus.adapters.soap.xroad.XRoadHeaders`).

    ``stamp`` returns what ``check`` needs to know about the request it answers.
    """

    def stamp(
        self, envelope: etree._Element, soap_operation: str, context: CallContext | None
    ) -> Any: ...

    def check(self, envelope: etree._Element, stamped: Any) -> None:
        """Raise ``UnexpectedAnswer`` if the answer does not fit the request."""


@runtime_checkable
class TemplateHook(EnvelopeHook, Protocol):
    """An :class:`EnvelopeHook` whose stamp only writes texts into a fixed structure, so
    that a request can be written from a template stamped once (:meth:`SoapClient.send`).

    ``texts`` gives this request's texts ("" for one left out) and what ``check`` needs,
    as ``stamp`` would; ``stamp_texts`` stamps an envelope with given texts.
    """

    def texts(
        self, soap: str, soap_operation: str, context: CallContext | None
    ) -> tuple[tuple[str, ...], Any]: ...

    def stamp_texts(
        self, envelope: etree._Element, soap_operation: str, texts: tuple[str, ...]
    ) -> None: ...


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


# uuid4's version and variant bits, over 128 random bits.
_UUID4_KEEP = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_message_id() -> str:
    """A random (version 4) UUID as text: ``str(uuid.uuid4())``, formatted without
    building a ``uuid.UUID``."""
    value = "%032x" % (int.from_bytes(os.urandom(16)) & _UUID4_KEEP | _UUID4_SET)
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


_PARSERS = threading.local()


def parse_answer(data: bytes) -> etree._Element:
    """Parse an answer with a hardened parser (no DTD, no entities, no network,
    no huge trees); ``etree.XMLSyntaxError``, or ``UnsafeXml`` for a DOCTYPE."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:  # lxml parsers are not shared between threads
        parser = _PARSERS.parser = descriptions.secure_parser()
    root = etree.fromstring(data, parser)
    if root.getroottree().docinfo.doctype:
        raise descriptions.UnsafeXml("documents with a DOCTYPE are not accepted")
    return root


# Text lxml refuses (ValueError, or UnicodeEncodeError for surrogates): control characters
# but tab, newline and carriage return; U+FFFE and U+FFFF; surrogates.
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What libxml2 escapes in text content written as UTF-8.
_ESCAPED = re.compile("[&<>\r]")
_MARK = re.compile("\ue000([0-9]+)\ue001")


def mark(index: int) -> str:
    """The stand-in for the ``index``-th text of a :class:`Serialized` document."""
    return f"\ue000{index}\ue001"


def xml_text(text: str) -> str | None:
    """``text`` as libxml2 writes it in an element's content (UTF-8); None when lxml
    would not take it as text."""
    if type(text) is not str or _NOT_XML_TEXT.search(text) is not None:
        return None
    if _ESCAPED.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


class Serialized:
    """A document as ``etree.tostring(root, xml_declaration=True, encoding="utf-8")``
    writes it, with texts left to fill: serialized once, each of those texts set to
    ``mark(i)``, then filled by joining strings. ``ValueError`` if the marks do not come
    out as ``count`` texts of their own."""

    __slots__ = ("_order", "_parts")

    def __init__(self, root: etree._Element, count: int) -> None:
        written = etree.tostring(root, xml_declaration=True, encoding="utf-8").decode("utf-8")
        pieces = _MARK.split(written)
        order = [int(i) for i in pieces[1::2]]
        if sorted(order) != list(range(count)):
            raise ValueError(f"expected {count} marked texts, found {order}")
        self._parts = pieces[0::2]
        self._order = order

    def fill(self, texts: Sequence[str]) -> bytes | None:
        """The document with ``texts[i]`` for ``mark(i)``; None when one of them is not
        text lxml would take (then build the document with lxml: it says why)."""
        parts = self._parts
        out = [parts[0]]
        for index, part in zip(self._order, parts[1:], strict=True):
            text = xml_text(texts[index])
            if text is None:
                return None
            out.append(text)
            out.append(part)
        return "".join(out).encode("utf-8")


@dataclass(frozen=True)
class Child:
    """One child of a request element: its tag and, for values that are not
    text, zeep's type to write them."""

    tag: str
    type: Any


@dataclass(frozen=True)
class Plan:
    """What the hot path needs of one operation, learnt from zeep at load time."""

    name: str
    operation: Any  # zeep's operation, for zeep plugins and the fallback serialisation
    envelope: str  # the SOAP envelope namespace
    http_headers: Mapping[str, str]  # SOAPAction and Content-Type
    request: str  # the request element's tag
    answer: str  # the answer element's tag
    children: Mapping[str, Child] | None  # None: not plain text children; zeep serialises
    required: frozenset[str] = frozenset()
    # The request serialized once per shape (the children given, the hooks' texts given).
    _serialized: dict[tuple[Any, ...], Serialized | Literal[False]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def plain(self, arguments: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The children ``arguments`` give, in order, when :meth:`build` accepts them
        and :meth:`write` may write them (as long as their values are text lxml takes);
        None when only :meth:`build` will do (zeep serialises, or it refuses them: it
        says why)."""
        children = self.children
        if children is None or not arguments.keys() <= children.keys():
            return None
        names = tuple(name for name in children if arguments.get(name) is not None)
        if not self.required.issubset(names):
            return None
        return names

    def write(
        self,
        names: tuple[str, ...],
        arguments: Mapping[str, Any],
        hooks: Sequence[TemplateHook] = (),
        texts: Sequence[tuple[str, ...]] = (),
    ) -> bytes | None:
        """``etree.tostring(envelope, xml_declaration=True, encoding="utf-8")`` of
        :meth:`build` with the children ``names`` (:meth:`plain`), each hook then
        stamping its ``texts``: written from a template serialized once per shape.
        None when a value or a hook's text is not text lxml takes, or there is no
        template."""
        shape = (names, *(tuple(bool(t) for t in found) for found in texts))
        serialized = self._serialized.get(shape)
        if serialized is None:
            serialized = self._template(names, hooks, texts)
            if len(self._serialized) < 256:  # shapes are few; this only bounds misuse
                self._serialized[shape] = serialized
        if not serialized:
            return None
        values = [arguments[name] for name in names]
        for found in texts:
            values.extend(t for t in found if t)
        return serialized.fill(values)

    def _template(
        self,
        names: tuple[str, ...],
        hooks: Sequence[TemplateHook],
        texts: Sequence[tuple[str, ...]],
    ) -> Serialized | Literal[False]:
        count = len(names)
        envelope = self.build({name: mark(i) for i, name in enumerate(names)})
        for hook, found in zip(hooks, texts, strict=True):
            marks = []
            for text in found:
                marks.append(mark(count) if text else "")
                count += bool(text)
            hook.stamp_texts(envelope, self.name, tuple(marks))
        try:
            return Serialized(envelope, count)
        except ValueError:  # a fixed text (a setting) looks like a mark
            return False

    def build(self, arguments: Mapping[str, Any]) -> etree._Element:
        """The request envelope for ``arguments`` (the request element's children):
        ``TypeError`` for an argument the element lacks, zeep's ``ValidationError``
        for a required one missing, as zeep's own serialisation does."""
        if self.children is None:
            envelope: etree._Element = self.operation.create(**arguments).content
            return envelope
        unknown = arguments.keys() - self.children.keys()
        if unknown:
            raise TypeError(
                f"{self.name}() got unexpected arguments {sorted(unknown)};"
                f" it takes {', '.join(self.children)}"
            )
        missing = self.required - {k for k, v in arguments.items() if v is not None}
        if missing:
            raise ValidationError(  # type: ignore[no-untyped-call]
                f"{self.name}: missing element {', '.join(sorted(missing))}"
            )
        envelope, body = self.empty()
        request = etree.SubElement(body, self.request)
        for name, child in self.children.items():
            value = arguments.get(name)
            if value is not None:
                text = value if isinstance(value, str) else child.type.xmlvalue(value)
                etree.SubElement(request, child.tag).text = text
        return envelope

    def wrap(self, element: etree._Element) -> etree._Element:
        """The request envelope around a request element built by the caller."""
        if element.tag != self.request:
            raise ValueError(f"{self.name} sends {self.request}, not {element.tag}")
        envelope, body = self.empty()
        body.append(element)
        return envelope

    def empty(self) -> tuple[etree._Element, etree._Element]:
        """A new envelope with an empty Body, and the Body."""
        soap = self.envelope
        template = _EMPTY.get(soap)
        if template is None:
            template = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap-env": soap})
            etree.SubElement(template, f"{{{soap}}}Body")
            _EMPTY[soap] = template
        envelope = template.__copy__()
        return envelope, envelope[0]


# An empty envelope of each SOAP version, copied for each request.
_EMPTY: dict[str, etree._Element] = {}


def _plan(name: str, operation: Any, envelope_ns: str) -> Plan:
    message = operation.input
    action = getattr(operation, "soapaction", None)
    headers = {"SOAPAction": f'"{action}"' if action else '""'}
    if envelope_ns == SOAP_12:
        headers["Content-Type"] = f'application/soap+xml; charset=utf-8; action="{action or ""}"'
    else:
        headers["Content-Type"] = "text/xml; charset=utf-8"
    request = getattr(message, "body", None)
    answer = getattr(operation.output, "body", None)
    children = _children(message)
    return Plan(
        name=name,
        operation=operation,
        envelope=envelope_ns,
        http_headers=headers,
        request=request.qname.text if request is not None else "",
        answer=answer.qname.text if answer is not None else "",
        children=children,
        required=frozenset(_required(message)) if children is not None else frozenset(),
    )


def _children(message: Any) -> dict[str, Child] | None:
    """The request element's children when they are all single text values of a
    document/literal body; None when zeep must serialise the request."""
    body = getattr(message, "body", None)
    if not isinstance(message, DocumentMessage) or message._is_body_wrapped or body is None:
        return None
    kind = getattr(body, "type", None)
    if not isinstance(kind, zeep.xsd.ComplexType) or kind.attributes:
        return None
    found: dict[str, Child] = {}
    for name, element in kind.elements:
        if (
            not isinstance(element, zeep.xsd.Element)
            or not isinstance(element.type, zeep.xsd.AnySimpleType)
            or element.max_occurs != 1
        ):
            return None
        found[name] = Child(element.qname.text, element.type)
    return found


def _required(message: Any) -> list[str]:
    """The children a request must have (not those of a choice, which zeep marks optional)."""
    return [name for name, element in message.body.type.elements if element.min_occurs >= 1]


class DescriptionLoader(OfflineTransport):
    """zeep's transport for loading descriptions only, from the catalogue (as
    :class:`~regbus.adapters.soap.catalogue.OfflineTransport`). It holds no HTTP
    client: operations go over regbus's own :class:`~regbus.adapters.http.HttpTransport`."""

    def __init__(self, catalogue: Catalogue) -> None:  # no super(): it would open HTTP clients
        self.catalogue = catalogue
        self.cache = None
        self.load_timeout = None
        self.operation_timeout = None
        self.logger = logging.getLogger("zeep.transports")
        self._close_session = False

    def post_xml(self, address: str, envelope: Any, headers: Any) -> Any:
        raise RuntimeError("regbus sends SOAP requests over its own HTTP transport, not zeep's")

    async def aclose(self) -> None:
        return None


class SoapClient:
    """A SOAP client for one WSDL: a file of regbus's own, a path, or a package
    resource.

    The binding address is the configured ``Endpoint.url``, not the WSDL's.
    The WSDL and what it imports load offline (:mod:`~regbus.adapters.soap.catalogue`);
    zeep's other secure defaults are kept (no DTDs, no entities, strict parsing).
    ``fault_mapper`` gives registry-specific meaning to faults; unmapped ones
    follow :func:`generic_fault_error`. ``plugins`` are zeep plugins; those that
    are also :class:`EnvelopeHook` (X-Road) are called as hooks on the lxml path.
    ``http`` replaces the transport (tests answer from a script).
    """

    def __init__(
        self,
        wsdl: DescriptionSource,
        endpoint: Endpoint,
        *,
        registry: str,
        fault_mapper: FaultMapper | None = None,
        plugins: Sequence[zeep.Plugin] = (),
        http: HttpTransport | None = None,
    ) -> None:
        self.registry = registry
        self._address = require_http_url(endpoint.url, registry)
        self._fault_mapper = fault_mapper
        self._http = http or HttpTransport(endpoint, registry=registry)
        self._owns_http = http is None
        self._plugins = tuple(plugins)
        # Each plugin with whether it is an EnvelopeHook, decided once.
        self._steps: tuple[tuple[Any, bool], ...] = tuple(
            (p, isinstance(p, EnvelopeHook)) for p in self._plugins
        )
        # The plugins when every one is a TemplateHook (requests written from templates).
        hooks = tuple(p for p in self._plugins if isinstance(p, TemplateHook))
        self._hooks: tuple[TemplateHook, ...] | None = (
            hooks if len(hooks) == len(self._plugins) else None
        )
        catalogue = Catalogue(wsdl)
        # forbid_external stays off: it would refuse every import before the
        # catalogue, which refuses all it does not hold, sees it.
        self._client = zeep.Client(  # type: ignore[no-untyped-call]
            catalogue.location,
            transport=DescriptionLoader(catalogue),
            settings=zeep.Settings(
                strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False
            ),
            plugins=list(self._plugins),
        )
        service = next(iter(self._client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        self._binding: Any = port.binding
        self._options: dict[str, Any] = {**port.binding_options, "address": endpoint.url}
        envelope_ns = getattr(self._binding, "nsmap", {}).get("soap-env", SOAP_11)
        self._plans = {
            name: _plan(name, operation, envelope_ns)
            for name, operation in self._binding.all().items()
        }

    def soap_operations(self) -> set[str]:
        """The operations of the bound port, as the WSDL names them."""
        return set(self._plans)

    def output_element(self, soap_operation: str) -> Any:
        """zeep's element for the body of the operation's answer (``.qname``, ``.type``)."""
        return self.plan(soap_operation).operation.output.body

    def input_element(self, soap_operation: str) -> Any:
        """zeep's element for the body of the operation's request."""
        return self.plan(soap_operation).operation.input.body

    def input_params(self, soap_operation: str) -> tuple[str, ...]:
        """Names of the children of the operation's request element, in order
        (both branches of a choice)."""
        return tuple(name for name, _ in self.input_element(soap_operation).type.elements)

    def plan(self, soap_operation: str) -> Plan:
        """What :meth:`send` knows of one operation; ``ValueError`` if the WSDL lacks it."""
        plan = self._plans.get(soap_operation)
        if plan is None:
            known = ", ".join(sorted(self._plans))
            raise ValueError(
                f"{self.registry}: the WSDL has no operation {soap_operation!r} (it has {known})"
            )
        return plan

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
        mapping. ``operation`` is the bus operation, for errors; ``context`` the
        caller, for hooks and plugins that send it (:func:`on_behalf_of`)."""
        plan = self.plan(soap_operation)
        hooks = self._hooks
        names = plan.plain(arguments) if hooks is not None else None
        if names is None:
            return await self._exchange(plan, plan.build(arguments), operation, context)
        if hooks:
            return await self._written(plan, names, arguments, hooks, operation, context)
        # Nothing changes the envelope: it is written from a template, not built.
        data = plan.write(names, arguments)
        if data is None:  # a value lxml refuses: building says why
            data = _serialised(plan.build(arguments))
        return await self._send_written(plan, data, operation)

    async def _send_written(self, plan: Plan, data: bytes, operation: str) -> etree._Element:
        """POST a written envelope and read the answer's body (faults raised)."""
        answer = await self._post(data, plan.http_headers, operation)
        return self._answer(self._parse(answer, operation), answer, plan, operation)

    async def _written(
        self,
        plan: Plan,
        names: tuple[str, ...],
        arguments: Mapping[str, Any],
        hooks: tuple[TemplateHook, ...],
        operation: str,
        context: CallContext | None,
    ) -> etree._Element:
        """:meth:`_exchange` of :meth:`Plan.build`, the hooks stamping it, with the
        request written by :meth:`Plan.write`."""
        if any(xml_text(arguments[name]) is None for name in names):
            # Building refuses it before any hook stamps (or draws a message id).
            return await self._exchange(plan, plan.build(arguments), operation, context)
        caller = context if context is not None else current_caller()
        token = _CALLER.set(context) if context is not None else None
        try:
            stamps = [hook.texts(plan.envelope, plan.name, caller) for hook in hooks]
            data = plan.write(names, arguments, hooks, [texts for texts, _ in stamps])
            if data is None:  # a text lxml refuses (stamping says why), or no template
                envelope = plan.build(arguments)
                for hook, (texts, _) in zip(hooks, stamps, strict=True):
                    hook.stamp_texts(envelope, plan.name, texts)
                data = _serialised(envelope)
            answer = await self._post(data, plan.http_headers, operation)
            document = self._parse(answer, operation)
            try:
                for hook, (_, stamped) in zip(hooks, stamps, strict=True):
                    hook.check(document, stamped)
            except (ZeepError, etree.XMLSyntaxError, UnexpectedAnswer) as exc:
                raise self.malformed(str(exc) or type(exc).__name__, operation) from exc
        finally:
            if token is not None:
                _CALLER.reset(token)
        return self._answer(document, answer, plan, operation)

    async def send_element(
        self,
        soap_operation: str,
        operation: str,
        request: etree._Element,
        /,
        *,
        context: CallContext | None = None,
    ) -> etree._Element:
        """:meth:`send` with the request element built by the caller (the ШЭП envelope)."""
        plan = self.plan(soap_operation)
        return await self._exchange(plan, plan.wrap(request), operation, context)

    async def send_bytes(
        self,
        soap_operation: str,
        operation: str,
        data: bytes,
        /,
        *,
        context: CallContext | None = None,
    ) -> etree._Element:
        """:meth:`send` with the request envelope already serialized (a
        :class:`Serialized` one): for a client without plugins, which change envelopes."""
        if self._steps:
            raise ValueError(f"{self.registry}: plugins change the envelope; use send_envelope")
        plan = self.plan(soap_operation)
        return await self._send_written(plan, data, operation)

    async def send_envelope(
        self,
        soap_operation: str,
        operation: str,
        envelope: etree._Element,
        /,
        *,
        context: CallContext | None = None,
    ) -> etree._Element:
        """:meth:`send` with the whole envelope built by the caller, in the operation's
        SOAP version (``plan(soap_operation).empty()`` gives one to fill)."""
        return await self._exchange(self.plan(soap_operation), envelope, operation, context)

    async def _exchange(
        self,
        plan: Plan,
        envelope: etree._Element,
        operation: str,
        context: CallContext | None,
    ) -> etree._Element:
        if not self._steps:
            return await self._send_written(plan, _serialised(envelope), operation)
        caller = context if context is not None else current_caller()
        headers = dict(plan.http_headers)
        stamps: list[Any] = []
        token = _CALLER.set(context) if context is not None else None
        try:
            for plugin, hook in self._steps:
                if hook:
                    stamps.append(plugin.stamp(envelope, plan.name, caller))
                else:
                    envelope, headers = plugin.egress(
                        envelope, headers, plan.operation, self._options
                    )
                    stamps.append(None)
            answer = await self._post(_serialised(envelope), headers, operation)
            document = self._parse(answer, operation)
            try:
                for (plugin, hook), stamped in zip(self._steps, stamps, strict=True):
                    if hook:
                        plugin.check(document, stamped)
                    else:
                        document, _ = plugin.ingress(document, answer.headers, plan.operation)
            except (ZeepError, etree.XMLSyntaxError, UnexpectedAnswer) as exc:
                raise self.malformed(str(exc) or type(exc).__name__, operation) from exc
        finally:
            if token is not None:
                _CALLER.reset(token)
        return self._answer(document, answer, plan, operation)

    async def call(
        self,
        soap_operation: str,
        operation: str,
        /,
        *,
        context: CallContext | None = None,
        **arguments: Any,
    ) -> Any:
        """Run one SOAP operation through zeep's serialisation; return zeep's objects.
        Plugins (zeep's egress and ingress) and ``context`` apply, and failures map,
        as in :meth:`send`."""
        plan = self.plan(soap_operation)
        with self._caller(context):
            envelope, headers = self._binding._create(
                soap_operation, (), arguments, client=self._client, options=self._options
            )
            answer = await self._post(_serialised(envelope), headers, operation)
            document = self._parse(answer, operation)
            try:
                document, _ = apply_ingress(  # type: ignore[no-untyped-call]
                    self._client, document, answer.headers, plan.operation
                )
            except (ZeepError, etree.XMLSyntaxError, UnexpectedAnswer) as exc:
                raise self.malformed(str(exc) or type(exc).__name__, operation) from exc
        self._answer(document, answer, plan, operation)
        try:
            return plan.operation.process_reply(document)
        except (ZeepError, etree.XMLSyntaxError) as exc:
            raise self.malformed(str(exc) or type(exc).__name__, operation) from exc

    async def _post(self, data: bytes, headers: Mapping[str, str], operation: str) -> Answer:
        return await self._http.request(
            "POST", self._address, operation, headers=headers, data=data
        )

    @staticmethod
    def _caller(context: CallContext | None) -> AbstractContextManager[None]:
        """``on_behalf_of(context)``; the surrounding caller's when ``context`` is None."""
        return on_behalf_of(context) if context is not None else nullcontext()

    def _parse(self, answer: Answer, operation: str) -> etree._Element:
        """The answer's document; an HTTP status error when an error status carries
        nothing readable, a malformed answer when a 200 does not."""
        if answer.status != 200 and not answer.body:
            raise answer_error(answer, self.registry, operation)
        try:
            return parse_answer(answer.body)
        except (etree.XMLSyntaxError, descriptions.UnsafeXml) as exc:
            if answer.status != 200:
                raise answer_error(answer, self.registry, operation) from exc
            raise self.malformed(
                f"not acceptable XML: {exc}", operation, detail=snippet(answer.body)
            ) from exc

    def _answer(
        self, document: etree._Element, answer: Answer, plan: Plan, operation: str
    ) -> etree._Element:
        """The body element of the operation's answer, or the error the document is."""
        try:
            first = body_element(document)
        except UnexpectedAnswer as exc:
            raise self.malformed(str(exc), operation, detail=snippet(answer.body)) from exc
        if first.tag in _FAULTS:
            fault = SoapFault.from_element(first)
            raise self.fault_error(fault, operation) from FaultAnswer(fault)
        if first.tag != plan.answer:
            raise self.malformed(
                f"expected {plan.answer} in the answer, got {clip(first.tag, 120)}", operation
            )
        if answer.status != 200:
            raise answer_error(answer, self.registry, operation)
        return first

    def fault_error(self, fault: SoapFault, operation: str) -> RegbusError:
        """The registry's meaning of ``fault``, else the generic rule."""
        mapped = self._fault_mapper(fault, self.registry, operation) if self._fault_mapper else None
        return mapped or generic_fault_error(fault, self.registry, operation)

    def malformed(self, why: str, operation: str, *, detail: str = "") -> RegistryFault:
        """The error for an answer that cannot be read as the WSDL promises."""
        return RegistryFault(
            f"malformed answer: {clip(why)}",
            registry=self.registry,
            operation=operation,
            detail=detail or why,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


__all__ = [
    "SOAP_ENVELOPES",
    "EnvelopeHook",
    "ExpectedAnswer",
    "FaultAnswer",
    "FaultMapper",
    "Plan",
    "Serialized",
    "SoapClient",
    "SoapFault",
    "TemplateHook",
    "UnexpectedAnswer",
    "body_element",
    "current_caller",
    "generic_fault_error",
    "mark",
    "new_message_id",
    "on_behalf_of",
    "parse_answer",
    "xml_text",
]


def _serialised(envelope: etree._Element) -> bytes:
    """An envelope as the bytes sent: UTF-8, with the XML declaration."""
    data: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return data
