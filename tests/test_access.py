"""Access without TLS: signed bearer tokens and consent tokens, the rights as configured, field
views on records, and where the bus agrees to listen (``regbus serve`` as a user runs it)."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from regbus.adapters.base import CallContext
from regbus.adapters.errors import InvalidContext, PermissionDenied
from regbus.adapters.health import HEALTH
from regbus.adapters.vehicles import VEHICLES
from regbus.bus.access import exposure_problem, parse_access
from regbus.bus.client import CallFailed
from regbus.bus.config import Config, ConfigError, ServerSettings, parse_config
from regbus.bus.consent import TOKEN_HEADER
from regbus.bus.embedded import Embedded, start_embedded
from regbus.bus.minimise import field_view
from regbus.bus.plugins import discover
from regbus.bus.rights import Rights, RightsError
from regbus.v1 import bus_pb2, bus_pb2_grpc, records_pb2
from tests.conftest import CONTEXT, TEST_POLICY
from tests.test_cli import regbus
from tests.test_every_registry import serve
from tests.test_tls import query

ARMAN, ZHANSAYA = "850314354052", "010101660915"
ISSUER, AUDIENCE, CONSENT_ISSUER = "https://idp.test", "regbus", "https://consent.test"


@dataclass
class Signer:
    """A key of a token issuer, its key set written as a JWKS file."""

    kid: str
    key: ec.EllipticCurvePrivateKey
    jwks: Path

    @classmethod
    def make(cls, folder: Path, kid: str) -> Signer:
        key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        path = folder / f"{kid}.jwks.json"
        path.write_text(json.dumps({"keys": [public | {"kid": kid, "alg": "ES256", "use": "sig"}]}))
        return cls(kid, key, path)

    def token(self, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300} | claims
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.key, algorithm="ES256", headers={"kid": kid or self.kid})


@pytest.fixture(scope="module")
def signers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Signer]:
    folder = tmp_path_factory.mktemp("keys")
    return {kid: Signer.make(folder, kid) for kid in ("idp-1", "other", "consent-1")}


ACCESS = """
[clients.police-tablets]
registries = ["vehicles"]
purposes = ["roadside_check"]

[clients.centre-desk]
registries = ["gbdfl", "mobile"]
restricted = ["health"]
purposes = ["citizen_service"]

[purposes.roadside_check]
[purposes.citizen_service]
consent = ["health"]
"""


@pytest.fixture
async def bus(signers: dict[str, Signer]) -> AsyncIterator[Embedded]:
    text = f"""
[jwt]
jwks_file = "{signers["idp-1"].jwks}"
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
leeway = 0

[access]
consent_jwks_file = "{signers["consent-1"].jwks}"
consent_issuer = "{CONSENT_ISSUER}"
{ACCESS}"""
    config = parse_config(tomllib.loads(text), source="test-jwt")
    config = replace(
        config,
        policy=TEST_POLICY,
        server=ServerSettings(grpc_port=0, http_port=0, grace=0.5, probe_interval=0.0),
    )
    running = await start_embedded(config, mocks_port=0)
    try:
        yield running
    finally:
        await running.stop()


async def call(
    bus: Embedded,
    registry: str,
    operation: str,
    metadata: Sequence[tuple[str, str]],
    purpose: str = "roadside_check",
    **params: str,
) -> bus_pb2.QueryResponse:
    why = bus_pb2.RequestContext(operator_id="op-1", purpose=purpose)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus.bus.grpc_port}") as channel:
        return await query(channel, registry, operation, why, metadata, **params)


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


async def test_a_signed_token_names_the_client(bus: Embedded, signers: dict[str, Signer]) -> None:
    token = signers["idp-1"].token(sub="police-tablets")
    for _ in range(2):  # the second time from memory
        answer = await call(bus, "vehicles", "get_vehicle", bearer(token), plate="123ABC01")
        assert answer.record.vehicle.plate == "123ABC01"
    by_claim = signers["idp-1"].token(sub="someone", client_id="police-tablets")
    answer = await call(bus, "vehicles", "get_vehicle", bearer(by_claim), plate="123ABC01")
    assert answer.record.vehicle.plate == "123ABC01"


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.test"}, "issuer"),
        ({"exp": None}, "'exp'"),
    ],
)
async def test_a_token_that_does_not_hold_is_unauthenticated(
    bus: Embedded, signers: dict[str, Signer], claims: dict[str, Any], says: str
) -> None:
    before = dict(bus.mocks.requests)
    token = signers["idp-1"].token(sub="police-tablets", **claims)
    with pytest.raises(CallFailed) as caught:
        await call(bus, "vehicles", "get_vehicle", bearer(token), plate="123ABC01")
    assert caught.value.code == "UNAUTHENTICATED" and says in caught.value.message
    assert bus.mocks.requests == before


async def test_unknown_keys_forged_signatures_and_no_token_are_unauthenticated(
    bus: Embedded, signers: dict[str, Signer]
) -> None:
    cases = [
        (bearer(signers["other"].token(sub="police-tablets")), "not a known one"),
        (bearer(signers["other"].token(kid="idp-1", sub="police-tablets")), "signature"),
        (bearer("not-a-token"), "not a signed JWT"),
        ([("authorization", "Basic cG9saWNlOnB3")], "Bearer"),
        ([], "bearer token"),
    ]
    for metadata, says in cases:
        with pytest.raises(CallFailed) as caught:
            await call(bus, "vehicles", "get_vehicle", metadata, plate="123ABC01")
        assert caught.value.code == "UNAUTHENTICATED", metadata
        assert says in caught.value.message, caught.value.message


async def test_a_token_for_a_client_not_declared_is_denied(
    bus: Embedded, signers: dict[str, Signer]
) -> None:
    token = signers["idp-1"].token(sub="nobody")
    with pytest.raises(CallFailed) as caught:
        await call(bus, "vehicles", "get_vehicle", bearer(token), plate="123ABC01")
    assert caught.value.code == "PERMISSION_DENIED" and caught.value.reason == "UNKNOWN_CLIENT"


async def test_consent_by_a_signed_consent_token(bus: Embedded, signers: dict[str, Signer]) -> None:
    desk = bearer(signers["idp-1"].token(sub="centre-desk"))
    consent = signers["consent-1"]

    def given(**claims: Any) -> list[tuple[str, str]]:
        token = consent.token(iss=CONSENT_ISSUER, aud=None, **claims)
        return [*desk, (TOKEN_HEADER, token)]

    answer = await call(
        bus, "health", "get_summary", given(sub=ARMAN), "citizen_service", iin=ARMAN
    )
    assert answer.record.health.iin == ARMAN
    scoped = given(sub=ARMAN, purpose="citizen_service", scope="health.get_summary")
    answer = await call(bus, "health", "get_summary", scoped, "citizen_service", iin=ARMAN)
    assert answer.record.health.iin == ARMAN
    cases = [
        (desk, "needs the person's consent"),
        (given(sub=ZHANSAYA), "not the subject"),
        (given(sub=ARMAN, exp=int(time.time()) - 60), "expired"),
        (given(sub=ARMAN, purpose="roadside_check"), "purpose"),
        (given(sub=ARMAN, scope="criminal"), "scope"),
        ([*desk, (TOKEN_HEADER, signers["other"].token(sub=ARMAN))], "not a known one"),
    ]
    for metadata, says in cases:
        with pytest.raises(CallFailed) as caught:
            await call(bus, "health", "get_summary", metadata, "citizen_service", iin=ARMAN)
        assert caught.value.code == "FAILED_PRECONDITION", says
        assert caught.value.reason == "CONSENT_REQUIRED" and says in caught.value.message


# The rights, compiled ---------------------------------------------------------------------


def rights(text: str) -> Rights:
    data = tomllib.loads(text)
    access = parse_access({}, data.get("clients", {}), data.get("purposes", {}), lambda *p: "t")
    return Rights(access, {rid: cls.spec for rid, cls in discover().items()})


def test_restricted_registries_are_granted_only_under_restricted() -> None:
    with pytest.raises(RightsError, match="narcology is a restricted registry"):
        rights('[clients.a]\nregistries = ["narcology"]')
    with pytest.raises(RightsError, match="vehicles is not a restricted registry"):
        rights('[clients.a]\nrestricted = ["vehicles"]')
    granted = rights(
        '[clients.a]\nregistries = ["*"]\npurposes = ["*"]\n[purposes.p]\n'
        '[clients.b]\nregistries = ["*"]\nrestricted = ["narcology.check_registration"]\n'
        'purposes = ["p"]'
    )
    a = CallContext("r", client_id="a", operator_id="op", purpose="p")
    assert granted.check(a, "vehicles", "get_vehicle").view is None
    with pytest.raises(PermissionDenied) as denied:
        granted.check(a, "narcology", "check_registration")
    assert denied.value.right == "restricted narcology.check_registration"
    b = replace(a, client_id="b")
    assert granted.check(b, "narcology", "check_registration").consent is False
    with pytest.raises(PermissionDenied, match=r"no right to health\.get_summary"):
        granted.check(b, "health", "get_summary")


def test_misspelt_names_stop_start_up() -> None:
    with pytest.raises(RightsError, match="no registry 'narcolgy'"):
        rights('[purposes.p.fields]\nnarcolgy = ["registered"]')
    with pytest.raises(RightsError, match="no field 'diagnosis'"):
        rights('[purposes.p.fields]\n"narcology.check_registration" = ["diagnosis"]')
    with pytest.raises(RightsError, match="no operation 'get_sumary'"):
        rights('[clients.a]\nrestricted = ["health.get_sumary"]')
    with pytest.raises(ConfigError, match="purposes names roadside, not declared"):
        parse_config({"clients": {"a": {"purposes": ["roadside"]}}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({"clients": {"a": {"registry": ["vehicles"]}}})
    with pytest.raises(ConfigError, match="names both"):
        parse_config({"clients": {"a": {}, "b": {"certificate_names": ["a"]}}})
    with pytest.raises(ConfigError, match="issuer and audience"):
        parse_config({"jwt": {"jwks_file": "keys.json"}})
    with pytest.raises(ConfigError, match="both cert_file and key_file"):
        parse_config({"tls": {"cert_file": "bus.crt"}})


def test_a_registry_list_of_fields_applies_to_each_operation_that_has_them() -> None:
    granted = rights(
        '[clients.a]\nregistries = ["vehicles"]\npurposes = ["p"]\n'
        '[purposes.p.fields]\nvehicles = ["plate", "make", "status"]'
    )
    context = CallContext("r", client_id="a", operator_id="op", purpose="p")
    one = granted.check(context, "vehicles", "get_vehicle").view
    listed = granted.check(context, "vehicles", "list_vehicles_by_owner").view
    assert one is not None and listed is not None
    record = records_pb2.Record()
    record.vehicles.vehicles.add(plate="777KZA09", vin="X", make="Lada", owner_iin=ARMAN)
    trimmed = listed.trimmed(record)
    assert trimmed.vehicles.vehicles[0].plate == "777KZA09"
    assert trimmed.vehicles.vehicles[0].make == "Lada"
    assert trimmed.vehicles.vehicles[0].owner_iin == "" and trimmed.vehicles.vehicles[0].vin == ""
    assert record.vehicles.vehicles[0].owner_iin == ARMAN  # the original is left whole


def test_nested_fields_and_whole_messages() -> None:
    view = field_view(HEALTH, "get_summary", ["iin", "vaccinations.vaccine"])
    assert view is not None
    record = records_pb2.Record()
    record.health.iin = ARMAN
    record.health.clinic = "Polyclinic 5"
    record.health.disability_group = "II"
    record.health.vaccinations.add(vaccine="BCG").date.year = 1985
    view.trim(record)
    assert record.health.iin == ARMAN and record.health.clinic == ""
    assert record.health.vaccinations[0].vaccine == "BCG"
    assert not record.health.vaccinations[0].HasField("date")
    assert field_view(VEHICLES, "get_vehicle", ["*"]) is None
    with pytest.raises(ValueError, match="has no fields"):
        field_view(VEHICLES, "get_vehicle", ["plate.number"])


def test_missing_context_fields_are_named() -> None:
    granted = rights('[clients.a]\nregistries = ["*"]\npurposes = ["*"]\n[purposes.p]')
    for context, field in [
        (CallContext("r", client_id="a", purpose="p"), "context.operator_id"),
        (CallContext("r", client_id="a", operator_id="op"), "context.purpose"),
        (CallContext("r", client_id="a", operator_id="op", purpose="q"), "context.purpose"),
    ]:
        with pytest.raises(InvalidContext) as caught:
            granted.check(context, "vehicles", "get_vehicle")
        assert caught.value.field == field


# Where the bus listens ----------------------------------------------------------------------


def test_without_authentication_the_bus_listens_on_loopback_only() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert exposure_problem(Config(server=ServerSettings(host=host))) is None
    exposed = Config(server=ServerSettings(host="0.0.0.0"), source="bus.toml")
    problem = exposure_problem(exposed)
    assert problem is not None and "bus.toml authenticates no caller" in problem
    assert "[tls]" in problem and "client_ca_file" in problem and "[jwt]" in problem
    embedded = exposure_problem(exposed, embedded=True)
    assert embedded is not None and "synthetic" in embedded and "--demo" in embedded
    demo = replace(exposed, server=ServerSettings(host="0.0.0.0", demo=True))
    assert exposure_problem(demo) is None
    jwt_only = parse_config(
        {
            "server": {"host": "0.0.0.0"},
            "jwt": {"jwks_file": "k.json", "issuer": "i", "audience": "a"},
        }
    )
    assert exposure_problem(jwt_only) is None
    tls_only = parse_config(
        {"server": {"host": "0.0.0.0"}, "tls": {"cert_file": "c", "key_file": "k"}}
    )
    assert exposure_problem(tls_only) is not None  # encrypted, but nobody identified


async def test_serve_without_a_configuration_refuses_a_public_host_and_says_why() -> None:
    code, out, err = await regbus("serve", "--host", "0.0.0.0", "--mocks-port", "0")
    assert code == 2, err
    assert "refusing to serve on 0.0.0.0" in err and "synthetic demo data" in err
    assert "--demo" in err and out == ""


async def test_serve_with_a_configuration_without_authentication_refuses_a_public_host(
    tmp_path: Path,
) -> None:
    config = tmp_path / "regbus.toml"
    config.write_text('[registries.vehicles]\nurl = "http://127.0.0.1:9/vehicles/"\n')
    code, _, err = await regbus("serve", "--config", str(config), "--host", "0.0.0.0")
    assert code == 2, err
    assert "authenticates no caller" in err and "[tls]" in err and "docs/security.md" in err


async def test_serve_without_a_configuration_says_it_serves_synthetic_data() -> None:
    """And with --demo it serves the demo on every address, as it says."""
    async with serve("--host", "0.0.0.0", "--demo", "--mocks-port", "0") as (stub, process):
        request = bus_pb2.QueryRequest(
            registry="vehicles",
            operation="get_vehicle",
            params={"plate": "123ABC01"},
            context=CONTEXT,
        )
        answer = await stub.Query(request, timeout=10)
        assert answer.record.vehicle.plate == "123ABC01"
        process.terminate()
        assert process.stderr is not None
        err = (await process.stderr.read()).decode()
    assert "DEMO MODE" in err and "SYNTHETIC data" in err
    assert "every call is client 'demo'" in err


def test_the_documented_example_loads_and_is_served_on_every_address() -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "security.toml"
    config = parse_config(tomllib.loads(example.read_text("utf-8")), source=str(example))
    assert exposure_problem(config) is None and config.tls.mutual
    granted = Rights(config.access, {rid: cls.spec for rid, cls in discover().items()})
    officer = CallContext(
        "r", client_id="police-tablets", operator_id="o", purpose="roadside_check"
    )
    view = granted.check(officer, "narcology", "check_registration").view
    assert view is not None and set(view.keep) == {"iin", "register", "registered"}
    with pytest.raises(PermissionDenied):
        granted.check(officer, "health", "get_summary")
    desk = replace(officer, client_id="centre-01", purpose="citizen_service")
    assert granted.check(desk, "health", "get_summary").consent  # [access] consent
    assert granted.check(desk, "pension", "get_contributions").consent  # the purpose's
    assert not granted.check(desk, "gbdfl", "get_person").consent
    investigator = replace(officer, client_id="investigators", purpose="investigation")
    with pytest.raises(InvalidContext, match="case number"):
        granted.check(investigator, "criminal", "get_record")
    grant = granted.check(replace(investigator, case_number="K-1"), "criminal", "get_record")
    assert grant.case_number and not grant.consent


async def test_calls_refused_before_any_registry_are_audited_too(
    bus: Embedded, signers: dict[str, Signer]
) -> None:
    """No token, a request naming another client, a Compose without its operator: each is
    refused in the servicer, before the router, and still gets its audit entry."""
    from regbus.bus.audit.lookup import lookups
    from regbus.bus.audit.sqlite import SqliteStore

    token = signers["idp-1"].token(sub="police-tablets")
    with pytest.raises(CallFailed) as unauthenticated:
        await call(bus, "gbdfl", "get_person", [("x-request-id", "refused-1")], iin=ARMAN)
    named_other = bus_pb2.QueryRequest(
        registry="gbdfl",
        operation="get_person",
        params={"iin": ARMAN},
        context=bus_pb2.RequestContext(
            client_id="centre-desk", operator_id="op-1", purpose="roadside_check",
            request_id="refused-2",
        ),
    )  # fmt: skip
    no_operator = bus_pb2.ComposeRequest(
        profile="roadside_check",
        params={"iin": ARMAN},
        context=bus_pb2.RequestContext(purpose="roadside_check", request_id="refused-3"),
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bus.bus.grpc_port}") as channel:
        stub = bus_pb2_grpc.RegistryBusStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as mismatch:
            await stub.Query(named_other, timeout=10, metadata=bearer(token))
        with pytest.raises(grpc.aio.AioRpcError) as incomplete:
            await stub.Compose(no_operator, timeout=10, metadata=bearer(token))
    assert unauthenticated.value.code == "UNAUTHENTICATED"
    assert mismatch.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert incomplete.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    assert bus.bus.audit is not None
    reader = SqliteStore(str(bus.bus.audit.store.location))
    reader.attach()
    found = {e.request_id: e for e in lookups(reader, ARMAN) if e.request_id.startswith("refused-")}
    assert sorted(found) == ["refused-1", "refused-2", "refused-3"]
    first, second, third = found["refused-1"], found["refused-2"], found["refused-3"]
    assert (first.client, first.registry, first.reason) == ("", "gbdfl", "UNAUTHENTICATED")
    assert (second.client, second.reason) == ("police-tablets", "CLIENT_MISMATCH")
    assert (third.registry, third.operation) == ("compose", "profile roadside_check")
    assert third.client == "police-tablets" and third.outcome == "invalid"
