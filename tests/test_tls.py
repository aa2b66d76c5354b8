"""The bus behind mutual TLS, as a police tablet and a centre's desk call it: real gRPC over
real TLS sockets, clients declared with their rights, purposes that minimise and need consent.
"""

from __future__ import annotations

import ssl
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
import pytest

from regbus.bus.client import CallFailed, failure
from regbus.bus.config import parse_config
from regbus.bus.consent import CODE_HEADER
from regbus.bus.embedded import Embedded, start_embedded
from regbus.v1 import bus_pb2, bus_pb2_grpc
from tests.conftest import TEST_POLICY
from tests.pki import Issued, Pki
from tests.test_cli import regbus

DAUREN, ARMAN, ZHANSAYA = "771130308916", "850314354052", "010101660915"

ACCESS = """
[clients.police-tablets]
registries = ["vehicles", "gbdfl.get_person", "licences", "fines", "insurance", "inspection"]
restricted = ["narcology", "psychiatry"]
purposes = ["roadside_check"]

[clients.centre-desk]
certificate_names = ["desk-01.centre.kz"]
registries = ["gbdfl", "mobile"]
restricted = ["health"]
purposes = ["citizen_service", "investigation"]

[purposes.roadside_check]
title = "Roadside check"
[purposes.roadside_check.fields]
narcology = ["iin", "register", "registered"]
psychiatry = ["iin", "register", "registered"]

[purposes.citizen_service]
consent = ["health"]

[purposes.investigation]
case_number = true
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server_cert(pki: Pki) -> Issued:
    return pki.issue("regbus", dns=["localhost"], ips=["127.0.0.1"], server=True)


@pytest.fixture
async def bus(pki: Pki, server_cert: Issued) -> AsyncIterator[Embedded]:
    text = f"""
[tls]
cert_file = "{server_cert.cert}"
key_file = "{server_cert.key}"
client_ca_file = "{pki.ca}"
{ACCESS}"""
    config = parse_config(tomllib.loads(text), source="test-tls")
    config = replace(
        config,
        policy=TEST_POLICY,
        server=replace(config.server, grpc_port=0, http_port=0, grace=0.5, probe_interval=0.0),
    )
    running = await start_embedded(config, mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


def channel(bus: Embedded, pki: Pki, client: Issued | None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        pki.ca.read_bytes(),
        client.key.read_bytes() if client else None,
        client.cert.read_bytes() if client else None,
    )
    return grpc.aio.secure_channel(f"localhost:{bus.bus.grpc_port}", credentials)


def context(purpose: str, **fields: str) -> bus_pb2.RequestContext:
    return bus_pb2.RequestContext(operator_id="officer-7", purpose=purpose, **fields)


async def query(
    ch: grpc.aio.Channel,
    registry: str,
    operation: str,
    why: bus_pb2.RequestContext,
    metadata: Sequence[tuple[str, str]] = (),
    **params: str,
) -> bus_pb2.QueryResponse:
    request = bus_pb2.QueryRequest(
        registry=registry, operation=operation, params=params, context=why
    )
    try:
        response: bus_pb2.QueryResponse = await bus_pb2_grpc.RegistryBusStub(ch).Query(
            request, timeout=10, metadata=tuple(metadata)
        )
    except grpc.aio.AioRpcError as exc:
        raise failure(exc) from exc
    return response


async def refused(
    ch: grpc.aio.Channel,
    registry: str,
    operation: str,
    why: bus_pb2.RequestContext,
    metadata: Sequence[tuple[str, str]] = (),
    **params: str,
) -> CallFailed:
    with pytest.raises(CallFailed) as caught:
        await query(ch, registry, operation, why, metadata, **params)
    return caught.value


async def test_police_tablets_run_roadside_check_and_see_the_narcology_answer_as_yes_or_no(
    bus: Embedded, pki: Pki
) -> None:
    tablet = pki.issue("police-tablets")
    async with channel(bus, pki, tablet) as ch:
        request = bus_pb2.ComposeRequest(
            profile="roadside_check", params={"iin": DAUREN}, context=context("roadside_check")
        )
        response = await bus_pb2_grpc.RegistryBusStub(ch).Compose(request, timeout=10)
        parts = {p.step: p for p in response.parts}
        assert all(p.WhichOneof("result") == "response" for p in response.parts), response
        narcology = parts["narcology"].response.record.register_check
        assert narcology.registered and narcology.register == "narcology"
        # Since when and where are the registry's answer too, but not the purpose's to see.
        assert not narcology.HasField("registered_on") and narcology.dispensary == ""
        assert not parts["psychiatry"].response.record.register_check.registered
        # Other registries are seen whole.
        person = parts["person"].response.record.person
        assert person.last_name == "Zhaksylykov" and person.HasField("birth_date")
        # Compose still feeds later steps from what the caller does not see: the plate.
        assert parts["insurance"].params["plate"] == "777KZA09"

        answer = await query(
            ch, "narcology", "check_registration", context("roadside_check"), iin=DAUREN
        )
        assert answer.record.register_check.registered
        assert not answer.record.register_check.HasField("registered_on")


async def test_the_same_client_asking_for_a_health_summary_is_denied_before_any_call(
    bus: Embedded, pki: Pki
) -> None:
    tablet = pki.issue("police-tablets")
    before = dict(bus.mocks.requests)
    async with channel(bus, pki, tablet) as ch:
        denied = await refused(ch, "health", "get_summary", context("roadside_check"), iin=ARMAN)
        assert denied.code == "PERMISSION_DENIED"
        assert denied.reason == "RESTRICTED_REGISTRY"
        assert denied.registry == "health"
        assert denied.metadata["missing_right"] == "restricted health.get_summary"
        assert denied.metadata["client"] == "police-tablets"
        assert "police-tablets" in denied.message and "health.get_summary" in denied.message
        assert not denied.retryable

        other = await refused(ch, "zags", "list_acts", context("roadside_check"), iin=ARMAN)
        assert other.reason == "OPERATION_NOT_ALLOWED"
        assert other.metadata["missing_right"] == "registries zags.list_acts"

        purpose = await refused(
            ch, "vehicles", "get_vehicle", context("citizen_service"), plate="123ABC01"
        )
        assert purpose.code == "PERMISSION_DENIED" and purpose.reason == "PURPOSE_NOT_ALLOWED"
        assert purpose.metadata["missing_right"] == "purposes citizen_service"
        # In a Compose, each part the client may not call is a denied part; the rest answer.
        request = bus_pb2.ComposeRequest(
            profile="citizen_profile", params={"iin": ARMAN}, context=context("roadside_check")
        )
        composed = await bus_pb2_grpc.RegistryBusStub(ch).Compose(request, timeout=10)
        parts = {p.step: p for p in composed.parts}
        assert parts["person"].WhichOneof("result") == "response"
        assert parts["person"].response.record.person.iin == ARMAN
        assert parts["civil_acts"].error.reason == "OPERATION_NOT_ALLOWED"
        assert parts["civil_acts"].error.metadata["missing_right"] == "registries zags.list_acts"
    before["gbdfl"] += 1  # the Compose's person
    assert bus.mocks.requests == before  # no other registry heard of any of them
    async with httpx.AsyncClient(verify=_verify(pki)) as http:
        metrics = (await http.get(f"https://localhost:{bus.bus.http_port}/metrics")).text
    denials = [
        line
        for line in metrics.splitlines()
        if line.startswith("regbus_requests_total{")
        and 'registry="health"' in line
        and 'outcome="restricted_registry"' in line
        and 'error="denied"' in line
    ]
    assert [line.rsplit(" ", 1)[1] for line in denials] == ["1.0"], metrics


async def test_a_call_without_a_client_certificate_is_refused_at_the_handshake(
    bus: Embedded, pki: Pki
) -> None:
    async with channel(bus, pki, None) as ch:
        no_cert = await refused(ch, "vehicles", "get_vehicle", context("demo"), plate="123ABC01")
    assert no_cert.code == "UNAVAILABLE" and not no_cert.reason
    target = f"127.0.0.1:{bus.bus.grpc_port}"
    async with grpc.aio.insecure_channel(target) as ch:
        plain = await refused(ch, "vehicles", "get_vehicle", context("demo"), plate="123ABC01")
    assert plain.code == "UNAVAILABLE"
    # A certificate from another CA does not pass either.
    stranger = Pki(pki.folder / "other", "another CA").issue("police-tablets")
    async with channel(bus, pki, stranger) as ch:
        other_ca = await refused(ch, "vehicles", "get_vehicle", context("demo"), plate="123ABC01")
    assert other_ca.code == "UNAVAILABLE"


async def test_a_certificate_that_names_no_declared_client_is_unauthenticated(
    bus: Embedded, pki: Pki
) -> None:
    async with channel(bus, pki, pki.issue("stranger", dns=["stranger.example"])) as ch:
        nobody = await refused(
            ch, "vehicles", "get_vehicle", context("roadside_check"), plate="123ABC01"
        )
        assert nobody.code == "UNAUTHENTICATED"
        assert "stranger.example" in nobody.message
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await bus_pb2_grpc.RegistryBusStub(ch).ListRegistries(
                bus_pb2.ListRegistriesRequest(), timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_client_is_named_by_a_subject_alternative_name_and_the_request_cannot_rename_it(
    bus: Embedded, pki: Pki
) -> None:
    desk = pki.issue("Centre 01, desk 3", dns=["desk-01.centre.kz"])
    async with channel(bus, pki, desk) as ch:
        why = context("citizen_service")
        answer = await query(ch, "gbdfl", "get_person", why, iin=ARMAN)
        assert answer.record.person.first_name == "Arman"
        same = await query(
            ch,
            "gbdfl",
            "get_person",
            context("citizen_service", client_id="centre-desk"),
            iin=ARMAN,
        )
        assert same.record.person.iin == ARMAN
        posing = await refused(
            ch,
            "gbdfl",
            "get_person",
            context("citizen_service", client_id="police-tablets"),
            iin=ARMAN,
        )
        assert posing.code == "INVALID_ARGUMENT" and posing.reason == "CLIENT_MISMATCH"
        assert posing.metadata["field"] == "context.client_id"
        listed = await bus_pb2_grpc.RegistryBusStub(ch).ListRegistries(
            bus_pb2.ListRegistriesRequest(), timeout=5
        )
        assert "health" in {r.id for r in listed.registries}


async def test_a_request_without_operator_purpose_or_case_number_is_invalid(
    bus: Embedded, pki: Pki
) -> None:
    desk = pki.issue("desk", dns=["desk-01.centre.kz"])
    before = dict(bus.mocks.requests)
    async with channel(bus, pki, desk) as ch:
        cases = [
            (bus_pb2.RequestContext(purpose="citizen_service"), "context.operator_id"),
            (bus_pb2.RequestContext(operator_id="op-1"), "context.purpose"),
            (context("investigation"), "context.case_number"),
            (context("no_such_purpose"), "context.purpose"),
        ]
        for why, field in cases:
            bad = await refused(ch, "gbdfl", "get_person", why, iin=ARMAN)
            assert bad.code == "INVALID_ARGUMENT", (why, bad)
            assert bad.metadata["field"] == field
            assert bad.violations[0]["field"] == field
        unknown = await refused(ch, "gbdfl", "get_person", context("no_such_purpose"), iin=ARMAN)
        assert unknown.reason == "UNKNOWN_PURPOSE"
        assert "citizen_service, investigation" in unknown.message
        compose = bus_pb2.ComposeRequest(
            profile="citizen_profile", params={"iin": ARMAN}, context=bus_pb2.RequestContext()
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await bus_pb2_grpc.RegistryBusStub(ch).Compose(compose, timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        answered = await query(
            ch, "gbdfl", "get_person", context("investigation", case_number="2026-0042"), iin=ARMAN
        )
        assert answered.record.person.iin == ARMAN
    assert bus.mocks.requests["gbdfl"] == before["gbdfl"] + 1


async def test_consent_by_a_one_time_code_texted_through_the_mobile_registry(
    bus: Embedded, pki: Pki
) -> None:
    desk = pki.issue("desk", dns=["desk-01.centre.kz"])
    mobile = bus.mocks.registries["mobile"]
    health_calls = bus.mocks.requests["health"]
    why = context("citizen_service")
    async with channel(bus, pki, desk) as ch:
        missing = await refused(ch, "health", "get_summary", why, iin=ARMAN)
        assert missing.code == "FAILED_PRECONDITION" and missing.reason == "CONSENT_REQUIRED"
        assert CODE_HEADER in missing.message and "mobile.send_code" in missing.message
        assert bus.mocks.requests["health"] == health_calls

        sent = await query(
            ch, "mobile", "send_code", why, iin=ARMAN, idempotency_key="consent-test-0001"
        )
        code_id = sent.record.code_sent.code_id
        code = next(s.code for s in mobile.outbox if s.code_id == code_id)  # type: ignore[attr-defined]
        wrong = "000000" if code != "000000" else "111111"

        bad = await refused(
            ch, "health", "get_summary", why, [(CODE_HEADER, f"{code_id}:{wrong}")], iin=ARMAN
        )
        assert bad.reason == "CONSENT_REQUIRED" and "2 attempts left" in bad.message

        given = [(CODE_HEADER, f"{code_id}:{code}")]
        answer = await query(ch, "health", "get_summary", why, given, iin=ARMAN)
        assert answer.record.health.iin == ARMAN
        assert bus.mocks.requests["health"] == health_calls + 1

        again = await refused(ch, "health", "get_summary", why, given, iin=ARMAN)
        assert again.reason == "CONSENT_REQUIRED" and "send a new one" in again.message

        # A code texted to someone else is no consent for Arman's record.
        other = await query(
            ch, "mobile", "send_code", why, iin=ZHANSAYA, idempotency_key="consent-test-0002"
        )
        other_id = other.record.code_sent.code_id
        other_code = next(s.code for s in mobile.outbox if s.code_id == other_id)  # type: ignore[attr-defined]
        theirs = await refused(
            ch, "health", "get_summary", why, [(CODE_HEADER, f"{other_id}:{other_code}")], iin=ARMAN
        )
        assert theirs.reason == "CONSENT_REQUIRED" and ZHANSAYA in theirs.message
    assert bus.mocks.requests["health"] == health_calls + 1


async def test_the_http_side_is_served_over_tls(bus: Embedded, pki: Pki) -> None:
    url = f"https://localhost:{bus.bus.http_port}/healthz"
    async with httpx.AsyncClient(verify=_verify(pki)) as http:
        assert (await http.get(url, timeout=5)).status_code == 200
        with pytest.raises(httpx.HTTPError):
            await http.get(f"http://localhost:{bus.bus.http_port}/healthz", timeout=5)


async def test_regbus_compose_with_a_client_certificate(
    bus: Embedded, pki: Pki, tmp_path: Path
) -> None:
    """What an officer's tablet runs, from the command line."""
    tablet = pki.issue("police-tablets")
    tls = ["--ca", str(pki.ca), "--cert", str(tablet.cert), "--key", str(tablet.key)]
    target = ["--target", f"localhost:{bus.bus.grpc_port}"]
    code, out, err = await regbus(
        "compose", "roadside_check", f"iin={DAUREN}", "--purpose", "roadside_check", *tls, *target
    )
    assert code == 0, err
    narcology = next(line for line in out.splitlines() if line.startswith("narcology "))
    assert narcology.rstrip().endswith("ON the narcology register"), narcology
    code, _, err = await regbus(
        "call",
        "health",
        "get_summary",
        f"iin={ARMAN}",
        "--purpose",
        "roadside_check",
        *tls,
        *target,
    )
    assert code == 1 and '"PERMISSION_DENIED"' in err and "restricted health" in err
    code, _, err = await regbus("call", "vehicles", "get_vehicle", "plate=123ABC01", *target)
    assert code == 3 and "TLS" in err


def _verify(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca))
