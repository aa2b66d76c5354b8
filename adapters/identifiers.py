"""Identifier rules: IIN and BIN check digits, vehicle plates and VINs.

An IIN starts with a birth date YYMMDD that is a real day of the century its seventh
digit names; a BIN with its registration YYMM, then its type (4-6) and unit (0-3) digits.

Only exact forms pass: ASCII digits and letters, no surrounding whitespace or
trailing newline, no digits of other scripts (``str.isdigit`` accepts those).

>>> iin_problem("850314354052") is None
True
"""

from __future__ import annotations

import re
from datetime import date

_W1 = tuple(range(1, 12))
_W2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_PLATE = re.compile(r"(?:[0-9]{3}[A-Z]{2,3}[0-9]{2}|[A-Z][0-9]{3}[A-Z]{2,3})")
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_DIGITS = re.compile(r"[0-9]+")
# The century an IIN's seventh digit names (odd for men, even for women).
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def check_digit(first11: str) -> int | None:
    """The 12th digit of an IIN/BIN, or None when such a number is never issued."""
    digits = [int(c) for c in first11]
    s = sum(d * w for d, w in zip(digits, _W1, strict=True)) % 11
    if s == 10:
        s = sum(d * w for d, w in zip(digits, _W2, strict=True)) % 11
        if s == 10:
            return None
    return s


def _number_problem(value: str, what: str) -> str | None:
    if len(value) != 12 or not _DIGITS.fullmatch(value):
        return f"{what} must be 12 ASCII digits 0-9, got {shown(value)}"
    expected = check_digit(value[:11])
    if expected is None:
        return f"{what} {value} can never be issued (its check digit cannot be computed)"
    if expected != int(value[11]):
        return f"{what} {value} has a wrong check digit (expected {expected})"
    return None


def iin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid IIN, or None if it is."""
    problem = _number_problem(value, "IIN")
    if problem:
        return problem
    month, day, century = int(value[2:4]), int(value[4:6]), value[6]
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return f"IIN {value} does not start with a birth date YYMMDD"
    if century not in _CENTURY:
        return f"IIN {value} has century/sex digit {century}, expected 1-6"
    year = _CENTURY[century] + int(value[:2])
    try:
        date(year, month, day)
    except ValueError:  # 30 February, 31 April, 29 February of a common year
        return f"IIN {value} does not start with a birth date YYMMDD ({year} has no {value[2:6]})"
    return None


def bin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BIN, or None if it is."""
    problem = _number_problem(value, "BIN")
    if problem:
        return problem
    if not 1 <= int(value[2:4]) <= 12:
        return f"BIN {value} does not start with a registration date YYMM"
    if value[4] not in "456":
        return f"BIN {value} has type digit {value[4]}, expected 4, 5 or 6"
    if value[5] not in "0123":
        return f"BIN {value} has unit digit {value[5]}, expected 0-3"
    return None


def plate_problem(value: str) -> str | None:
    """Why ``value`` is not a vehicle plate (e.g. 123ABC01), or None."""
    if not _PLATE.fullmatch(value):
        return f"plate {shown(value)} is not a registration plate like 123ABC01"
    return None


def vin_problem(value: str) -> str | None:
    """Why ``value`` is not a 17-character VIN, or None."""
    if not _VIN.fullmatch(value):
        return f"VIN {shown(value)} must be 17 characters of A-Z and 0-9 without I, O and Q"
    return None


def shown(value: str, limit: int = 40) -> str:
    """``value`` quoted for an error message, cut short so a huge input stays small."""
    return repr(value) if len(value) <= limit else f"{value[:limit]!r}... ({len(value)} characters)"
