"""The hot path's shortcuts do exactly what the long way does.

Requests written from serialized templates are byte for byte what lxml builds and
writes (and refuse what lxml refuses, with its error); the metrics' direct counting
is what ``inc()`` and ``observe()`` give; calls in flight read when scraped are what
reporting each change gives; the bulkhead's slots follow ``asyncio.Semaphore``; caches
keyed by a declaration's id serve that declaration only.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from prometheus_client import CollectorRegistry, generate_latest

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import BulkheadFull, InvalidParameter
from regbus.adapters.kinds import IIN, TEXT
from regbus.adapters.mapping import to_record
from regbus.adapters.soap import shep
from regbus.adapters.soap.client import SoapClient, mark, xml_text
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.xroad import XRoadHeaders, XRoadSettings
from regbus.adapters.spec import Into, Operation, Param, Registry
from regbus.adapters.views import JsonView
from regbus.bus.validation import validate
from regbus.circuit.bulkhead import Bulkhead, _Slots
from regbus.monitoring.metrics import Metrics, error_class

WHEN = datetime(2025, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
# Text of every kind: markup lxml escapes, what it refuses, what looks like a mark.
CHARS = [
    *(chr(c) for c in range(0x180)),
    *"\t\n\r&<>\"'",
    *("€", "😀", "\ue000", "\ue001", "\ufffd", "\ufffe", "\uffff", "\ud800", "\x85"),
]


def _text(rng: random.Random) -> str:
    return "".join(rng.choices(CHARS, k=rng.randint(0, 6)))


def _outcome(run: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("value", run())
    except Exception as exc:  # the very exception is compared
        return (type(exc).__name__, str(exc))


def _written(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="utf-8")


def test_xml_text_is_what_lxml_writes_and_refuses_what_it_refuses() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        text = _text(rng)
        element = etree.Element("a")
        taken = _outcome(lambda: setattr(element, "text", text))  # noqa: B023
        escaped = xml_text(text)
        assert (escaped is not None) is (taken[0] == "value"), repr(text)
        if escaped is not None:
            written = etree.tostring(element, encoding="utf-8").decode("utf-8")
            assert written == (f"<a>{escaped}</a>" if text else "<a></a>")
    assert xml_text(1) is None  # type: ignore[arg-type]  # not text: lxml's TypeError


def test_a_shep_request_is_written_as_lxml_builds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shep, "_now", lambda: WHEN)
    monkeypatch.setattr(shep, "new_message_id", lambda: "m-1")
    channel = shep.SyncChannel(
        Endpoint("http://shep.test/", options={"sender_id": "a&b", "password": "p<w>"}),
        registry="gbdfl",
        service_id="GBDFL_PERSON_INFO",
    )
    payload = PayloadSchema("gbdfl.xsd")
    plan = channel._soap.plan(shep.OPERATION)
    rng = random.Random(2)
    for _ in range(1500):
        context = CallContext(*(_text(rng) if rng.random() < 0.6 else "" for _ in range(5)))
        iin = _text(rng) if rng.random() < 0.3 else "850314354052"
        built = _outcome(
            lambda: _written(
                plan.wrap(channel.message(payload.build("PersonRequest", iin=iin), context))  # noqa: B023
            )
        )
        written = _outcome(
            lambda: channel.request_bytes(context, payload, "PersonRequest", {"iin": iin})  # noqa: B023
        )
        assert written == built, (context, iin)


def test_a_shep_sender_that_looks_like_a_mark_is_still_written_right() -> None:
    channel = shep.SyncChannel(
        Endpoint("http://shep.test/", options={"sender_id": mark(0)}),
        registry="gbdfl",
        service_id="GBDFL_PERSON_INFO",
    )
    payload = PayloadSchema("gbdfl.xsd")
    written = channel.request_bytes(CallContext("r"), payload, "PersonRequest", {"iin": "1"})
    sender = etree.fromstring(written).find(".//sender/senderId")
    assert sender is not None and sender.text == mark(0)


SETTINGS = XRoadSettings.from_options(
    {"xroad_client": "KZ/GOV/123/bus", "xroad_service": "KZ/COM/456/ESBD"}
)


@pytest.mark.parametrize("hooked", [False, True], ids=["soap", "xroad"])
def test_a_soap_request_is_written_as_lxml_builds_and_stamps_it(hooked: bool) -> None:
    xroad = XRoadHeaders(SETTINGS)
    soap = SoapClient(
        "insurance.wsdl",
        Endpoint("http://soap.test/"),
        registry="insurance",
        plugins=[xroad] if hooked else [],
    )
    plan = soap.plan("GetPolicy")
    rng = random.Random(3)
    for _ in range(1500):
        arguments: dict[str, Any] = {}
        for name in ("plate", "iin", "bogus"):
            if rng.random() < (0.05 if name == "bogus" else 0.8):
                arguments[name] = rng.choice([None, _text(rng), "123ABC01"])
        context = rng.choice([None, CallContext("r"), CallContext(*(_text(rng) for _ in range(5)))])
        ids = itertools.count()
        xroad._new_id = lambda: f"id-{next(ids)}"  # noqa: B023

        def built() -> tuple[bytes, Any]:
            envelope = plan.build(arguments)  # noqa: B023
            sent = xroad.stamp(envelope, plan.name, context) if hooked else None  # noqa: B023
            return _written(envelope), sent

        expected = _outcome(built)
        ids = itertools.count()

        def written() -> tuple[bytes, Any]:
            names = plan.plain(arguments)  # noqa: B023
            if names is None or any(xml_text(arguments[n]) is None for n in names):  # noqa: B023
                return built()
            if not hooked:
                data = plan.write(names, arguments)  # noqa: B023
                return (data if data is not None else built()[0]), None
            texts, sent = xroad.texts(plan.envelope, plan.name, context)  # noqa: B023
            data = plan.write(names, arguments, [xroad], [texts])  # noqa: B023
            if data is None:
                envelope = plan.build(arguments)  # noqa: B023
                xroad.stamp_texts(envelope, plan.name, texts)
                data = _written(envelope)
            return data, sent

        assert _outcome(written) == expected, (arguments, context)


def test_counting_is_what_inc_and_observe_give() -> None:
    fast, public = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    rng = random.Random(4)
    for _ in range(500):
        seconds = rng.choice([0.0, 0.005, 30.0, 31.0, rng.random() * 40])
        outcome = rng.choice(["ok", "not_found", "timeout"])
        fast.request("gbdfl", "get_person", outcome, seconds)
        fast.attempt("gbdfl", "get_person", outcome, seconds)
        public.requests.labels("gbdfl", "get_person", outcome, error_class(outcome)).inc()
        public.request_seconds.labels("gbdfl", "get_person").observe(seconds)
        public.attempts.labels("gbdfl", "get_person", outcome).inc()
        public.attempt_seconds.labels("gbdfl").observe(seconds)
    assert generate_latest(fast.registry) == generate_latest(public.registry)


async def test_calls_in_flight_read_live_are_what_reports_give() -> None:
    live, reported = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    bulkhead = Bulkhead("gbdfl", 4, lambda n: reported.in_flight("gbdfl", n), client_share=0.5)
    for metrics in (live, reported):
        metrics.register_registry("gbdfl", 4)
    live.live_in_flight("gbdfl", lambda: bulkhead.in_flight)

    def gauges() -> tuple[float | None, float | None]:
        return tuple(  # type: ignore[return-value]
            m.registry.get_sample_value("regbus_bulkhead_in_flight", {"registry": "gbdfl"})
            for m in (live, reported)
        )

    held = [await bulkhead.acquire(0.1, client) for client in ("a", "a", "b")]
    assert gauges() == (3.0, 3.0)
    with pytest.raises(BulkheadFull):
        await bulkhead.acquire(0.01, "a")
    assert gauges() == (3.0, 3.0)
    for client, slot in zip(("a", "a", "b"), held, strict=True):
        bulkhead.release(client, slot)
        assert gauges()[0] == gauges()[1]
    assert gauges() == (0.0, 0.0) and not bulkhead._clients


# Steps: release a holder ("-0"), cancel a task ("x5"), let the loop run ("." once).
SCRIPTS = [
    ["x5", *".....", "-1", *".....", "-0", *".....", "-3", *".....", "-2", *".....", "-7"],
    ["-0", ".", "x2", *".....", "-1", ".", "x3", *".....", "-4", *".....", "-5", *"....."],
    ["x0", "-1", "x2", "x3", ".", "-4", "x5", ".", "x6", *"....."],
]


@pytest.mark.parametrize("script", SCRIPTS)
async def test_slots_wait_and_hand_over_as_asyncio_semaphores_do(script: list[str]) -> None:
    async def run(make: Callable[[], Any]) -> list[str]:
        lock = make()
        order: list[str] = []
        done = {str(i): asyncio.Event() for i in range(8)}

        async def user(name: str) -> None:
            try:
                await lock.acquire()
            except asyncio.CancelledError:
                order.append(f"cancelled waiting {name}")
                raise
            order.append(f"+{name}")
            try:
                await done[name].wait()
            finally:
                order.append(f"-{name}")
                lock.release()

        tasks = {name: asyncio.create_task(user(name)) for name in done}
        for _ in range(5):
            await asyncio.sleep(0)
        for step in script:
            if step == ".":
                await asyncio.sleep(0)
            elif step.startswith("x"):
                tasks[step[1:]].cancel()
            else:
                done[step[1:]].set()
            order.append(f"locked={lock.locked()}")
        for event in done.values():
            event.set()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        order.append(f"locked={lock.locked()}")
        return order

    assert await run(lambda: _Slots(2)) == await run(lambda: asyncio.Semaphore(2))


def test_validation_plans_serve_their_own_declaration() -> None:
    def registry(kind: Any) -> Registry:
        return Registry("r", "R", (Operation("get", (Param("key", kind),)),), protocol="rest")

    iin, text = registry(IIN), registry(TEXT)
    for _ in range(2):
        assert validate(text, "get", {"key": "anything"}).name == "get"
        with pytest.raises(InvalidParameter):
            validate(iin, "get", {"key": "anything"})


def test_mapping_plans_serve_their_own_fields() -> None:
    fields = {"plate": "plate", "make": "make?"}
    one = to_record(Into("vehicle", fields), JsonView({"plate": "A1", "make": "M"}), {})
    fields_too = {"plate": "number"}
    two = to_record(Into("vehicle", fields_too), JsonView({"number": "B2"}), {})
    assert (one.vehicle.plate, one.vehicle.make, two.vehicle.plate) == ("A1", "M", "B2")


def test_new_request_ids_are_distinct_version_4_uuids() -> None:
    import uuid

    from regbus.bus.servicer import new_request_id

    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
