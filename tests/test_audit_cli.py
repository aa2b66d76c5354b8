"""``regbus audit verify`` and ``regbus audit subject`` as a user runs them, on a log the
bus wrote: the bus started with ``regbus serve``, called, then asked who looked a person up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
from pathlib import Path

import grpc
import pytest

from regbus.bus.audit.settings import AuditSettings
from regbus.v1 import bus_pb2
from tests.test_audit_store import IIN, Log, drop_schema, in_schema, postgres_schema
from tests.test_every_registry import free_port, serve


async def regbus(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def config_file(tmp_path: Path, store: str) -> Path:
    path = tmp_path / "bus.toml"
    key = tmp_path / "audit.key"
    path.write_text(f"[audit]\nstore = {json.dumps(store)}\nkey_file = {json.dumps(str(key))}\n")
    return path


async def test_verify_says_intact_then_names_the_edited_entry(tmp_path: Path) -> None:
    store = str(tmp_path / "audit.sqlite3")
    key = tmp_path / "audit.key"
    Log(AuditSettings(store=store, checkpoint_every=5), key, "sqlite").write(12)
    config = str(config_file(tmp_path, store))
    code, out, err = await regbus("audit", "verify", "--config", config)
    assert (code, err) == (0, "")
    assert out.count("\n") == 1 and "intact, 12 entries (1-12), 2 checkpoints" in out
    with sqlite3.connect(store) as db:
        db.execute("UPDATE regbus_audit SET client = 'desk-18' WHERE seq = 9")
    code, out, _ = await regbus("audit", "verify", "--config", config)
    assert code == 1
    assert "NOT intact" in out and "entry 9 was edited" in out
    code, out, _ = await regbus("audit", "verify", "--config", config, "--json")
    body = json.loads(out)
    assert (code, body["intact"], body["problems"][0]["seq"]) == (1, False, 9)
    assert body["problems"][0]["kind"] == "edited"


async def test_verify_on_postgresql_names_the_edited_entry(tmp_path: Path) -> None:
    schema = postgres_schema()
    try:
        url = in_schema(schema)
        settings = AuditSettings(store=url, checkpoint_every=5)
        log = Log(settings, tmp_path / "audit.key", "postgresql")
        log.write(12)
        env = {"REGBUS_AUDIT__STORE": url, "REGBUS_AUDIT__KEY_FILE": str(log.key)}
        code, out, _ = await regbus("audit", "verify", env=env)
        assert code == 0 and "intact, 12 entries" in out, out
        log.sql("UPDATE regbus_audit SET purpose = 'check 3' WHERE seq = 5")  # was check 4
        code, out, _ = await regbus("audit", "verify", env=env)
        assert code == 1 and "entry 5 was edited" in out, out
        assert url.split("?")[0] in out
    finally:
        drop_schema(schema)


async def test_verify_cannot_check_without_a_log_or_a_key(tmp_path: Path) -> None:
    config = str(config_file(tmp_path, str(tmp_path / "none.sqlite3")))
    code, _, err = await regbus("audit", "verify", "--config", config)
    assert code == 2 and f"there is no audit log at {tmp_path / 'none.sqlite3'}" in err
    store = str(tmp_path / "audit.sqlite3")
    elsewhere = tmp_path / "elsewhere.key"
    Log(AuditSettings(store=store, checkpoint_every=5), elsewhere, "sqlite").write(6)
    code, _, err = await regbus("audit", "verify", "--config", str(config_file(tmp_path, store)))
    assert code == 2 and "no key to check the checkpoints' signatures" in err
    code, out, _ = await regbus(
        "audit",
        "verify",
        "--config",
        str(config_file(tmp_path, store)),
        "--public-key",
        str(tmp_path / "elsewhere.key.pub"),
    )
    assert code == 0 and "intact" in out
    code, _, err = await regbus("audit", "subject", "77113030891")
    assert code == 2 and "is not an IIN or BIN (12 digits)" in err
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    config = str(config_file(tmp_path, str(garbage)))
    code, _, err = await regbus("audit", "subject", IIN, "--config", config)
    assert code == 2 and f"audit log {garbage}: file is not a database" in err
    assert "Traceback" not in err


async def test_subject_lists_every_call_about_a_person(tmp_path: Path) -> None:
    store = str(tmp_path / "audit.sqlite3")
    Log(AuditSettings(store=store), tmp_path / "audit.key", "sqlite").write(6)
    config = str(config_file(tmp_path, store))
    code, out, _ = await regbus("audit", "subject", IIN, "--config", config)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{IIN}: 4 call(s) in the audit log {store}"
    assert lines[2].split() == [
        "when", "(UTC)", "client", "operator", "purpose", "case", "call", "outcome",
    ]  # fmt: skip
    assert lines[3].split()[2:] == [
        "desk-17", "op-4411", "check", "1", "C-42", "gbdfl.get_person", "ok",
    ]  # fmt: skip
    code, out, _ = await regbus("audit", "subject", IIN, "--config", config, "--json")
    found = [json.loads(line) for line in out.splitlines()]
    assert [f["seq"] for f in found] == [2, 3, 5, 6]
    assert found[0]["purpose"] == "check 1" and found[0]["intact"] is True
    code, out, _ = await regbus("audit", "subject", "000000000000", "--config", config)
    assert code == 0 and "no calls about 000000000000" in out


async def test_the_bus_records_every_call_and_tells_who_looked_a_person_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGBUS_STATE_DIR", str(tmp_path))
    # The client is the one the bus identifies (the demo client here), not one the
    # request names.
    context = bus_pb2.RequestContext(operator_id="op-e2e", purpose="demo", case_number="C-77")

    def query(registry: str, operation: str, **params: str) -> bus_pb2.QueryRequest:
        return bus_pb2.QueryRequest(
            registry=registry, operation=operation, params=params, context=context
        )

    async with serve("--mocks-port", str(free_port())) as (stub, process):
        answer = await stub.Query(query("gbdfl", "get_person", iin=IIN), timeout=10)
        assert answer.record.person.first_name == "Dauren"
        refused = [
            query("gbdfl", "get_person", iin=IIN, extra="1"),  # UNEXPECTED_PARAMETER
            query("gbdfl", "get_persons", iin=IIN),  # UNKNOWN_OPERATION
            query("gbdfl", "get_person", iin=IIN[:-1] + "7"),  # INVALID_IIN: another number
        ]
        for request in refused:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Query(request, timeout=10)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        composed = await stub.Compose(
            bus_pb2.ComposeRequest(
                parts=[
                    bus_pb2.ComposeRequest.Part(registry="gbdfl", operation="get_person"),
                    bus_pb2.ComposeRequest.Part(
                        registry="vehicles", operation="list_vehicles_by_owner"
                    ),
                ],
                params={"iin": IIN},
                context=context,
            ),
            timeout=10,
        )
        assert len(composed.parts) == 2
        # Read while the bus runs: every answered call is in the log already.
        code, out, err = await regbus("audit", "subject", IIN, "--json")
        assert code == 0, err
        running = [json.loads(line) for line in out.splitlines()]
        process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30)
    calls = [(f["registry"], f["operation"], f["outcome"], f["reason"]) for f in running]
    assert calls[:3] == [
        ("gbdfl", "get_person", "ok", ""),
        ("gbdfl", "get_person", "invalid", "UNEXPECTED_PARAMETER"),
        ("gbdfl", "get_persons", "invalid", "UNKNOWN_OPERATION"),
    ]
    assert sorted(calls[3:]) == [
        ("gbdfl", "get_person", "ok", ""),
        ("vehicles", "list_vehicles_by_owner", "ok", ""),
    ]
    for found in running:
        assert (found["operator"], found["purpose"], found["case_number"]) == (
            "op-e2e",
            "demo",
            "C-77",
        )
        assert "client" in found and found["intact"]
    code, out, _ = await regbus("audit", "subject", IIN)
    assert code == 0 and f"{IIN}: 5 call(s)" in out and "gbdfl.get_persons" in out
    code, out, _ = await regbus("audit", "subject", IIN[:-1] + "7")
    assert code == 0 and "invalid INVALID_IIN" in out
    code, out, _ = await regbus("audit", "verify")
    assert code == 0 and "intact, 6 entries (1-6)" in out, out
    assert "the last at entry 6" in out  # the bus signed its tail as it stopped
    assert (tmp_path / "regbus-audit.sqlite3").exists() and (tmp_path / "regbus-audit.key").exists()
