"""The converters worked out once per field convert exactly as ``convert`` does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from regbus.adapters.mapping import convert, converter
from regbus.v1 import records_pb2

VALUES: list[Any] = [
    *("", " ", "text", "  padded  ", "male", "MALE", " Female ", "unknown", "UNSPECIFIED"),
    *("BIRTH", "civil_act_type_birth", "birth"),
    *("1985-03-14", "1985-03-14+06:00", "1985-02-30", "14.03.1985"),
    *("true", "false", "1", "0", " yes ", "42", "-7", "4.5", "1e3"),
    *(True, False, 0, 1, 42, -3, 2.5, date(2020, 1, 2), None, ["a"]),
    records_pb2.Date(year=2020, month=1, day=2),
]


def _fields() -> list[Any]:
    messages = [f.message_type for f in records_pb2.Record.DESCRIPTOR.oneofs_by_name["kind"].fields]
    found = {}
    for message in messages:
        for field in message.fields:
            found[field.full_name] = field
            if field.message_type is not None:
                for inner in field.message_type.fields:
                    found[inner.full_name] = inner
    return list(found.values())


def _outcome(run: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("value", run(*args))
    except Exception as exc:  # the very exception is compared
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("field", _fields(), ids=lambda f: f.full_name)
def test_a_field_converter_agrees_with_convert(field: Any) -> None:
    convert_field = converter(field)
    for value in VALUES:
        for textual in (True, False):
            expected = _outcome(convert, field, value, textual)
            assert _outcome(convert_field, value, textual) == expected, (value, textual)
