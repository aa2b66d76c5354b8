"""An adapter made from a declaration: the wire style sends, the paths map.

GbdflAdapter = declared(GBDFL)       # what the entry point loader does
adapter = GbdflAdapter(endpoint)     # checks GBDFL against its WSDL/XSD/OpenAPI
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regbus.adapters.base import Adapter, CallContext, Endpoint
from regbus.adapters.checks import raise_problems, spec_problems
from regbus.adapters.errors import RegistryRejected, SubjectNotFound, UnknownOperation
from regbus.adapters.mapping import content, to_record
from regbus.adapters.spec import Operation, Registry
from regbus.adapters.views import View
from regbus.adapters.wires import open_wire
from regbus.v1 import records_pb2

_MAX_CODE = 64


class DeclaredAdapter(Adapter):
    """Runs the operations of ``spec`` over its wire; subclassed by :func:`declared`."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        raise_problems(self.spec, list(spec_problems(self.spec)))
        self._wire = open_wire(self.spec, endpoint)
        raise_problems(self.spec, self._wire.problems(self.spec))
        self._operations = {op.name: op for op in self.spec.operations}

    async def call(
        self, operation: str, params: Mapping[str, str], context: CallContext
    ) -> records_pb2.Record:
        op = self._operations.get(operation)
        if op is None:
            raise UnknownOperation(f"no operation {operation!r}", registry=self.spec.registry)
        view = await self._wire.request(op, params, context)
        try:
            self._business_outcome(op, view, params)
            if op.handler is not None:
                record = op.handler(view, params)
            else:
                assert op.record is not None  # checked when the adapter loaded
                record = to_record(op.record, view, params)
            _check_echo(op, record, params)
        except ValueError as exc:
            raise self._wire.malformed(str(exc), operation) from exc
        return record

    def _business_outcome(self, op: Operation, view: View, params: Mapping[str, str]) -> None:
        status = op.status
        if status is None:
            return
        # The code is the registry's vocabulary and goes to callers (capped); its free
        # text goes to the log only.
        code = view.text(status.path)
        shown = code if len(code) <= _MAX_CODE else code[: _MAX_CODE - 1] + "…"
        said = view.text(status.message) if status.message else ""
        if code in status.not_found:
            subject = ", ".join(f"{k} {v}" for k, v in params.items())
            raise SubjectNotFound(
                f"nothing known about {subject} ({shown})",
                registry=self.spec.registry,
                operation=op.name,
                detail=said,
            )
        if code in status.rejected:
            raise RegistryRejected(
                f"the registry refused the request ({shown})",
                registry=self.spec.registry,
                operation=op.name,
                detail=said,
            )
        if code not in status.ok:
            raise ValueError(f"unexpected result code {shown}")

    async def aclose(self) -> None:
        await self._wire.aclose()


def _check_echo(op: Operation, record: records_pb2.Record, params: Mapping[str, str]) -> None:
    """An answer about another subject than the one asked for is unreadable."""
    for param, field in op.echo.items():
        asked = params.get(param)
        if not asked:
            continue
        for got in _values(record, field):
            if got != asked:
                raise ValueError(f"the answer is about {field} {got!r:.40}, not {asked}")


def _values(record: records_pb2.Record, field: str) -> list[object]:
    """``field`` of the record, or of every item of a list record."""
    kind = record.WhichOneof("kind")
    if kind == "generic":
        generic: Any = record.generic  # a Struct, which has no .get()
        items = generic["items"] if "items" in generic else [generic]  # noqa: SIM401
        return [item[field] for item in items if field in item]
    message = getattr(record, kind) if kind is not None and kind != "extension" else content(record)
    if message is None:
        return []
    descriptor = message.DESCRIPTOR
    key = (descriptor, field)
    own = _OWN.get(key)
    if own is None:
        own = _OWN[key] = field in descriptor.fields_by_name
    if own:  # a record's own field, beside any list
        return [getattr(message, field)]
    listed = _list_fields(descriptor)
    items = list(getattr(message, listed)) if listed else [message]
    return [getattr(item, field) for item in items]


# (message type, field) -> whether the field is the message's own, worked out once.
_OWN: dict[tuple[Any, str], bool] = {}


_LISTS: dict[str, str | None] = {}


def _list_fields(descriptor: Any) -> str | None:
    """A list record's first repeated message field (None for a single record),
    worked out once per message type."""
    name = descriptor.full_name
    if name not in _LISTS:
        lists = [f for f in descriptor.fields if f.is_repeated and f.message_type]
        _LISTS[name] = lists[0].name if lists else None
    return _LISTS[name]


_classes: dict[int, tuple[Registry, type[Adapter]]] = {}


def declared(registry: Registry) -> type[Adapter]:
    """The adapter class of a declaration (the same class every time)."""
    known = _classes.get(id(registry))
    if known is None:
        name = "".join(part.title() for part in registry.registry.split("_")) + "Adapter"
        cls = type(name, (DeclaredAdapter,), {"spec": registry, "__module__": __name__})
        known = _classes[id(registry)] = (registry, cls)
    return known[1]
