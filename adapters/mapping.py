"""Turn an answer into a record by the paths its declaration gives.

    record = to_record(Into("person", {"iin": "iin", "birth_date": "birthDate"}), view, params)

Values are converted to the type of the record field they fill, strictly: a
JSON number is not accepted as text, nor text as a number, except that XML
text converts to numbers, booleans, dates and enum values. A missing
required value, or one that does not convert, is a ``ValueError`` naming the
field; the adapter reports it as a malformed answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from regbus.adapters.spec import Into, Nested, Source
from regbus.adapters.views import View
from regbus.v1 import records_pb2

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}
_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
NO_VALUE = ("UNKNOWN", "UNSPECIFIED")
# Field types whose JSON form is text too: strings, enum names, dates.
_FROM_TEXT = {FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_ENUM, FieldDescriptor.TYPE_MESSAGE}
_TYPE_NAMES = {
    FieldDescriptor.TYPE_BOOL: "boolean",
    **dict.fromkeys(_INTS, "whole number"),
    **dict.fromkeys(_FLOATS, "number"),
}


# Descriptors are typed as Any: protobuf's C implementation has its own classes.
Descriptor = Any


def record_message(into: Into) -> Descriptor | None:
    """The message a record of this kind is filled into (None for generic records)."""
    if into.kind == "generic":
        return None
    message = _held(into)
    return list_item(message) if into.each else message


def _held(into: Into) -> Descriptor:
    """The message the record holds: a built-in kind's, or the extension's by name."""
    if into.kind == "extension":
        return extension_type(into.type)
    kinds = _KINDS.get("")
    if kinds is None:
        oneof = records_pb2.Record.DESCRIPTOR.oneofs_by_name["kind"]
        kinds = _KINDS[""] = {f.name: f.message_type for f in oneof.fields}
    if into.kind not in kinds:
        raise ValueError(f"no record kind {into.kind!r} (kinds: {', '.join(kinds)})")
    return kinds[into.kind]


_KINDS: dict[str, dict[str, Descriptor]] = {}


def extension_type(name: str) -> Descriptor:
    """The message ``name`` from protobuf's default pool, where its ``_pb2`` module put it."""
    if not name:
        raise ValueError(
            "an extension record needs its message name (Into(..., type='org.v1.Name'))"
        )
    try:
        return descriptor_pool.Default().FindMessageTypeByName(name)
    except KeyError:
        raise ValueError(
            f"no message {name!r} is loaded (import its _pb2 module where the registry is declared)"
        ) from None


def list_item(message: Descriptor) -> Descriptor:
    """The item type of a list record (its one repeated message field)."""
    return _list_field(message).message_type


def _list_field(message: Descriptor) -> Any:
    repeated = [
        f for f in message.fields if _repeated(f) and f.type == FieldDescriptor.TYPE_MESSAGE
    ]
    if len(repeated) != 1:
        raise ValueError(f"{message.full_name} is not a list record")
    return repeated[0]


def to_record(into: Into, view: View, params: Mapping[str, str]) -> records_pb2.Record:
    """The record ``into`` describes, read from ``view``."""
    record = records_pb2.Record()
    if into.each and not view.textual and not view.has(into.each):
        # JSON writes an empty list as []: a body without the list (null, {}, 1) says
        # nothing, and must not read as "none". XML leaves out the elements of an empty one.
        raise ValueError(f"the answer has no list {into.each}")
    nodes = view.all(into.each) if into.each else [_single(view, into.at)]
    if into.kind == "generic":
        rows = [{name: _raw(name, src, node, params) for name, src in into.fields.items()}
                for node in nodes]  # fmt: skip
        clean = [{k: v for k, v in row.items() if v is not None} for row in rows]
        record.generic.update({"items": clean} if into.each else clean[0])
        record.type = into.type
        return record
    kind = _kind(into)  # a ValueError for a kind the contract lacks
    held, full_name, listed = kind[1], kind[2], kind[3]
    extension = into.kind == "extension"
    # A built-in kind is filled in place; an extension is packed once filled.
    message = GetMessageClass(held)() if extension else getattr(record, into.kind)
    if into.each:
        items = getattr(message, listed)
        for node in nodes:
            fill(items.add(), into.fields, node, params)
    else:
        fill(message, into.fields, nodes[0], params)
    if extension:
        record.extension.Pack(message)
    else:
        message.SetInParent()  # sets the kind even when empty: an empty list is an answer
    record.type = full_name
    return record


# id of a declaration's Into -> it (kept alive, so the id stays its own), the message its
# record holds, that message's full name and, for a list, its repeated field's name.
_INTOS: dict[int, tuple[Into, Descriptor, str, str]] = {}


def _kind(into: Into) -> tuple[Into, Descriptor, str, str]:
    found = _INTOS.get(id(into))
    if found is not None and found[0] is into:
        return found
    held = _held(into)
    found = (into, held, held.full_name, _list_name(held) if into.each else "")
    if len(_INTOS) >= 4096:  # declarations are few; this only bounds a process making many
        _INTOS.clear()
    _INTOS[id(into)] = found
    return found


_LIST_NAMES: dict[str, str] = {}


def _list_name(message: Descriptor) -> str:
    """The name of a list record's repeated field, worked out once per message."""
    name = _LIST_NAMES.get(message.full_name)
    if name is None:
        name = _LIST_NAMES[message.full_name] = _list_field(message).name
    return name


def content(record: records_pb2.Record) -> Message | None:
    """The message ``record`` holds, an extension unpacked; None for a generic or empty
    record, or an extension whose ``_pb2`` module is not loaded here."""
    kind = record.WhichOneof("kind")
    if kind is None or kind == "generic":
        return None
    if kind != "extension":
        held: Message = getattr(record, kind)
        return held
    try:
        message = GetMessageClass(extension_type(record.extension.TypeName()))()
    except ValueError:
        return None
    record.extension.Unpack(message)
    return message


def _single(view: View, at: str) -> View:
    if not at:
        return view
    found = view.all(at)
    if not found:
        raise ValueError(f"the answer has no {at}")
    return found[0]


@dataclass(frozen=True, slots=True)
class _Step:
    """One field's part of a mapping, worked out once per declaration."""

    name: str
    field: Any
    repeated: bool
    message: bool
    source: Source
    path: str
    optional: bool
    computed: bool  # the source is a function of the answer, not a path
    convert: Callable[[Any, bool], Any]  # convert(field, value, textual), specialised


# ids of a fields mapping and of the message it fills -> both (kept alive, so the ids stay
# theirs) and its steps, each a tuple for the hot loop:
# (name, path, optional, computed, repeated, message, source, convert).
_Row = tuple[str, str, bool, bool, bool, bool, Any, Callable[[Any, bool], Any]]
_PLANS: dict[tuple[int, int], tuple[Mapping[str, Source], Descriptor, list[_Row]]] = {}


def _plan(descriptor: Descriptor, fields: Mapping[str, Source]) -> list[_Row]:
    key = (id(fields), id(descriptor))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is fields and cached[1] is descriptor:
        return cached[2]
    steps = []
    for name, source in fields.items():
        field = descriptor.fields_by_name[name]
        if isinstance(source, Nested):
            source = _nested(field, source)
        path = source.rstrip("?") if isinstance(source, str) else ""
        optional = isinstance(source, str) and source.endswith("?")
        steps.append(
            _Step(
                name,
                field,
                _repeated(field),
                field.type == FieldDescriptor.TYPE_MESSAGE,
                source,
                path,
                optional,
                callable(source),
                converter(field),
            )
        )
    rows = [
        (s.name, s.path, s.optional, s.computed, s.repeated, s.message, s.source, s.convert)
        for s in steps
    ]
    if len(_PLANS) >= 4096:  # declarations are few; this only bounds a process making many
        _PLANS.clear()
    _PLANS[key] = (fields, descriptor, rows)
    return rows


def _nested(field: Any, nested: Nested) -> Callable[[View, Mapping[str, str]], Any]:
    """A computed source that fills the field's own message type from ``nested``."""
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        raise ValueError(f"{field.name} is not a message field; Nested cannot fill it")
    make = GetMessageClass(field.message_type)

    def one(node: View, params: Mapping[str, str]) -> Message:
        message = make()
        fill(message, nested.fields, node, params)
        return message

    if _repeated(field):

        def every(view: View, params: Mapping[str, str]) -> list[Message]:
            return [one(node, params) for node in view.all(nested.each)]

        return every

    def single(view: View, params: Mapping[str, str]) -> Message | None:
        if not nested.at:
            return one(view, params)
        found = view.all(nested.at)
        return one(found[0], params) if found else None

    return single


def converter(field: Any) -> Callable[[Any, bool], Any]:
    """``convert(field, value, textual)`` for one field, with the usual cases (text
    into a string, an enum or a date; a boolean into a boolean) worked out once;
    every other value goes through :func:`convert` itself."""

    def general(value: Any, textual: bool) -> Any:
        return convert(field, value, textual)

    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:

        def string(value: Any, textual: bool) -> Any:
            return value.strip() if type(value) is str else convert(field, value, textual)

        return string
    if kind == FieldDescriptor.TYPE_ENUM:
        prefix = enum_prefix(field.enum_type)
        numbers = {name: int(v.number) for name, v in field.enum_type.values_by_name.items()}

        def enum(value: Any, textual: bool) -> Any:
            if type(value) is str:
                number = numbers.get(prefix + value.strip().upper())
                if number is not None:
                    return number
            return convert(field, value, textual)

        return enum
    if kind == FieldDescriptor.TYPE_BOOL:

        def boolean(value: Any, textual: bool) -> Any:
            return value if type(value) is bool else convert(field, value, textual)

        return boolean
    if kind in _INTS:

        def integer(value: Any, textual: bool) -> Any:
            return value if type(value) is int else convert(field, value, textual)

        return integer
    if kind in _FLOATS:

        def number(value: Any, textual: bool) -> Any:
            return value if type(value) is float else convert(field, value, textual)

        return number
    if kind == FieldDescriptor.TYPE_MESSAGE and field.message_type is records_pb2.Date.DESCRIPTOR:

        def day(value: Any, textual: bool) -> Any:
            return to_date(value) if type(value) is str else convert(field, value, textual)

        return day
    return general


def fill(
    message: Message, fields: Mapping[str, Source], view: View, params: Mapping[str, str]
) -> None:
    """Set each field of ``message`` from its source in ``view``."""
    textual = view.textual
    get = view.get
    for name, path, optional, computed, repeated, is_message, source, conv in _plan(
        message.DESCRIPTOR, fields
    ):
        if computed:
            values: Any = source(view, params)
        elif repeated:
            values = [node.get(".") for node in view.all(path)]
        else:
            values = get(path)
            if values is None or values == "":
                if optional:
                    continue
                raise ValueError(f"the answer has no {path} (for {name})")
        if values is None:
            continue
        try:
            if repeated:
                getattr(message, name).extend([conv(v, textual) for v in values])
            elif is_message:
                getattr(message, name).CopyFrom(conv(values, textual))
            else:
                setattr(message, name, conv(values, textual))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{message.DESCRIPTOR.name}.{name}: {exc}") from exc


def _raw(name: str, source: Source, view: View, params: Mapping[str, str]) -> Any:
    if isinstance(source, Nested):

        def row(node: View) -> dict[str, Any]:
            return {k: _raw(k, src, node, params) for k, src in source.fields.items()}

        if source.each:
            return [row(node) for node in view.all(source.each)]
        found = view.all(source.at) if source.at else [view]
        return row(found[0]) if found else None
    if callable(source):
        return source(view, params)
    path = source.rstrip("?")
    value = view.get(path)
    if value is None or value == "":
        if source.endswith("?"):
            return None
        raise ValueError(f"the answer has no {path} (for {name})")
    return value


def convert(field: Any, value: Any, textual: bool = False) -> Any:
    """``value`` as the type of ``field``; ``ValueError`` if it is not one.

    ``textual`` answers (XML) carry every value as text, so text converts to
    numbers and booleans; in JSON a number must be a number.
    """
    kind = field.type
    if isinstance(value, Message):
        return value
    if isinstance(value, str) and not textual and kind not in _FROM_TEXT:
        raise ValueError(f"expected a {_TYPE_NAMES.get(kind, 'value')}, got text {value!r:.40}")
    if kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        return value.strip()
    if kind == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip() in ("true", "false", "1", "0"):
            return value.strip() in ("true", "1")
        raise ValueError(f"expected true or false, got {value!r:.40}")
    if kind in _INTS:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        raise ValueError(f"expected a whole number, got {value!r:.40}")
    if kind in _FLOATS:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            return float(value)
        raise ValueError(f"expected a number, got {value!r:.40}")
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum(field.enum_type, value)
    if field.message_type is records_pb2.Date.DESCRIPTOR:
        return to_date(value)
    raise ValueError(f"cannot fill a {field.message_type.full_name} from {value!r:.40}")


def to_date(value: Any) -> records_pb2.Date:
    """A ``Date`` from ``YYYY-MM-DD`` (a time or zone after it is dropped) or a ``date``."""
    if isinstance(value, str) and _DATE.match(value.strip()):
        value = date.fromisoformat(value.strip()[:10])
    if not isinstance(value, date):
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r:.40}")
    return records_pb2.Date(year=value.year, month=value.month, day=value.day)


def _enum(enum: Any, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value in enum.values_by_number:
            return value
    elif isinstance(value, str):
        name = value.strip().upper()
        found = enum.values_by_name.get(f"{enum_prefix(enum)}{name}")
        if found is not None:
            return int(found.number)
        if name in NO_VALUE or not name:
            return 0
    raise ValueError(f"{value!r:.40} is not a value of {enum.name}")


def enum_prefix(enum: Any) -> str:
    """``CivilActType`` -> ``CIVIL_ACT_TYPE_``, the proto style guide's value prefix."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def _repeated(field: Any) -> bool:
    return bool(field.is_repeated)
