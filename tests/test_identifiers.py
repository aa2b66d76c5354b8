import pytest

from regbus.adapters.identifiers import (
    bin_problem,
    check_digit,
    iin_problem,
    plate_problem,
    vin_problem,
)

DEMO_IINS = [
    "850314354052",
    "920721425717",
    "261005565684",
    "771130308916",
    "690214412868",
    "550601388798",
    "881225416427",
    "010101660915",
    "940512410508",
]


@pytest.mark.parametrize("iin", DEMO_IINS)
def test_demo_iins_are_valid(iin: str) -> None:
    assert iin_problem(iin) is None


def test_wrong_check_digit_names_the_expected_one() -> None:
    problem = iin_problem("850314354053")
    assert problem is not None and "check digit" in problem and "expected 2" in problem


def test_number_that_is_never_issued() -> None:
    assert check_digit("10000000028") is None
    problem = iin_problem("100000000280")
    assert problem is not None and "never be issued" in problem


def test_second_weights_are_used_when_the_first_sum_is_ten() -> None:
    # 1*1+2*0+...: first pass gives 10 for these digits, the second pass decides.
    digits = "00000000010"  # weights 1..11 -> 10*1 = 10 -> second pass: 1*1 = 1
    assert check_digit(digits) == 1


@pytest.mark.parametrize("value", ["85031435405", "8503143540521", "85031435405a", ""])
def test_iin_must_be_twelve_digits(value: str) -> None:
    assert iin_problem(value) is not None


def _with_check_digit(first11: str) -> str:
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


def test_iin_must_start_with_a_date() -> None:
    iin = _with_check_digit("85133135405")  # month 13
    assert "birth date" in (iin_problem(iin) or "")


def test_iin_century_digit_is_one_to_six() -> None:
    iin = _with_check_digit("85031475405")  # century/sex digit 7
    assert "century" in (iin_problem(iin) or "")


def test_bin() -> None:
    assert bin_problem("150540001233") is None
    assert bin_problem("150540001234") is not None


@pytest.mark.parametrize("plate", ["123ABC01", "777KZA09", "505OMR02", "A123BCD"])
def test_plates(plate: str) -> None:
    assert plate_problem(plate) is None


@pytest.mark.parametrize("plate", ["12-AB", "123abc01", "", "1234ABC01"])
def test_bad_plates(plate: str) -> None:
    assert plate_problem(plate) is not None


def test_vin() -> None:
    assert vin_problem("XW8ZZZ61ZKG012345") is None
    assert vin_problem("XW8ZZZ61ZKG01234") is not None  # 16 characters
    assert vin_problem("XW8ZZZ61ZKGO12345") is not None  # letter O is never used
