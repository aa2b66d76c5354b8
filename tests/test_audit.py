"""The audit log's parts: entries and their canonical encoding, the chain hash, signed
checkpoints, the ``[audit]`` settings, and the writer's group commit."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from regbus.adapters.base import CallContext
from regbus.bus.audit.entry import (
    FIELDS,
    GENESIS,
    MAX_TEXT,
    Entry,
    canonical,
    chain_hash,
    dumps,
    iso_time,
    seal,
    subjects_of,
)
from regbus.bus.audit.errors import AuditError, AuditUnavailable
from regbus.bus.audit.lookup import lookups
from regbus.bus.audit.settings import MEMORY, AuditSettings
from regbus.bus.audit.signing import Checkpoint, load_signer, load_verifier, public_path
from regbus.bus.audit.sqlite import SqliteStore
from regbus.bus.audit.store import COLUMNS, open_store
from regbus.bus.audit.verify import verify
from regbus.bus.audit.writer import AuditLog
from regbus.bus.config import ConfigError, load_layers, parse_config

IIN = "771130308916"
CONTEXT = CallContext("req-1", "desk-17", "op-4411", "benefit check", "C-2026-42")
CHARS = [*(chr(c) for c in range(0x180)), "€", "😀", "\u2028", '"', "\\", "\n", "Ё"]


def entry(n: int = 0, **changes: object) -> Entry:
    base = Entry.of(CONTEXT, "gbdfl", "get_person", {"iin": IIN}, "none", "ok", 1.7e9 + n)
    return base._replace(**changes)  # type: ignore[arg-type]


def _text(rng: random.Random) -> str:
    return "".join(rng.choices(CHARS, k=rng.randint(0, 8)))


# entries and the chain ----------------------------------------------------------------------


def test_the_canonical_encoding_is_sorted_compact_ascii_json_of_the_fields_and_prev() -> None:
    fields = entry().fields()
    assert list(fields) == list(FIELDS)
    data = canonical(fields, GENESIS)
    assert (
        data
        == json.dumps(
            {**fields, "prev": GENESIS}, sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    )
    assert data.startswith(b'{"case_number":"C-2026-42","client":"desk-17",')
    assert chain_hash(fields, GENESIS) == hashlib.sha256(data).hexdigest()


def test_the_writers_shortcut_is_the_canonical_encoding_exactly() -> None:
    rng = random.Random(7)
    prev = GENESIS
    for n in range(2000):
        params = {_text(rng): rng.choice([_text(rng), IIN, "850314354052", ""]) for _ in range(3)}
        e = Entry(
            rng.uniform(0, 4e9),
            *(_text(rng) for _ in range(6)),
            params,
            _text(rng),
            _text(rng),
            _text(rng),
        )
        if n % 50 == 0:
            e = e._replace(purpose="x" * (MAX_TEXT + n))
        sealed = seal(e, prev)
        fields = e.fields()
        assert sealed.hash == chain_hash(fields, prev), e
        stored = dict(zip(COLUMNS[1:], sealed.values, strict=True))
        for name in FIELDS:
            value = fields[name]
            assert stored[name] == (dumps(value) if name in ("params", "subjects") else value)
        assert (stored["prev_hash"], stored["hash"]) == (prev, sealed.hash)
        assert sealed.subjects == fields["subjects"]
        prev = sealed.hash


def test_a_callers_text_stays_in_its_field() -> None:
    forged = 'x","outcome":"ok","purpose":"nothing to see\n2026-01-01 client=other'
    fields = entry(purpose=forged, params={"iin": IIN, 'a":"b': '"}'}).fields()
    decoded = json.loads(canonical(fields, GENESIS))
    assert decoded["purpose"] == forged
    assert decoded["outcome"] == "ok" and decoded["params"] == {"iin": IIN, 'a":"b': '"}'}
    assert b"\n" not in canonical(fields, GENESIS)


def test_every_byte_of_an_entry_is_in_its_hash() -> None:
    fields = entry().fields()
    digest = chain_hash(fields, GENESIS)
    for name in FIELDS:
        changed = dict(fields)
        value = changed[name]
        if isinstance(value, str):
            changed[name] = value[:-1] + ("Y" if value[-1:] != "Y" else "Z") if value else "x"
        elif isinstance(value, dict):
            changed[name] = {**value, "iin": IIN[:-1] + "7"}
        else:
            changed[name] = [*value, "000000000000"]
        assert chain_hash(changed, GENESIS) != digest, name
    assert chain_hash(fields, "1" * 64) != digest


def test_an_entry_of_a_refused_call_carries_its_class_and_reason() -> None:
    refused = Entry.of(CONTEXT, "gbdfl", "get_person", {"iin": "1"}, "invalid", "invalid_iin", 1.0)
    assert (refused.outcome, refused.reason) == ("invalid", "INVALID_IIN")
    answered = Entry.of(CONTEXT, "gbdfl", "get_person", {}, "none", "ok", 1.0)
    assert (answered.outcome, answered.reason) == ("ok", "")


def test_subjects_are_the_twelve_digit_values_each_once() -> None:
    params = {"mother_iin": IIN, "father_iin": "850314354052", "x": IIN, "plate": "123ABC01"}
    assert subjects_of(params) == ["771130308916", "850314354052"]
    assert subjects_of({"iin": "٧٧١١٣٠٣٠٨٩١٦", "bin": "12345678901"}) == []


def test_long_text_is_cut_and_says_so() -> None:
    fields = entry(purpose="p" * (MAX_TEXT + 10), params={"k" * 100: "v"}).fields()
    assert fields["purpose"].endswith("…[10 more characters]")
    assert list(fields["params"]) == ["k" * 64 + "…[36 more characters]"]
    many = {f"p{i}": "v" for i in range(100_000)}
    kept = Entry.of(CONTEXT, "gbdfl", "get_person", many, "invalid", "too_many", 1.0).params
    assert list(kept)[-2:] == ["p31", "…"] and kept["…"] == "[99968 more parameters]"
    assert entry(params=kept).fields()["params"] == kept


def test_time_is_iso_utc_with_microseconds() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000000Z"
    assert iso_time(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"
    assert iso_time(1_700_000_000.9999996) == "2023-11-14T22:13:21.000000Z"


# keys and checkpoints -----------------------------------------------------------------------


def test_a_missing_key_is_made_for_its_owner_only_with_a_public_half(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit.key"
    signer, created = load_signer(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created = load_signer(path)
    assert not created and again.key_id == signer.key_id
    assert load_verifier(public_path(path)).key_id == signer.key_id
    assert load_verifier(path).key_id == signer.key_id


def test_a_checkpoint_verifies_and_any_change_breaks_it(tmp_path: Path) -> None:
    signer, _ = load_signer(tmp_path / "k")
    checkpoint = Checkpoint(3, 3000, "a" * 64, iso_time(1.7e9), "", "").signed(signer)
    verifier = load_verifier(public_path(tmp_path / "k"))
    assert checkpoint.key_id == signer.key_id and verifier.verify(checkpoint)
    for change in (
        {"number": 4},
        {"last_seq": 2999},
        {"last_hash": "b" * 64},
        {"time": iso_time(1.8e9)},
        {"signature": "00" + checkpoint.signature[2:]},
        {"signature": "not hex"},
    ):
        assert not verifier.verify(checkpoint.__class__(**{**checkpoint.__dict__, **change}))
    other, _ = load_signer(tmp_path / "other")
    assert not other.verifier.verify(checkpoint)


def test_a_file_that_is_not_a_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text("hello")
    with pytest.raises(AuditError, match=r"audit\.key is not an Ed25519"):
        load_verifier(path)
    with pytest.raises(AuditError, match="cannot read"):
        load_verifier(tmp_path / "absent.key")


# settings -------------------------------------------------------------------------------------


def test_audit_is_on_by_default_in_a_sqlite_file_of_the_state_folder(tmp_path: Path) -> None:
    config = parse_config({})
    assert config.audit.enabled
    environ = {"REGBUS_STATE_DIR": str(tmp_path)}
    assert config.audit.location(environ) == str(tmp_path / "regbus-audit.sqlite3")
    assert config.audit.key_path(environ) == tmp_path / "regbus-audit.key"
    assert AuditSettings().location({}) == "regbus-audit.sqlite3"


def test_the_audit_section_and_its_variables(tmp_path: Path) -> None:
    config = parse_config(
        {"audit": {"store": "sqlite:///var/lib/regbus/a.db", "checkpoint_every": 10}}
    )
    assert config.audit.location({}) == "/var/lib/regbus/a.db"
    assert config.audit.key_path({}) == Path("/var/lib/regbus/regbus-audit.key")
    assert parse_config({"audit": {"store": "logs/a.db"}}).audit.location({}) == "logs/a.db"
    pg = parse_config({"audit": {"store": "postgresql://u@db/regbus", "key_file": "/k"}}).audit
    assert pg.is_postgres() and pg.location({}) == "postgresql://u@db/regbus"
    assert pg.key_path({}) == Path("/k")
    environ = {"REGBUS_AUDIT__CHECKPOINT_SECONDS": "5", "REGBUS_AUDIT__STORE": MEMORY}
    layered = load_layers([], environ).audit
    assert (layered.checkpoint_seconds, layered.store) == (5.0, MEMORY)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"stor": "x"}, r"unknown key audit\.stor \(known: checkpoint_every"),
        ({"store": "mysql://db/x"}, r"audit\.store must be empty .* got 'mysql://db/x'"),
        ({"checkpoint_every": 0}, r"audit\.checkpoint_every must be 1 or more entries, got 0"),
        ({"checkpoint_seconds": "60"}, r"audit\.checkpoint_seconds must be float, got '60'"),
        ({"enabled": 1}, r"audit\.enabled must be bool, got 1"),
        ({"sync": "off"}, r"audit\.sync must be one of full, normal, got 'off'"),
    ],
)
def test_a_bad_audit_setting_is_named_with_its_file(
    tmp_path: Path, table: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"audit": table}, source="bus.toml")
    path = tmp_path / "bus.toml"
    key, value = next(iter(table.items()))
    path.write_text(f"[audit]\n{key} = {json.dumps(value)}\n")
    with pytest.raises(ConfigError, match=f"{path.name}: {message}"):
        load_layers([path], {})


@pytest.mark.parametrize(("sync", "pragma"), [(None, 2), ("normal", 1), ("full", 2)])
def test_sqlite_commits_are_synced_as_configured(
    tmp_path: Path, sync: str | None, pragma: int
) -> None:
    """FULL (2) unless [audit] sync = "normal" (1): what a commit's acknowledgement means."""
    table = {"store": str(tmp_path / "a.sqlite3")} | ({"sync": sync} if sync else {})
    store = open_store(parse_config({"audit": table}).audit)
    store.open()
    try:
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == pragma
    finally:
        store.close()


# the writer -----------------------------------------------------------------------------------


async def test_concurrent_calls_share_commits_and_get_their_own_seqs(tmp_path: Path) -> None:
    audit = AuditLog(SqliteStore(str(tmp_path / "a.sqlite3")), tmp_path / "k")
    await audit.start()
    try:
        seqs = await asyncio.gather(*(audit.record(entry(n)) for n in range(300)))
    finally:
        await audit.aclose()
    assert seqs == list(range(1, 301))  # in the order the calls were recorded
    assert audit.batches < 300 / 4  # grouped: most commits served many calls
    store = SqliteStore(str(tmp_path / "a.sqlite3"))
    store.attach()
    report = verify(store, load_verifier(tmp_path / "k"))
    assert report.ok and report.entries == 300
    assert report.checkpoints[-1].last_seq == 300  # closing signed the tail


async def test_a_failed_commit_refuses_its_calls_and_the_next_ones_go_on(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "a.sqlite3"))
    audit = AuditLog(store, None)
    await audit.start()
    real = store.append
    broken = [True]

    def append(entries: list[Entry], now: float) -> int:
        if broken[0]:
            broken[0] = False
            raise OSError("disk full")
        return real(entries, now)

    store.append = append  # type: ignore[method-assign]
    try:
        with pytest.raises(AuditUnavailable, match="could not be recorded"):
            await audit.record(entry(1))
        assert await audit.record(entry(2)) == 1
    finally:
        await audit.aclose()
    with pytest.raises(AuditUnavailable, match="not running"):
        await audit.record(entry(3))


async def test_a_cancelled_caller_still_gets_its_entry_written(tmp_path: Path) -> None:
    store = SqliteStore(MEMORY)
    audit = AuditLog(store, None)
    await audit.start()
    try:
        call = asyncio.create_task(audit.record(entry(1)))
        await asyncio.sleep(0)
        call.cancel()
        assert await audit.record(entry(2)) == 2
    finally:
        await audit.aclose()


async def test_the_tail_is_signed_after_a_quiet_spell(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "a.sqlite3"), checkpoint_every=1000, checkpoint_seconds=0.2)
    audit = AuditLog(store, tmp_path / "k")
    await audit.start()
    try:
        await audit.record(entry(1))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await asyncio.to_thread(_checkpoints, tmp_path / "a.sqlite3"):
                break
        assert await asyncio.to_thread(_checkpoints, tmp_path / "a.sqlite3") == [1]
    finally:
        await audit.aclose()


def _checkpoints(path: Path) -> list[int]:
    store = SqliteStore(str(path))
    store.attach()
    try:
        return [c.last_seq for c in store.checkpoints()]
    finally:
        store.close()


async def test_each_checkpoint_is_logged_as_an_anchor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStore(str(tmp_path / "a.sqlite3"), checkpoint_every=2)
    audit = AuditLog(store, tmp_path / "k")
    await audit.start()
    try:
        with caplog.at_level("INFO", logger="regbus.bus.audit"):
            for n in range(3):
                await audit.record(entry(n))
    finally:
        await audit.aclose()
    assert stat.S_IMODE((tmp_path / "a.sqlite3").stat().st_mode) == 0o600
    anchors = [r.getMessage() for r in caplog.records if "audit checkpoint" in r.getMessage()]
    assert anchors[0].startswith("audit checkpoint 1 signed at entry 2; anchor: 2:")
    seq, digest = anchors[0].rsplit(" ", 1)[1].split(":")
    reader = SqliteStore(str(tmp_path / "a.sqlite3"))
    reader.attach()
    assert verify(reader, load_verifier(tmp_path / "k"), anchors=[(int(seq), digest)]).ok


# the bus ----------------------------------------------------------------------------------------


async def test_no_answer_leaves_the_bus_without_its_entry(tmp_path: Path) -> None:
    import grpc

    from regbus.bus.embedded import start_embedded
    from regbus.v1 import bus_pb2, bus_pb2_grpc
    from tests.conftest import TEST_CONFIG

    config = replace(TEST_CONFIG, audit=AuditSettings(store=str(tmp_path / "a.sqlite3")))
    running = await start_embedded(config, mocks_port=0)
    try:
        assert running.bus.audit is not None
        store = running.bus.audit.store

        def broken(entries: list[Entry], now: float) -> int:
            raise AuditError("disk full")

        store.append = broken  # type: ignore[method-assign]
        request = bus_pb2.QueryRequest(
            registry="gbdfl",
            operation="get_person",
            params={"iin": IIN},
            context=bus_pb2.RequestContext(operator_id="op", purpose="demo"),
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.bus.grpc_port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await bus_pb2_grpc.RegistryBusStub(channel).Query(request, timeout=10)
    finally:
        await running.stop()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "could not be recorded in the audit log" in (caught.value.details() or "")


async def test_a_slow_audit_log_never_keeps_an_answer_past_the_deadline(tmp_path: Path) -> None:
    """A commit that hangs (a slow disk) ends the call before the caller's deadline with
    AUDIT_UNAVAILABLE, not a transport timeout; its entry is written all the same."""
    import threading

    import grpc

    from regbus.bus.embedded import start_embedded
    from regbus.v1 import bus_pb2, bus_pb2_grpc
    from tests.conftest import TEST_CONFIG

    config = replace(TEST_CONFIG, audit=AuditSettings(store=str(tmp_path / "a.sqlite3")))
    running = await start_embedded(config, mocks_port=0)
    stalled = threading.Event()
    try:
        assert running.bus.audit is not None
        store = running.bus.audit.store
        append = store.append

        def slow(entries: list[Entry], now: float) -> int:
            stalled.wait(5)  # until the call has ended
            return append(entries, now)

        store.append = slow  # type: ignore[method-assign]
        request = bus_pb2.QueryRequest(
            registry="gbdfl",
            operation="get_person",
            params={"iin": IIN},
            context=bus_pb2.RequestContext(operator_id="op", purpose="demo", request_id="slow-1"),
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.bus.grpc_port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await bus_pb2_grpc.RegistryBusStub(channel).Query(request, timeout=1.0)
        stalled.set()
        store.append = append  # type: ignore[method-assign]
    finally:
        stalled.set()
        await running.stop()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value
    assert "did not confirm the call's entry before the caller's deadline" in (
        caught.value.details() or ""
    )
    reader = SqliteStore(str(tmp_path / "a.sqlite3"))
    reader.attach()
    assert [e.request_id for e in lookups(reader, IIN)] == ["slow-1"]


def test_the_kubernetes_replicas_share_one_chain_and_one_key(tmp_path: Path) -> None:
    from tests.test_deploy_files import bus_container, configmap_config, manifest

    audit = configmap_config(tmp_path).audit
    assert audit.enabled and audit.is_postgres()  # replicas cannot share a SQLite file
    container = bus_container()
    mount = next(m for m in container["volumeMounts"] if m["name"] == "audit")
    assert audit.key_path().parent == Path(mount["mountPath"]) and mount["readOnly"]
    volumes = manifest("deployment.yaml")["spec"]["template"]["spec"]["volumes"]
    secret = next(v["secret"] for v in volumes if v["name"] == "audit")
    assert [item["path"] for item in secret["items"]] == [audit.key_path().name]
    store = next(e for e in container["env"] if e["name"] == "REGBUS_AUDIT__STORE")
    assert store["valueFrom"]["secretKeyRef"]["name"] == secret["secretName"]
