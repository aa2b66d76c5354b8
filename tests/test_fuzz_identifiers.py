"""Property tests of the identifier rules (adapters/identifiers.py, adapters/kinds.py)
and of request validation (bus/validation.py), against an oracle written here from the
registry catalogue's rules, not from the code under test.

Valid identifiers are generated from their parts (birth date, century and sex, serial;
registration month, type and unit digit), so the check digit is the only thing worked
out; mutations of them (a changed digit, a digit of another script, whitespace, a length
change, a look-alike letter) must be refused with the parameter's own reason, and
arbitrary input must end in a value or an ``InvalidRequest``, never another exception.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import date
from importlib.metadata import entry_points

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from regbus.adapters.errors import InvalidParameter, InvalidRequest, UnknownOperation
from regbus.adapters.identifiers import (
    bin_problem,
    check_digit,
    iin_problem,
    plate_problem,
    vin_problem,
)
from regbus.adapters.kinds import BIN, DATE, IIN, IIN_OR_BIN, KEY, PLATE, TEXT, VIN, Kind
from regbus.adapters.spec import Operation, Registry
from regbus.bus.status import rich_status
from regbus.bus.validation import MAX_NAME_CHARS, MAX_PARAMS, MAX_VALUE_CHARS, validate
from tests.fuzzing import (
    ASCII_DIGITS,
    BIRTH_DATES,
    PLATES,
    VINS,
    bins,
    examples,
    iins,
    oracle_check,
)

# --- the oracle: registries.md's rules, written independently --------------------------

CENTURIES = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def _twelve_digits(value: str) -> bool:
    return len(value) == 12 and all(c in ASCII_DIGITS for c in value)


def _checked(value: str) -> bool:
    return oracle_check(value[:11]) == ASCII_DIGITS.index(value[11])


def oracle_iin(value: str) -> bool:
    """YYMMDD a real birth date in the century the 7th digit names (1/2: 1800s, 3/4:
    1900s, 5/6: 2000s), four serial digits, the check digit."""
    if not _twelve_digits(value) or not _checked(value):
        return False
    century = CENTURIES.get(int(value[6]))
    if century is None:
        return False
    try:
        date(century + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


def oracle_bin(value: str) -> bool:
    """YYMM of registration, type digit 4/5/6, unit digit 0-3, five serial, check digit."""
    return (
        _twelve_digits(value)
        and _checked(value)
        and 1 <= int(value[2:4]) <= 12
        and value[4] in "456"
        and value[5] in "0123"
    )


def oracle_plate(value: str) -> bool:
    """123AB01, 123ABC01, A123BC or A123BCD (ASCII capitals and digits, region code last
    in the first two forms)."""
    letters, digits = string.ascii_uppercase, ASCII_DIGITS
    shapes = ("dddLLdd", "dddLLLdd", "LdddLL", "LdddLLL")
    for shape in shapes:
        if len(value) == len(shape) and all(
            (c in digits) if s == "d" else (c in letters) for c, s in zip(value, shape, strict=True)
        ):
            return True
    return False


VIN_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IOQ") + ASCII_DIGITS


def oracle_vin(value: str) -> bool:
    return len(value) == 17 and all(c in VIN_LETTERS for c in value)


def oracle_date(value: str) -> bool:
    """Only ``YYYY-MM-DD`` (ISO 8601's other spellings are not), a real calendar day."""
    shape = "dddd-dd-dd"
    if len(value) != len(shape) or not all(
        (c in ASCII_DIGITS) if s == "d" else c == s for c, s in zip(value, shape, strict=True)
    ):
        return False
    try:
        date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        return False
    return True


# --- strategies --------------------------------------------------------------------------


@st.composite
def checked_numbers(draw: st.DrawFn) -> str:
    """Eleven digits of any kind (a 13th month, a 31 February, century 0, unit 9) with
    their check digit: valid but for the rules of the number's parts."""
    first11 = draw(st.text(alphabet=ASCII_DIGITS, min_size=11, max_size=11))
    check = oracle_check(first11)
    assume(check is not None)
    return f"{first11}{check}"


@st.composite
def shaped_iins(draw: st.DrawFn) -> str:
    """An IIN whose date and century digit are drawn close to their edges."""
    yy, mm = draw(st.integers(0, 99)), draw(st.integers(0, 13))
    dd, century = draw(st.integers(0, 32)), draw(st.integers(0, 9))
    first11 = f"{yy:02d}{mm:02d}{dd:02d}{century}{draw(st.integers(0, 9999)):04d}"
    check = oracle_check(first11)
    assume(check is not None)
    return f"{first11}{check}"


# Digits of other scripts: str.isdigit() (and some of them int()) accept every one.
FOREIGN_DIGITS = [
    *(chr(0x0660 + d) for d in range(10)),  # Arabic-Indic
    *(chr(0x06F0 + d) for d in range(10)),  # Extended Arabic-Indic (Persian)
    *(chr(0x0966 + d) for d in range(10)),  # Devanagari
    *(chr(0xFF10 + d) for d in range(10)),  # fullwidth
    *"⁰¹²³⁴⁵⁶⁷⁸⁹",  # superscript
    *"₀₁₂₃₄₅₆₇₈₉",  # subscript
    *(chr(0x1D7CE + d) for d in range(10)),  # mathematical bold
    *"①②③④⑤⑥⑦⑧⑨",  # circled
]
# Whitespace and invisible characters a copy and paste brings along.
BLANKS = [" ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\u00a0", "\u2003", "\u200b", "\ufeff"]
# Cyrillic capitals that look like the Latin ones of plates and VINs.
LOOK_ALIKES = dict(
    zip(
        "ABCEHKMOPTXY",
        "\u0410\u0412\u0421\u0415\u041d\u041a\u041c\u041e\u0420\u0422\u0425\u0423",
        strict=True,
    )
)


@st.composite
def blank_inserted(draw: st.DrawFn, value: str) -> str:
    """``value`` with whitespace before, after or inside it."""
    blank = draw(st.sampled_from(BLANKS))
    where = draw(st.sampled_from(["start", "end", "inside"]))
    if where == "start":
        return blank + value
    if where == "end":
        return value + blank
    at = draw(st.integers(1, len(value) - 1))
    return value[:at] + blank + value[at:]


@st.composite
def foreign_digit(draw: st.DrawFn, value: str) -> str:
    """``value`` with one of its ASCII digits written in another script."""
    positions = [i for i, c in enumerate(value) if c in ASCII_DIGITS]
    at = draw(st.sampled_from(positions))
    digit: str = draw(st.sampled_from(FOREIGN_DIGITS))
    return value[:at] + digit + value[at + 1 :]


@st.composite
def resized(draw: st.DrawFn, value: str) -> str:
    """``value`` one or more characters shorter or longer."""
    if draw(st.booleans()):
        cut = draw(st.integers(1, len(value) - 1))  # not to nothing: that is "missing"
        at = draw(st.integers(0, len(value) - cut))
        return value[:at] + value[at + cut :]
    extra = draw(st.text(alphabet=ASCII_DIGITS + string.ascii_uppercase, min_size=1, max_size=5))
    at = draw(st.integers(0, len(value)))
    return value[:at] + extra + value[at:]


@st.composite
def digit_changed(draw: st.DrawFn, value: str, positions: range) -> str:
    at = draw(st.sampled_from(positions))
    other = draw(st.sampled_from([d for d in ASCII_DIGITS if d != value[at]]))
    return value[:at] + other + value[at + 1 :]


def malformed(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mutations that are never valid whatever the rule: blanks, foreign digits, length."""
    return values.flatmap(
        lambda v: (
            st.one_of(blank_inserted(v), foreign_digit(v), resized(v))
            if any(c in ASCII_DIGITS for c in v)
            else st.one_of(blank_inserted(v), resized(v))
        )
    )


def near(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid values, their mutations and other text: where a rule's edges are."""
    return st.one_of(
        values,
        malformed(values),
        values.flatmap(lambda v: digit_changed(v, range(len(v)))),
        st.text(alphabet=ASCII_DIGITS, min_size=10, max_size=14),
        st.text(max_size=40),
        checked_numbers(),
    )


# --- the declared registries -------------------------------------------------------------


def _registries() -> list[Registry]:
    found = []
    for ep in entry_points(group="regbus.adapters"):
        loaded = ep.load()
        found.append(loaded if isinstance(loaded, Registry) else loaded.spec)
    return sorted(found, key=lambda spec: spec.registry)


REGISTRIES = _registries()
OPERATIONS = [(spec, op) for spec in REGISTRIES for op in spec.operations]


def _taking(kind: Kind) -> list[str]:
    """Every declared parameter of this kind, as ``registry.operation.parameter``."""
    return [
        f"{spec.registry}.{op.name}.{p.name}"
        for spec, op in OPERATIONS
        for p in op.params
        if p.kind is kind
    ]


def _where(label: str) -> tuple[Registry, Operation, str]:
    registry, operation, name = label.split(".")
    spec = next(s for s in REGISTRIES if s.registry == registry)
    op = spec.operation(operation)
    assert op is not None
    return spec, op, name


def _alone(op: Operation, name: str, value: str) -> dict[str, str]:
    """The sample's parameters with ``name`` set to ``value`` (alone among one_of)."""
    assert op.sample is not None
    params = {k: v for k, v in op.sample.known.items() if k not in op.one_of}
    params[name] = value
    return params


def refused_as(where: str, value: str) -> InvalidParameter:
    """The error validating ``value`` as the parameter ``where`` names ends in."""
    spec, op, name = _where(where)
    with pytest.raises(InvalidParameter) as caught:
        validate(spec, op.name, _alone(op, name, value))
    assert caught.value.field == name and caught.value.registry == spec.registry
    assert len(str(caught.value)) < 200
    return caught.value


IIN_PARAMS = _taking(IIN)
PLATE_PARAMS = _taking(PLATE)
VIN_PARAMS = _taking(VIN)
BIN_PARAMS = _taking(BIN)


def test_every_identifier_kind_is_declared_somewhere() -> None:
    """The properties below go through real declarations: there must be some."""
    assert IIN_PARAMS and PLATE_PARAMS and VIN_PARAMS and BIN_PARAMS and _taking(IIN_OR_BIN)


# --- IIN ----------------------------------------------------------------------------------


@examples(300)
@given(iin=iins(), where=st.sampled_from(IIN_PARAMS))
def test_a_valid_iin_passes_every_layer_unchanged(iin: str, where: str) -> None:
    spec, op, name = _where(where)
    assert iin_problem(iin) is None
    assert check_digit(iin[:11]) == int(iin[11])
    assert IIN.problem(iin) is None and IIN_OR_BIN.problem(iin) is None
    params = _alone(op, name, iin)
    assert validate(spec, op.name, params) is op
    assert params[name] == iin  # validation reads, it never rewrites


@examples(400)
@given(value=st.one_of(near(iins()), shaped_iins()))
def test_iin_rule_is_the_catalogues(value: str) -> None:
    problem = iin_problem(value)
    assert (problem is None) == oracle_iin(value), problem
    assert problem is None or len(problem) < 200


@examples(300)
@given(
    value=iins().flatmap(lambda v: digit_changed(v, range(11, 12))),
    where=st.sampled_from(IIN_PARAMS),
)
def test_a_changed_check_digit_is_refused(value: str, where: str) -> None:
    assert "wrong check digit" in (iin_problem(value) or "")
    assert refused_as(where, value).reason == "INVALID_IIN"


@examples(400)
@given(value=malformed(iins()), where=st.sampled_from(IIN_PARAMS))
def test_a_malformed_iin_is_refused_as_invalid_iin(value: str, where: str) -> None:
    assert not oracle_iin(value)
    assert refused_as(where, value).reason == "INVALID_IIN"


@examples(200)
@given(born=BIRTH_DATES, female=st.booleans(), serial=st.integers(0, 9999))
def test_the_birth_date_and_century_are_checked(born: date, female: bool, serial: int) -> None:
    """The same date under each century digit, and a day past the month's end."""
    for digit in range(10):
        first11 = f"{born:%y%m%d}{digit}{serial:04d}"
        check = check_digit(first11)
        assume(check is not None)
        value = f"{first11}{check}"
        assert (iin_problem(value) is None) == oracle_iin(value), value
    last = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}.get(born.month, 31)
    past = f"{born:%y%m}{last + 1:02d}{3 + female}{serial:04d}"
    check = check_digit(past)
    assume(check is not None)
    assert iin_problem(f"{past}{check}") is not None


# --- BIN, plates, VINs ---------------------------------------------------------------------


@examples(300)
@given(value=near(bins()))
def test_bin_rule_is_the_catalogues(value: str) -> None:
    problem = bin_problem(value)
    assert (problem is None) == oracle_bin(value), problem
    assert (IIN_OR_BIN.problem(value) is None) == (oracle_iin(value) or oracle_bin(value))


@examples(200)
@given(value=malformed(bins()), where=st.sampled_from(BIN_PARAMS))
def test_a_malformed_bin_is_refused_as_invalid_bin(value: str, where: str) -> None:
    assert refused_as(where, value).reason == "INVALID_BIN"


@st.composite
def look_alike(draw: st.DrawFn, value: str) -> str:
    """``value`` with one Latin capital replaced by its Cyrillic twin (or lowercased)."""
    positions = [i for i, c in enumerate(value) if c in string.ascii_uppercase]
    assume(positions)
    at = draw(st.sampled_from(positions))
    letter = value[at]
    twins = [letter.lower()] + ([LOOK_ALIKES[letter]] if letter in LOOK_ALIKES else [])
    other = draw(st.sampled_from(twins))
    return value[:at] + other + value[at + 1 :]


@examples(300)
@given(value=st.one_of(near(PLATES), PLATES.flatmap(look_alike)))
def test_plate_rule(value: str) -> None:
    assert (plate_problem(value) is None) == oracle_plate(value), value


@examples(200)
@given(
    value=st.one_of(malformed(PLATES), PLATES.flatmap(look_alike)),
    where=st.sampled_from(PLATE_PARAMS),
)
def test_a_malformed_plate_is_refused_as_invalid_plate(value: str, where: str) -> None:
    assume(not oracle_plate(value))
    assert refused_as(where, value).reason == "INVALID_PLATE"


@examples(300)
@given(
    value=st.one_of(
        near(VINS),
        VINS.flatmap(look_alike),
        VINS.flatmap(lambda v: st.sampled_from("IOQ").map(lambda c: c + v[1:])),
    )
)
def test_vin_rule(value: str) -> None:
    assert (vin_problem(value) is None) == oracle_vin(value), value


@examples(200)
@given(value=malformed(VINS), where=st.sampled_from(VIN_PARAMS))
def test_a_malformed_vin_is_refused_as_invalid_vin(value: str, where: str) -> None:
    assert refused_as(where, value).reason == "INVALID_VIN"


# --- dates and every other declared kind ---------------------------------------------------

ISO_SPELLINGS = [
    "%Y-%m-%d",
    "%Y%m%d",  # ISO 8601 basic format
    "%G-W%V-%u",  # week date, ten characters like YYYY-MM-DD
    "%GW%V%u",
    "%Y%m%d  ",
    "  %Y%m%d",
    "%Y-%m-%d\n",
    "%d.%m.%Y",
    "%Y/%m/%d",
]


@examples(300)
@given(
    value=st.one_of(
        st.tuples(st.dates(), st.sampled_from(ISO_SPELLINGS)).map(lambda d: d[0].strftime(d[1])),
        st.text(alphabet="0123456789-W T:+/.", min_size=8, max_size=12),
        st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    )
)
def test_a_date_is_yyyy_mm_dd_only(value: str) -> None:
    assert (DATE.problem(value) is None) == oracle_date(value), value


def _declared_kinds() -> list[Kind]:
    kinds = {id(p.kind): p.kind for _, op in OPERATIONS for p in op.params}
    return sorted(kinds.values(), key=lambda k: k.name)


DECLARED_KINDS = _declared_kinds()


@examples(400)
@given(
    kind=st.sampled_from(DECLARED_KINDS),
    value=st.one_of(st.text(max_size=300), st.text(min_size=250, max_size=2 * MAX_VALUE_CHARS)),
)
def test_no_kind_accepts_an_inexact_value(kind: Kind, value: str) -> None:
    """Whatever the check: it answers, and what it accepts is printable with nothing
    around it; anything but free text is ASCII."""
    problem = kind.problem(value)
    # The value is shown cut short: the message does not grow with it.
    assert problem is None or (isinstance(problem, str) and len(problem) < 600)
    if problem is None:
        assert value == value.strip() and value.isprintable()
        assert kind is TEXT or value.isascii()


def test_every_kind_has_a_reason() -> None:
    assert all(re.fullmatch(r"INVALID_[A-Z_]+", k.reason) for k in DECLARED_KINDS)
    assert KEY in DECLARED_KINDS and TEXT in DECLARED_KINDS


# --- validation of whole requests -----------------------------------------------------------


def _values_for(spec: Registry, op: Operation) -> st.SearchStrategy[str]:
    samples = [v for o in spec.operations if o.sample for v in o.sample.known.values()]
    return st.one_of(
        st.sampled_from(samples),
        malformed(st.sampled_from(samples)),
        st.text(max_size=60),
        st.integers(0, 3 * MAX_VALUE_CHARS).map(lambda n: "8" * n),
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[Registry, str, dict[str, str]]:
    """An operation name (declared or not) and a dict of names (declared or any text,
    some too long) to values (samples, mutations, any text, some too long)."""
    spec = draw(st.sampled_from(REGISTRIES))
    op = draw(st.sampled_from(spec.operations))
    name = draw(st.one_of(st.just(op.name), st.just(op.name), st.text(max_size=2000)))
    declared = [p.name for p in op.params]
    keys = st.one_of(
        st.sampled_from(declared),
        st.text(max_size=20),
        st.integers(MAX_NAME_CHARS - 2, MAX_NAME_CHARS + 2).map(lambda n: "k" * n),
    )
    start: Mapping[str, str] = op.sample.known if op.sample and draw(st.booleans()) else {}
    params = dict(start)
    params.update(
        draw(st.dictionaries(keys, _values_for(spec, op), max_size=draw(st.sampled_from([3, 40]))))
    )
    return spec, name, params


ALLOWED: tuple[type[InvalidRequest], ...] = (UnknownOperation, InvalidParameter)


@examples(500)
@given(request=requests())
def test_validation_ends_in_an_operation_or_an_invalid_request(
    request: tuple[Registry, str, dict[str, str]],
) -> None:
    spec, name, params = request
    try:
        op = validate(spec, name, params)
    except ALLOWED as error:
        # Whatever the caller sent, what goes back fits in gRPC's metadata.
        assert len(rich_status(error).SerializeToString()) < 4096
        if isinstance(error, InvalidParameter):
            assert len(error.field) <= MAX_NAME_CHARS and error.reason
            _check_refusal(spec, name, params, error)
        else:
            assert all(op.name != name for op in spec.operations)
        return
    # Accepted: every declared rule holds.
    assert op.name == name and len(params) <= MAX_PARAMS
    kinds = {p.name: p for p in op.params}
    assert params.keys() <= kinds.keys()
    for key, value in params.items():
        assert len(value) <= MAX_VALUE_CHARS
        assert not value or kinds[key].kind.problem(value) is None
    for p in op.params:
        if p.required and p.name not in op.one_of:
            assert params.get(p.name)
    if op.one_of:
        assert sum(1 for n in op.one_of if params.get(n)) == 1


def _check_refusal(
    spec: Registry, name: str, params: dict[str, str], error: InvalidParameter
) -> None:
    """The reason fits what is wrong with the request."""
    op = spec.operation(name)
    assert op is not None
    too_long = [k for k, v in params.items() if len(k) > MAX_NAME_CHARS or len(v) > MAX_VALUE_CHARS]
    if len(params) > MAX_PARAMS:
        assert error.reason == "TOO_MANY_PARAMETERS"
    elif too_long:
        assert error.reason == "PARAMETER_TOO_LONG"
    elif error.reason == "UNEXPECTED_PARAMETER":
        assert error.field not in {p.name for p in op.params}
    elif error.reason in ("MISSING_PARAMETER", "CONFLICTING_PARAMETERS"):
        assert not params.get(error.field) or error.field in op.one_of
    else:
        param = op.param(error.field)
        assert param is not None and error.reason == param.kind.reason
        assert param.kind.problem(params[error.field]) is not None
