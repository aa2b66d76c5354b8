"""Log lines for people and machines, never carrying an identification number."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from regbus.bus.logs import Masker, configure_logging

IIN = "850314354052"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    configure_logging("text", "WARNING")


def test_json_lines_carry_the_call_fields_and_mask_numbers(captured: io.StringIO) -> None:
    configure_logging("json", "INFO", stream=captured)
    logging.getLogger("regbus.bus").warning(
        "gbdfl.get_person failed for %s",
        IIN,
        extra={"registry": "gbdfl", "request_id": "r-1", "params": {"iin": IIN}, "attempts": 2},
    )
    (line,) = captured.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "regbus.bus"
    assert entry["registry"] == "gbdfl" and entry["attempts"] == 2
    assert IIN not in line
    assert entry["params"]["iin"].startswith("iin:")
    assert entry["event"] == f"gbdfl.get_person failed for {entry['params']['iin']}"


def test_text_lines_quote_fields_so_a_newline_cannot_forge_a_line(captured: io.StringIO) -> None:
    configure_logging("text", "INFO", stream=captured)
    logging.getLogger("regbus.audit").info(
        "call", extra={"purpose": "check\nrequest_id=forged outcome=ok"}
    )
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1
    assert 'purpose="check\\nrequest_id=forged outcome=ok"' in lines[0]


def test_the_level_filters_and_bad_settings_are_refused(captured: io.StringIO) -> None:
    configure_logging("json", "WARNING", stream=captured)
    logging.getLogger("regbus").info("not shown")
    assert captured.getvalue() == ""
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml", "INFO")
    with pytest.raises(ValueError, match="log level"):
        configure_logging("json", "LOUD")


def test_the_mask_is_stable_per_key_and_leaves_other_numbers() -> None:
    masker = Masker(b"k")
    assert masker.text(f"a {IIN} b {IIN}").count(masker.token(IIN)) == 2
    assert masker.text("phone 87071234567, 1234567890123") == "phone 87071234567, 1234567890123"
    assert Masker(b"other").token(IIN) != masker.token(IIN)
    request_id = "410c7f2e-794a-4bb1-a894-738911169457"  # a UUID whose last group is digits
    assert masker.text(f"request_id={request_id} iin={IIN}") == (
        f"request_id={request_id} iin={masker.token(IIN)}"
    )
