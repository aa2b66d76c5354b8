"""Every kind of record has a line a person can read."""

import pytest

from regbus.bus.describe import DESCRIBE, describe
from regbus.v1 import records_pb2

KINDS = [
    f.name
    for f in records_pb2.Record.DESCRIPTOR.oneofs_by_name["kind"].fields
    if f.name not in ("generic", "extension")
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_record_kind_is_described(kind: str) -> None:
    assert kind in DESCRIBE
    record = records_pb2.Record()
    getattr(record, kind).SetInParent()
    assert describe(record)


def test_a_restricted_register_is_a_yes_or_no() -> None:
    record = records_pb2.Record(
        register_check=records_pb2.RegisterCheck(
            register="narcology",
            registered=True,
            registered_on=records_pb2.Date(year=2019, month=4, day=2),
        )
    )
    assert describe(record) == "ON the narcology register since 2019-04-02"
    record.register_check.registered = False
    assert describe(record) == "not on the narcology register"
