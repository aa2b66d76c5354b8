import pytest

from regbus.adapters.errors import InvalidParameter, UnknownOperation
from regbus.adapters.kinds import DATE, IIN, PLATE, VIN, custom, enum, pattern
from regbus.adapters.spec import Operation, Param, Registry
from regbus.bus.validation import validate

SPEC = Registry(
    registry="vehicles",
    name="Vehicles",
    protocol="rest",
    operations=(
        Operation(
            "get_vehicle",
            (Param("plate", PLATE, required=False), Param("vin", VIN, required=False)),
            one_of=("plate", "vin"),
        ),
        Operation("list_vehicles_by_owner", (Param("iin", IIN),)),
        Operation("register", (Param("iin", IIN), Param("note", required=False)), writes=True),
    ),
)


def test_valid_request_returns_the_operation() -> None:
    op = validate(SPEC, "list_vehicles_by_owner", {"iin": "850314354052"})
    assert op.name == "list_vehicles_by_owner" and op.retry_safe


def test_bad_check_digit_is_a_field_violation() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {"iin": "850314354053"})
    assert caught.value.field == "iin"
    assert caught.value.reason == "INVALID_IIN"
    assert caught.value.registry == "vehicles"
    assert not caught.value.retryable


def test_missing_parameter() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {})
    assert caught.value.reason == "MISSING_PARAMETER" and caught.value.field == "iin"


def test_unexpected_parameter() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {"iin": "850314354052", "name": "x"})
    assert caught.value.reason == "UNEXPECTED_PARAMETER" and caught.value.field == "name"


def test_exactly_one_of_plate_or_vin() -> None:
    assert validate(SPEC, "get_vehicle", {"plate": "123ABC01"}).name == "get_vehicle"
    assert validate(SPEC, "get_vehicle", {"vin": "XW8ZZZ61ZKG012345"}).name == "get_vehicle"
    with pytest.raises(InvalidParameter) as none_given:
        validate(SPEC, "get_vehicle", {})
    assert none_given.value.reason == "MISSING_PARAMETER"
    with pytest.raises(InvalidParameter) as both:
        validate(SPEC, "get_vehicle", {"plate": "123ABC01", "vin": "XW8ZZZ61ZKG012345"})
    assert both.value.reason == "CONFLICTING_PARAMETERS"


def test_bad_plate() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "get_vehicle", {"plate": "12-AB"})
    assert caught.value.reason == "INVALID_PLATE"


def test_unknown_operation_lists_the_known_ones() -> None:
    with pytest.raises(UnknownOperation) as caught:
        validate(SPEC, "get_owner", {})
    assert "get_vehicle" in str(caught.value)


def test_write_without_idempotency_key_is_not_retry_safe() -> None:
    assert not validate(SPEC, "register", {"iin": "850314354052"}).retry_safe


@pytest.mark.parametrize(
    ("param", "value", "reason"),
    [
        ("iin", "٨٥٠٣١٤٣٥٤٠٥٢", "INVALID_IIN"),  # Arabic-Indic digits
        ("iin", "85031435405²", "INVALID_IIN"),  # a superscript digit
        ("iin", "850314354052\n", "INVALID_IIN"),
        ("iin", " 850314354052", "INVALID_IIN"),
        ("iin", "".join(chr(0xFF10 + int(d)) for d in "850314354052"), "INVALID_IIN"),  # fullwidth
    ],
)
def test_only_exact_ascii_identifiers_pass(param: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {param: value})
    assert caught.value.reason == reason
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("plate", ["123ABC01\n", "123abc01", "123ABC01 ", "\uff1123ABC01"])
def test_plates_in_exact_form_only(plate: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "get_vehicle", {"plate": plate})
    assert caught.value.reason == "INVALID_PLATE"


def test_a_huge_value_is_refused_with_a_short_message() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {"iin": "8" * 7000})
    assert len(str(caught.value)) < 200 and "7000 characters" in str(caught.value)


CADASTRAL = pattern("cadastral", r"[0-9]{2}:[0-9]{3}:[0-9]{3}", like="21:320:018")
EXTRA = Registry(
    registry="land",
    name="Land",
    protocol="rest",
    operations=(
        Operation(
            "find",
            (
                Param("number", CADASTRAL),
                Param("on", DATE, required=False),
                Param("use", enum("use", "farm", "housing"), required=False),
                Param("even", custom("even", lambda v: None if v in "02468" else "odd"), False),
                Param("note", required=False),
            ),
        ),
    ),
)


def test_pattern_enum_date_and_custom_kinds() -> None:
    good = {"number": "21:320:018", "on": "2026-02-28", "use": "farm", "even": "4", "note": "ok"}
    assert validate(EXTRA, "find", good).name == "find"
    bad = {
        "number": ("21:320:018\n", "INVALID_CADASTRAL"),
        "on": ("2026-02-30", "INVALID_DATE"),
        "use": ("Farm", "INVALID_USE"),
        "even": ("3", "INVALID_EVEN"),
        "note": ("a\x00b", "INVALID_TEXT"),
    }
    for field, (value, reason) in bad.items():
        with pytest.raises(InvalidParameter) as caught:
            validate(EXTRA, "find", {**good, field: value})
        assert (caught.value.field, caught.value.reason) == (field, reason)


def test_parameter_names_and_counts_are_bounded() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {"n" * 5000: "1"})
    assert caught.value.reason == "PARAMETER_TOO_LONG" and len(str(caught.value)) < 200
    with pytest.raises(InvalidParameter) as caught:
        validate(SPEC, "list_vehicles_by_owner", {f"p{i}": "1" for i in range(100)})
    assert caught.value.reason == "TOO_MANY_PARAMETERS"
