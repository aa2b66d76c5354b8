"""Hypothesis settings of the property tests (tests/test_fuzz_*.py, the audit chain's).

Two profiles, chosen once when this module is imported:

- ``regbus-dev`` (the default): random examples, failures kept in ``.hypothesis/``
  so a failing example is tried first the next time;
- ``regbus-ci`` (``CI`` set, as .ci/run runs): derandomized, so a run is repeatable
  and a failure shows again, and no example database.

``HYPOTHESIS_PROFILE=regbus-dev`` or ``regbus-ci`` picks one explicitly. Each test sets
its own modest ``max_examples`` with :func:`examples`, so the files stay fast on a small
machine; ``REGBUS_FUZZ_SCALE=10`` runs ten times as many for a longer hunt.

Below them, strategies of valid identifiers made from their parts as the registry
catalogue describes them (:func:`iins`, :func:`bins`, ``PLATES``, ``VINS``), the check
digit worked out here (:func:`oracle_check`), not by the code under test.
"""

from __future__ import annotations

import os
from datetime import date

from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

settings.register_profile(
    "regbus-dev",
    deadline=None,  # loopback HTTP on a shared machine: timing varies, results must not
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "regbus-ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
    print_blob=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "regbus-ci" if os.environ.get("CI") else "regbus-dev"
)
settings.load_profile(PROFILE)

SCALE = max(1, int(os.environ.get("REGBUS_FUZZ_SCALE", "1") or "1"))


def examples(count: int) -> settings:
    """The loaded profile with ``count`` examples (times ``REGBUS_FUZZ_SCALE``)."""
    return settings(settings.get_profile(PROFILE), max_examples=count * SCALE)


# --- identifiers as registries.md describes them, made from their parts ------------------

ASCII_DIGITS = "0123456789"
FIRST_WEIGHTS = tuple(range(1, 12))
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def oracle_check(first11: str) -> int | None:
    """The 12th digit by the catalogue, or None for a number that is never issued."""
    digits = [ASCII_DIGITS.index(c) for c in first11]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        total = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if total != 10:
            return total
    return None


BIRTH_DATES = st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def iins(draw: st.DrawFn) -> str:
    """An IIN made from a birth date, a sex and a serial, with its check digit."""
    born = draw(BIRTH_DATES)
    female = draw(st.booleans())
    century = {18: 1, 19: 3, 20: 5}[born.year // 100] + female
    first11 = f"{born:%y%m%d}{century}{draw(st.integers(0, 9999)):04d}"
    check = oracle_check(first11)
    assume(check is not None)
    return f"{first11}{check}"


@st.composite
def bins(draw: st.DrawFn) -> str:
    """A BIN made from a registration month, a type, a unit and a serial."""
    registered = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
    kind, unit = draw(st.sampled_from("456")), draw(st.sampled_from("0123"))
    first11 = f"{registered:%y%m}{kind}{unit}{draw(st.integers(0, 99999)):05d}"
    check = oracle_check(first11)
    assume(check is not None)
    return f"{first11}{check}"


PLATES = st.one_of(
    st.from_regex(r"[0-9]{3}[A-Z]{2,3}[0-9]{2}", fullmatch=True),
    st.from_regex(r"[A-Z][0-9]{3}[A-Z]{2,3}", fullmatch=True),
)
VINS = st.from_regex(r"[A-HJ-NPR-Z0-9]{17}", fullmatch=True)
