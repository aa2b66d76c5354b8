"""Data minimisation: a purpose sees only the record fields it declares; the bus removes
the rest before an answer leaves it.

    view = field_view(NARCOLOGY, "check_registration", ("iin", "register", "registered"))
    answer = view.trimmed(record)     # a copy without registered_on and dispensary

Field names are those of the operation's record as in ``records.proto`` (for a list record,
those of its items: ``vehicles``' ``plate``), with ``.`` into a message field
(``vaccinations.vaccine``); a generic record's are its declared names. A view is compiled once,
at start-up, and checked against the record's message: an unknown field stops start-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from regbus.adapters.mapping import extension_type
from regbus.adapters.spec import Into, Registry
from regbus.v1 import records_pb2

ALL = "*"
# A field kept whole (None) or only the listed fields of it (a message field).
Keep = dict[str, "Keep | None"]
_DROP = object()


@dataclass(frozen=True)
class FieldView:
    """What of one operation's record a purpose may see."""

    keep: Keep
    items: str = ""  # a list record: its repeated field, whose items are trimmed

    def trimmed(self, record: records_pb2.Record) -> records_pb2.Record:
        """A copy of ``record`` with only the fields this view keeps."""
        copy = records_pb2.Record()
        copy.CopyFrom(record)
        self.trim(copy)
        return copy

    def trim(self, record: records_pb2.Record) -> None:
        """Remove from ``record``, in place, every field this view does not keep."""
        kind = record.WhichOneof("kind")
        if kind is None:
            return
        if kind == "generic":
            rows = [record.generic]
            if self.items:
                rows = [v.struct_value for v in record.generic.fields[self.items].list_value.values]
            for row in rows:
                for name in [n for n in row.fields if n not in self.keep]:
                    del row.fields[name]
            return
        if kind == "extension":
            try:
                message: Message = GetMessageClass(extension_type(record.extension.TypeName()))()
            except ValueError:
                record.ClearField("extension")  # cannot be read here, so cannot be shown
                return
            record.extension.Unpack(message)
            self._trim_held(message)
            record.extension.Pack(message)
            return
        self._trim_held(getattr(record, kind))

    def _trim_held(self, message: Message) -> None:
        if self.items:
            for item in getattr(message, self.items):
                _trim(item, self.keep)
        else:
            _trim(message, self.keep)


def _trim(message: Message, keep: Keep) -> None:
    for descriptor, value in message.ListFields():
        inner = keep.get(descriptor.name, _DROP)
        if inner is _DROP:
            message.ClearField(descriptor.name)
        elif inner is not None:
            for item in value if descriptor.is_repeated else (value,):
                _trim(item, inner)  # type: ignore[arg-type]


def field_view(spec: Registry, operation: str, names: Iterable[str]) -> FieldView | None:
    """The view of ``names`` on ``spec``'s ``operation``, or None when it keeps everything
    (``*``). ``ValueError`` names a field the operation's record lacks."""
    names = tuple(names)
    if ALL in names:
        return None
    op = spec.operation(operation)
    if op is None:
        raise ValueError(f"registry {spec.registry} has no operation {operation!r}")
    where = f"{spec.registry}.{operation}"
    into = op.record
    if not isinstance(into, Into):
        # An adapter of its own: names are its record message's, unchecked here.
        return FieldView(_tree(None, names, where))
    if into.kind == "generic":
        unknown = [n for n in names if n not in into.fields]
        if unknown:
            known = ", ".join(into.fields)
            raise ValueError(f"{where}: its record has no field {unknown[0]!r} (fields: {known})")
        return FieldView({n: None for n in names}, items="items" if into.each else "")
    held = _held(into)
    if into.each:
        listed = _list_field(held)
        return FieldView(_tree(listed.message_type, names, where), items=listed.name)
    return FieldView(_tree(held, names, where))


def fields_of(spec: Registry, operation: str) -> set[str] | None:
    """The top-level field names of an operation's record (its items' for a list), or None
    when the bus cannot tell (an adapter of its own)."""
    op = spec.operation(operation)
    into = op.record if op is not None else None
    if not isinstance(into, Into):
        return None
    if into.kind == "generic":
        return set(into.fields)
    held = _held(into)
    message = _list_field(held).message_type if into.each else held
    return {f.name for f in message.fields}


def _held(into: Into) -> Any:
    if into.kind == "extension":
        return extension_type(into.type)
    field = records_pb2.Record.DESCRIPTOR.fields_by_name.get(into.kind)
    if field is None or field.message_type is None:
        raise ValueError(f"no record kind {into.kind!r}")
    return field.message_type


def _list_field(message: Any) -> Any:
    repeated = [f for f in message.fields if f.is_repeated and f.message_type is not None]
    if len(repeated) != 1:
        raise ValueError(f"{message.full_name} is not a list record")
    return repeated[0]


def _tree(descriptor: Any, names: Iterable[str], where: str) -> Keep:
    """The fields to keep as a tree, each path checked against ``descriptor`` (when known)."""
    tree: Keep = {}
    for name in names:
        node: Keep | None = tree
        message = descriptor
        parts = name.split(".")
        for depth, part in enumerate(parts):
            if message is not None:
                field = message.fields_by_name.get(part)
                if field is None:
                    known = ", ".join(f.name for f in message.fields)
                    raise ValueError(
                        f"{where}: its record has no field {name!r} ({message.name} has: {known})"
                    )
                if depth < len(parts) - 1 and (
                    field.message_type is None or field.message_type.GetOptions().map_entry
                ):
                    raise ValueError(f"{where}: field {'.'.join(parts[: depth + 1])} has no fields")
                message = field.message_type
            assert node is not None
            if depth == len(parts) - 1:
                node[part] = None  # kept whole, whatever was listed inside it
            elif part in node and node[part] is None:
                break  # already kept whole
            else:
                node = node.setdefault(part, {})
    return tree
