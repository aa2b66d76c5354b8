"""The wire styles a declared registry speaks: send one operation, get a view of
the answer, and say where the declaration disagrees with the service description.

    wire = open_wire(registry, endpoint)
    view = await wire.request(operation, params, context)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import zeep
import zeep.xsd

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.checks import openapi_problems, xsd_problems
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryRejected, SubjectNotFound
from regbus.adapters.rest import RestClient, quote_value
from regbus.adapters.soap import descriptions
from regbus.adapters.soap.client import SoapClient, SoapFault
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.shep import SyncChannel
from regbus.adapters.spec import Faults, Operation, Registry, Rest, Shep, Soap, XRoad
from regbus.adapters.views import JsonView, View, XmlView


class WireClient(Protocol):
    """One registry's connection in its wire style."""

    async def request(
        self, op: Operation, params: Mapping[str, str], context: CallContext
    ) -> View: ...

    def malformed(self, why: str, operation: str) -> RegistryFault: ...

    def problems(self, registry: Registry) -> list[str]: ...

    async def aclose(self) -> None: ...


def open_wire(registry: Registry, endpoint: Endpoint) -> WireClient:
    """The client for the registry's declared wire style."""
    wire = registry.wire
    if isinstance(wire, Shep):
        return ShepWire(registry.registry, wire, endpoint)
    if isinstance(wire, Soap | XRoad):
        return SoapWire(registry.registry, wire, endpoint)
    if isinstance(wire, Rest):
        return RestWire(registry.registry, wire, endpoint)
    raise ValueError(f"registry {registry.registry} declares no wire")


def reply_element(op: Operation) -> str:
    """The ШЭП payload answering ``op.call``: ``PersonRequest`` -> ``PersonResponse``."""
    return op.call.removesuffix("Request") + "Response"


class ShepWire:
    """ШЭП SyncChannel with payloads from an XSD."""

    def __init__(self, registry: str, wire: Shep, endpoint: Endpoint) -> None:
        self.registry = registry
        self._wire = wire
        self._payload = PayloadSchema(wire.payload)
        self._channel = SyncChannel(endpoint, registry=registry, service_id=wire.service_id)

    async def request(self, op: Operation, params: Mapping[str, str], context: CallContext) -> View:
        # In declaration order: a payload schema is a sequence, whatever order the caller used.
        ordered = {p.name: params[p.name] for p in op.params if p.name in params}
        data = self._channel.request_bytes(context, self._payload, op.call, ordered)
        answer = await self._channel.send_bytes(data, context, op.name)
        try:
            self._payload.check(answer, reply_element(op))
        except ValueError as exc:
            raise self.malformed(str(exc), op.name) from exc
        return XmlView(answer)

    def malformed(self, why: str, operation: str) -> RegistryFault:
        return self._channel.malformed(why, operation)

    def problems(self, registry: Registry) -> list[str]:
        schema = zeep.xsd.Schema(  # type: ignore[no-untyped-call]
            descriptions.parse(descriptions.read(self._wire.payload)),
            settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True),
        )
        found: list[str] = []
        for op in registry.operations:
            where = f"{registry.registry}.{op.name}"
            try:
                request = schema.get_element(self._payload.qname(op.call))
                reply = schema.get_element(self._payload.qname(reply_element(op)))
            except (LookupError, zeep.exceptions.LookupError) as exc:
                found.append(f"{where}: the payload schema has no element ({exc})")
                continue
            found.extend(xsd_problems(op, where, request, reply))
        return found

    async def aclose(self) -> None:
        await self._channel.aclose()


def fault_mapper(registry: str, faults: Faults | None) -> Any:
    """The declared business meaning of SOAP faults, as a ``SoapClient`` fault mapper."""
    if faults is None:
        return None

    def mapped(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
        detail = fault.detail
        if detail is None or detail.tag.rsplit("}", 1)[-1] != faults.detail:
            return None
        code = XmlView(detail).text(faults.code)
        if code in faults.not_found:
            return SubjectNotFound(
                f"the registry does not know the subject ({code})",
                registry=registry,
                operation=operation,
                detail=fault.message,
            )
        if code in faults.rejected:
            return RegistryRejected(
                f"the registry refused the request ({code})",
                registry=registry,
                operation=operation,
                detail=fault.message,
            )
        return None

    return mapped


class SoapWire:
    """Plain SOAP or X-Road: a WSDL's operations, called by name."""

    def __init__(self, registry: str, wire: Soap | XRoad, endpoint: Endpoint) -> None:
        self.registry = registry
        plugins: list[zeep.Plugin] = []
        if isinstance(wire, XRoad):
            from regbus.adapters.soap.xroad import XRoadHeaders

            plugins.append(XRoadHeaders.from_options(endpoint.options))
        self._soap = SoapClient(
            wire.wsdl,
            endpoint,
            registry=registry,
            fault_mapper=fault_mapper(registry, wire.faults),
            plugins=plugins,
        )

    async def request(self, op: Operation, params: Mapping[str, str], context: CallContext) -> View:
        return XmlView(await self._soap.send(op.call, op.name, context=context, **params))

    def malformed(self, why: str, operation: str) -> RegistryFault:
        return self._soap.malformed(why, operation)

    def problems(self, registry: Registry) -> list[str]:
        found: list[str] = []
        known = self._soap.soap_operations()
        for op in registry.operations:
            where = f"{registry.registry}.{op.name}"
            if op.call not in known:
                found.append(
                    f"{where}: the WSDL has no operation {op.call}"
                    f" (it has: {', '.join(sorted(known))})"
                )
                continue
            request, reply = self._soap.input_element(op.call), self._soap.output_element(op.call)
            found.extend(xsd_problems(op, where, request, reply))
        return found

    async def aclose(self) -> None:
        await self._soap.aclose()


class RestWire:
    """JSON over HTTP; ``call`` is ``METHOD /path/{param}``."""

    def __init__(self, registry: str, wire: Rest, endpoint: Endpoint) -> None:
        self.registry = registry
        self._wire = wire
        self._api = RestClient(endpoint, registry=registry)
        self._calls: dict[str, _RestCall] = {}

    def _call(self, op: Operation) -> _RestCall:
        """``op.call`` taken apart, once per operation."""
        call = self._calls.get(op.name)
        if call is None or call.op is not op:
            method, _, template = op.call.partition(" ")
            plain = "{" not in template and "}" not in template
            call = _RestCall(op, method, template, template.lstrip("/") if plain else None, {})
            if len(self._calls) < 1024:  # operations are few; this only bounds misuse
                self._calls[op.name] = call
        return call

    async def request(self, op: Operation, params: Mapping[str, str], context: CallContext) -> View:
        call = self._call(op)
        path = call.path
        rest: Mapping[str, str] = params
        if path is None:  # parameters in the path
            path, rest = _fill_path(call, params)
        if call.method == "GET":
            return JsonView(await self._api.get_json(path, op.name, params=rest, context=context))
        body = dict(rest)
        key = body.pop(op.idempotency_key, None) if op.idempotency_key else None
        answer = await self._api.post_json(
            path, op.name, body, context=context, idempotency_key=key
        )
        return JsonView(answer)

    def malformed(self, why: str, operation: str) -> RegistryFault:
        return self._api.malformed(why, operation)

    def problems(self, registry: Registry) -> list[str]:
        doc = json.loads(descriptions.read(self._wire.openapi))
        found: list[str] = []
        for op in registry.operations:
            method = op.call.partition(" ")[0]
            if method not in ("GET", "POST"):
                found.append(
                    f"{registry.registry}.{op.name}: only GET and POST are supported, not {method}"
                )
            elif (method == "POST") != op.writes:
                found.append(
                    f"{registry.registry}.{op.name}: a write is a POST and a read a GET"
                    f" (declared writes={op.writes}, call {op.call})"
                )
            found.extend(openapi_problems(doc, op, f"{registry.registry}.{op.name}"))
        return found

    async def aclose(self) -> None:
        await self._api.aclose()


@dataclass(frozen=True, slots=True)
class _RestCall:
    """A REST operation's ``call``, taken apart once."""

    op: Operation
    method: str
    template: str
    path: str | None  # the path when the template names no parameter
    named: dict[str, bool]  # parameter -> whether the template has it, as they come


def _fill_path(call: _RestCall, params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The path with the parameters it names filled in (quoted), and the others."""
    template = call.template
    named = call.named
    in_path = {}
    rest = {}
    for k, v in params.items():
        here = named.get(k)
        if here is None:
            here = f"{{{k}}}" in template
            if len(named) < 1024:
                named[k] = here
        if here:
            in_path[k] = quote_value(v)
        else:
            rest[k] = v
    return template.format(**in_path).lstrip("/"), rest
