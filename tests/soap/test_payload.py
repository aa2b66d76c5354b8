"""Payloads are checked against their XSD where they sit, deep inside an envelope."""

from __future__ import annotations

import pytest
from lxml import etree

from regbus.adapters.gbdfl import GBDFL
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.spec import Shep

assert isinstance(GBDFL.wire, Shep)
SCHEMA = PayloadSchema(GBDFL.wire.payload)


def _nested(inner: str) -> etree._Element:
    envelope = etree.fromstring(
        f'<envelope xmlns:p="{SCHEMA.namespace}"><body>{inner}</body></envelope>'
    )
    return envelope[0][0]


def test_an_answer_with_an_element_the_schema_lacks_is_refused_in_place() -> None:
    answer = _nested("<p:PersonResponse><p:bogus>1</p:bogus></p:PersonResponse>")
    with pytest.raises(ValueError, match="PersonResponse does not match its schema"):
        SCHEMA.check(answer, "PersonResponse")


def test_a_request_built_from_the_schema_passes_and_stays_in_its_tree() -> None:
    request = SCHEMA.build("PersonRequest", iin="850314354052")
    holder = etree.Element("data")
    holder.append(request)
    assert SCHEMA.check(request, "PersonRequest") is request
    assert request.getparent() is holder
