"""Property tests of answer parsing on the hot path: every declared operation of every
installed registry called through its real adapter over real HTTP, the answer being the
real mock registry's, garbled on its way back by a relay (tests/hostile.py).

Whatever comes back (arbitrary bytes, the real answer with bytes flipped, elements and
JSON values moved, retyped or dropped, nesting far too deep, another subject's
identifier, an answer past the size limit), an adapter ends in a record about the subject
asked for or a registry error (``RegistryFault``, ``AnswerTooLarge`` past the limit, a
business answer), never another exception and never a record about someone else.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from regbus.adapters.errors import (
    AnswerTooLarge,
    RegbusError,
    RegistryAnswer,
    RegistryFault,
    RegistryUnavailable,
)
from regbus.adapters.kinds import BIN, IIN, IIN_OR_BIN, PLATE, VIN
from regbus.adapters.soap.descriptions import secure_parser
from regbus.adapters.spec import Operation, Rest
from regbus.bus.validation import validate
from regbus.mocks.population import Population
from regbus.v1 import records_pb2
from tests.fuzzing import PLATES, VINS, bins, examples, iins
from tests.hostile import Bench, Outcome, Reply, Upstream, registries

SPECS = registries()
OPERATIONS = sorted(
    f"{spec.registry}.{op.name}" for spec in SPECS.values() for op in spec.operations if op.sample
)
SOAP = [label for label in OPERATIONS if not isinstance(SPECS[label.split(".")[0]].wire, Rest)]
REST = [label for label in OPERATIONS if label not in SOAP]
LIMIT = 16 * 1024  # the answer size limit of the size tests' adapters


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    opened = Bench.open(Population.load())
    try:
        yield opened
    finally:
        opened.close()


def _op(label: str) -> tuple[str, Operation]:
    registry, name = label.split(".")
    op = SPECS[registry].operation(name)
    assert op is not None and op.sample is not None
    return registry, op


def _params(op: Operation) -> dict[str, str]:
    assert op.sample is not None
    return dict(op.sample.known)


# --- what a record says, read here (not with the adapter's own echo check) ----------------


def _said(record: records_pb2.Record, field: str) -> list[str]:
    """Every value the record gives for ``field``: its own, or each list item's."""
    kind = record.WhichOneof("kind")
    assert kind is not None and kind not in ("generic", "extension"), kind
    held: Message = getattr(record, kind)
    fields = held.DESCRIPTOR.fields_by_name
    if field in fields:
        return [str(getattr(held, field))]
    return [
        str(getattr(item, field))
        for f in held.DESCRIPTOR.fields
        if f.message_type is not None and f.is_repeated
        for item in getattr(held, f.name)
        if field in item.DESCRIPTOR.fields_by_name
    ]


def judge(label: str, params: dict[str, str], outcome: Outcome, *, status: int = 200) -> None:
    """A record about the subject asked for, or a registry error; nothing else."""
    registry, op = _op(label)
    if outcome.record is not None:
        for param, field in op.echo.items():
            if params.get(param):
                said = _said(outcome.record, field)
                assert all(v == params[param] for v in said), (label, field, said)
        return
    error = outcome.error
    assert error is not None
    shown = "".join(traceback.format_exception(error))
    assert isinstance(error, RegbusError), f"{label}: not a registry error:\n{shown}"
    allowed: tuple[type[RegbusError], ...] = (RegistryFault, RegistryAnswer)
    if status in (429, 502, 503, 504):
        allowed += (RegistryUnavailable,)
    assert isinstance(error, allowed), f"{label}: {type(error).__name__}:\n{shown}"
    assert not isinstance(error, AnswerTooLarge), shown  # every answer here is small
    assert (error.registry, error.operation) == (registry, op.name), shown
    assert len(error.message) <= 400, error.message


# --- the answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("label", OPERATIONS)
def test_the_real_answer_passes(bench: Bench, label: str) -> None:
    """The relay changes nothing unless told to: the properties below start from a
    record."""
    registry, op = _op(label)
    outcome = bench.call(registry, op.name, _params(op))
    assert outcome.error is None and outcome.record is not None
    judge(label, _params(op), outcome)


CONTENT_TYPES = ["text/xml; charset=utf-8", "application/json", "text/html", ""]
STATUSES = [200, 200, 200, 201, 400, 404, 409, 422, 429, 500, 502, 503, 504]


@pytest.mark.parametrize("label", OPERATIONS)
@examples(12)
@given(
    status=st.sampled_from(STATUSES),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=512).map(str.encode),
        st.sampled_from([b"", b"null", b"[]", b"{}", b"1", b'"x"', b"<x/>", b"<?xml"]),
    ),
)
def test_any_bytes_are_a_registry_error(
    bench: Bench, label: str, status: int, content_type: str, body: bytes
) -> None:
    """Bytes that are not an answer are a registry error; only a document that is one
    (a JSON object, an XML envelope: not what these bytes are, but possible) may read."""
    registry, op = _op(label)
    outcome = bench.call(
        registry, op.name, _params(op), lambda _: Reply(status, content_type, body)
    )
    if outcome.record is not None:
        assert status in (200, 201) and _a_document(body), f"{label}: {body!r} read as a record"
    judge(label, _params(op), outcome, status=status)


def _a_document(body: bytes) -> bool:
    """Whether ``body`` is a JSON object or a well-formed XML document."""
    try:
        return isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        pass
    try:
        etree.fromstring(body, secure_parser())
    except etree.XMLSyntaxError:
        return False
    return True


# Byte edits: (where, what, bytes), where a fraction of the body's length.
BYTE_EDITS = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


def edit_bytes(body: bytes, edits: list[tuple[float, str, bytes]]) -> bytes:
    for where, what, data in edits:
        at = int(where * len(body)) if body else 0
        if what == "flip":
            body = (
                body[:at]
                + bytes(b ^ 0xFF for b in body[at : at + len(data)])
                + body[at + len(data) :]
            )
        elif what == "insert":
            body = body[:at] + data + body[at:]
        elif what == "delete":
            body = body[:at] + body[at + len(data) :]
        elif what == "truncate":
            body = body[:at]
        else:  # a stretch of the answer twice
            body = body[:at] + body[at : at + 64 * len(data)] + body[at:]
    return body


@pytest.mark.parametrize("label", OPERATIONS)
@examples(12)
@given(edits=BYTE_EDITS)
def test_garbled_bytes_of_the_real_answer(
    bench: Bench, label: str, edits: list[tuple[float, str, bytes]]
) -> None:
    registry, op = _op(label)

    def garble(got: Upstream) -> Reply:
        return Reply(got.status, got.content_type, edit_bytes(got.body, edits))

    judge(label, _params(op), bench.call(registry, op.name, _params(op), garble))


# --- structural changes: XML ------------------------------------------------------------------

_XML_TEXT = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
TRICKY_TEXTS = [
    "",
    " ",
    "0",
    "-1",
    "1e999",
    "NaN",
    "true",
    "maybe",
    "2024-02-30",
    "9999-99-99",
    "01.02.2003",
    "850314354052",
    "850314354052 ",
    "PERSON_NOT_FOUND",
    "SCSS001",
    "OK",
    "x" * 5000,
    "\u202e\u0410\u200b",
]
TEXTS = st.one_of(
    st.sampled_from(TRICKY_TEXTS),
    st.text(max_size=40).filter(lambda t: _XML_TEXT.fullmatch(t) is not None),
    st.integers().map(str),
)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,12}", fullmatch=True)
XML_ACTIONS = ["text", "drop", "twice", "rename", "renamespace", "child", "attribute", "empty"]
XML_EDITS = st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(XML_ACTIONS), TEXTS, NAMES),
    min_size=1,
    max_size=3,
)


def edit_xml(body: bytes, edits: list[tuple[float, str, str, str]]) -> bytes:
    """The answer with elements retyped, dropped, doubled, renamed or emptied."""
    root = etree.fromstring(body, secure_parser())
    for where, action, text, name in edits:
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        element = elements[int(where * len(elements))]
        parent = element.getparent()
        qname = etree.QName(element)
        if action == "text":
            element.text = text
        elif action == "drop" and parent is not None:
            parent.remove(element)
        elif action == "twice" and parent is not None:
            element.addnext(etree.fromstring(etree.tostring(element)))
        elif action == "rename":
            element.tag = etree.QName(qname.namespace, name).text
        elif action == "renamespace":
            element.tag = etree.QName("urn:regbus:elsewhere", qname.localname).text
        elif action == "child":
            etree.SubElement(element, etree.QName(qname.namespace, name).text).text = text
        elif action == "attribute":
            element.set(name, text)
        elif action == "empty":
            for child in list(element):
                element.remove(child)
            element.text = text or None
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


@pytest.mark.parametrize("label", SOAP)
@examples(25)
@given(edits=XML_EDITS)
def test_reshaped_soap_answers(
    bench: Bench, label: str, edits: list[tuple[float, str, str, str]]
) -> None:
    registry, op = _op(label)

    def reshape(got: Upstream) -> Reply:
        return Reply(got.status, got.content_type, edit_xml(got.body, edits))

    judge(label, _params(op), bench.call(registry, op.name, _params(op), reshape))


# --- structural changes: JSON -----------------------------------------------------------------

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.sampled_from(TRICKY_TEXTS),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
JSON_ACTIONS = ["replace", "drop", "rename", "listed", "wrapped", "deep"]
JSON_EDITS = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(JSON_ACTIONS),
        JSON_VALUES,
        st.text(max_size=8),
        st.integers(1, 100_000),
    ),
    min_size=1,
    max_size=3,
)
_DEEP = "\ue000deep\ue000"


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def edit_json(body: bytes, edits: list[tuple[float, str, Any, str, int]]) -> bytes:
    """The answer with values retyped, dropped, renamed, wrapped or nested too deep."""
    root: Any = json.loads(body)
    depth = 1
    for where, action, value, name, deep in edits:
        nodes = list(_nodes(root))
        path, node = nodes[int(where * len(nodes))]
        if action == "deep":
            value, depth = _DEEP, deep
        elif action == "listed":
            value = [node]
        elif action == "wrapped":
            value = {name: node}
        if not path:
            root = value if action in ("replace", "listed", "wrapped", "deep") else root
            continue
        parent = root
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "drop":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            parent[name] = parent.pop(last)
        elif action != "rename":
            parent[last] = value
    text = json.dumps(root)
    return text.replace(json.dumps(_DEEP), "[" * depth + "0" + "]" * depth).encode()


@pytest.mark.parametrize("label", REST)
@examples(30)
@given(edits=JSON_EDITS)
def test_reshaped_json_answers(
    bench: Bench, label: str, edits: list[tuple[float, str, Any, str, int]]
) -> None:
    registry, op = _op(label)

    def reshape(got: Upstream) -> Reply:
        return Reply(got.status, got.content_type, edit_json(got.body, edits))

    judge(label, _params(op), bench.call(registry, op.name, _params(op), reshape))


# --- an answer about someone else ------------------------------------------------------------

VALID = {IIN: iins(), BIN: bins(), IIN_OR_BIN: st.one_of(iins(), bins()), PLATE: PLATES, VIN: VINS}


def _swappable(label: str) -> list[str]:
    """``label.param`` for each identifier parameter of the sample (one of IIN, BIN, ...)."""
    _, op = _op(label)
    assert op.sample is not None
    return [f"{label}.{p.name}" for p in op.params if p.name in op.sample.known and p.kind in VALID]


SWAPS = [where for label in OPERATIONS for where in _swappable(label)]


@pytest.mark.parametrize("where", SWAPS)
@examples(8)
@given(data=st.data())
def test_an_answer_about_another_subject_is_refused(
    bench: Bench, where: str, data: st.DataObject
) -> None:
    """The registry's answer names another valid subject wherever it named the one
    asked for: the adapter must not hand it out as the answer about the one asked for."""
    registry, name, param = where.split(".")
    label = f"{registry}.{name}"
    _, op = _op(label)
    params = _params(op)
    asked = params[param]
    kind = next(p.kind for p in op.params if p.name == param)
    other = data.draw(VALID[kind].filter(lambda v: v != asked), label="other")
    seen: list[bool] = []

    def swap(got: Upstream) -> Reply:
        seen.append(asked.encode() in got.body)
        return Reply(got.status, got.content_type, got.body.replace(asked.encode(), other.encode()))

    outcome = bench.call(registry, op.name, params, swap)
    assert seen == [True], f"{label}: the sample's answer does not name {param} {asked}"
    judge(label, params, outcome)
    assert outcome.record is None, f"{label}: an answer about {other} read as about {asked}"
    assert isinstance(outcome.error, RegistryFault), outcome.error


# --- the size limit --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(bench: Bench) -> Callable[[str], str]:
    """``limited(registry)``: the id of an adapter of ``registry`` whose answer limit is
    :data:`LIMIT`, made once."""

    def make(registry: str) -> str:
        key = f"{registry}@limit"
        if key not in bench.adapters:
            bench.adapters[key] = bench.adapters[registry].__class__(
                bench.endpoint(registry, max_answer_bytes=LIMIT)
            )
        return key

    return make


@pytest.mark.parametrize("label", OPERATIONS)
@examples(10)
@given(
    extra=st.integers(-400, 400),
    chunked=st.booleans(),
    chunk=st.integers(1, 8192),
    garbage=st.booleans(),
)
def test_an_answer_past_the_limit_is_too_large(
    bench: Bench,
    limited: Callable[[str], str],
    label: str,
    extra: int,
    chunked: bool,
    chunk: int,
    garbage: bool,
) -> None:
    """The real answer padded (with blanks after it, or with garbage) to ``LIMIT +
    extra`` bytes: past the limit it is ``AnswerTooLarge`` whatever it holds, with or
    without a Content-Length; within it, the padded real answer is still a record."""
    registry, op = _op(label)
    size = LIMIT + extra

    def pad(got: Upstream) -> Reply:
        assert len(got.body) < LIMIT - 400, f"{label}: the real answer is too big for this test"
        filler = b"\x00" if garbage else b" "
        body = got.body + filler * (size - len(got.body))
        return Reply(got.status, got.content_type, body, chunked=chunked, chunk=chunk)

    outcome = Bench.call(bench, limited(registry), op.name, _params(op), pad)
    if size > LIMIT:
        assert isinstance(outcome.error, AnswerTooLarge), outcome.error or outcome.record
        assert not outcome.error.retryable and outcome.error.registry == registry
    elif garbage:
        assert isinstance(outcome.error, RegistryFault), outcome.error or outcome.record
        assert not isinstance(outcome.error, AnswerTooLarge)
    else:
        assert outcome.record is not None, outcome.error
        judge(label, _params(op), outcome)


# --- requests: what validation accepts reaches the registry as it was --------------------------


def _iin_params() -> list[str]:
    return [
        where
        for where in SWAPS
        if next(
            p.kind
            for p in _op(where.rsplit(".", 1)[0])[1].params
            if p.name == where.rsplit(".", 1)[1]
        )
        is IIN
    ]


@pytest.mark.parametrize("where", _iin_params())
@examples(5)
@given(iin=iins())
def test_a_valid_iin_reaches_the_registry_as_it_was(bench: Bench, where: str, iin: str) -> None:
    registry, name, param = where.split(".")
    _, op = _op(f"{registry}.{name}")
    params = {**_params(op), param: iin}
    validate(SPECS[registry], name, params)
    before = len(bench.relay.exchanges)
    outcome = bench.call(registry, name, params)
    sent = bench.relay.exchanges[before]
    assert iin.encode() in sent.request or iin in sent.path, sent
    judge(f"{registry}.{name}", params, outcome)
