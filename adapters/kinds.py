"""What a parameter's value must look like, checked by the bus before any call.

A ``Kind`` names the check and the ErrorInfo reason of a bad value. The
built-in kinds cover the identifiers every registry uses; an integrator adds
one with ``pattern`` or ``custom``:

    CADASTRAL = pattern("cadastral", r"[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{3}")
    Param("number", CADASTRAL)

Every check accepts exact forms only: no surrounding spaces, no trailing
newline, ASCII digits only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from regbus.adapters.identifiers import (
    bin_problem,
    iin_problem,
    plate_problem,
    shown,
    vin_problem,
)

MAX_TEXT = 256  # characters of a free-text parameter


@dataclass(frozen=True)
class Kind:
    """A named check: ``problem(value)`` says why a value is wrong, or None."""

    name: str
    reason: str
    problem: Callable[[str], str | None]

    def __str__(self) -> str:
        return self.name


def custom(name: str, problem: Callable[[str], str | None], reason: str = "") -> Kind:
    """A kind checked by ``problem``; bad values are ``INVALID_<NAME>`` by default."""
    return Kind(name, reason or f"INVALID_{name.upper()}", problem)


def pattern(name: str, regex: str, *, like: str = "") -> Kind:
    """Values that match ``regex`` as a whole (ASCII only), e.g. a cadastral number."""
    compiled = re.compile(regex, re.ASCII)
    example = f" like {like}" if like else ""

    def problem(value: str) -> str | None:
        if value.isascii() and compiled.fullmatch(value):
            return None
        return f"{name} {shown(value)} is not of the form {regex}{example}"

    return custom(name, problem)


def enum(name: str, *values: str) -> Kind:
    """One of ``values`` exactly (case matters)."""
    allowed = frozenset(values)

    def problem(value: str) -> str | None:
        if value in allowed:
            return None
        return f"{name} {shown(value)} is not one of: {', '.join(values)}"

    return custom(name, problem)


def _iin_or_bin(value: str) -> str | None:
    if iin_problem(value) is None or bin_problem(value) is None:
        return None
    return f"{shown(value)} is neither a valid IIN nor a valid BIN"


# Only this spelling: date.fromisoformat also takes 2024-W01-1, 20240101 and more.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _date(value: str) -> str | None:
    if _ISO_DATE.fullmatch(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return None
    return f"date {shown(value)} is not a calendar date YYYY-MM-DD"


def _text(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        return f"text of {len(value)} characters is longer than {MAX_TEXT}"
    if not value.isprintable():
        return f"text {shown(value)} holds control characters"
    if value != value.strip():
        return f"text {shown(value)} has spaces around it"
    return None


_KEY = re.compile(r"[A-Za-z0-9._:-]{8,64}", re.ASCII)


def _key(value: str) -> str | None:
    if _KEY.fullmatch(value):
        return None
    return f"idempotency key {shown(value)} is not 8 to 64 of A-Z a-z 0-9 . _ : -"


IIN = Kind("iin", "INVALID_IIN", iin_problem)
BIN = Kind("bin", "INVALID_BIN", bin_problem)
IIN_OR_BIN = Kind("iin_or_bin", "INVALID_IIN", _iin_or_bin)
PLATE = Kind("plate", "INVALID_PLATE", plate_problem)
VIN = Kind("vin", "INVALID_VIN", vin_problem)
DATE = Kind("date", "INVALID_DATE", _date)
TEXT = Kind("text", "INVALID_TEXT", _text)
# A write's idempotency key: a UUID or any caller-chosen token of that size.
KEY = Kind("idempotency_key", "INVALID_IDEMPOTENCY_KEY", _key)

BUILT_IN = {k.name: k for k in (IIN, BIN, IIN_OR_BIN, PLATE, VIN, DATE, TEXT, KEY)}
