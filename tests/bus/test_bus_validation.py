import pytest

from regbus.adapters.base import AdapterSpec, Operation, Param
from regbus.adapters.errors import InvalidParameter, UnknownOperation
from regbus.bus.validation import validate

SPEC = AdapterSpec(
    registry="vehicles",
    name="Vehicles",
    protocol="rest",
    operations=(
        Operation(
            "get_vehicle",
            (Param("plate", "plate", required=False), Param("vin", "vin", required=False)),
            one_of=("plate", "vin"),
        ),
        Operation("list_vehicles_by_owner", (Param("iin", "iin"),)),
        Operation("register", (Param("iin", "iin"), Param("note", required=False)), writes=True),
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
