"""The command line as a user runs it, against a running bus and mocks."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from regbus.bus.embedded import Embedded
from regbus.mocks.faults import parse_fault


async def regbus(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_call_prints_the_record_as_json(embedded: Embedded) -> None:
    target = f"127.0.0.1:{embedded.bus.grpc_port}"
    code, out, _ = await regbus(
        "call", "gbdfl", "get_person", "iin=850314354052", "--target", target
    )
    assert code == 0
    body = json.loads(out)
    assert body["record"]["person"]["first_name"] == "Arman"
    assert body["source"]["registry"] == "gbdfl"


async def test_call_reports_invalid_input_and_not_found(embedded: Embedded) -> None:
    target = f"127.0.0.1:{embedded.bus.grpc_port}"
    code, _, err = await regbus(
        "call", "gbdfl", "get_person", "iin=850314354053", "--target", target
    )
    assert code == 1
    error = json.loads(err)["error"]
    assert (error["code"], error["reason"], error["registry"]) == (
        "INVALID_ARGUMENT",
        "INVALID_IIN",
        "gbdfl",
    )
    code, _, err = await regbus(
        "call", "gbdfl", "get_person", "iin=940512410508", "--target", target
    )
    assert code == 1
    assert json.loads(err)["error"]["code"] == "NOT_FOUND"


async def test_call_without_a_bus_says_so() -> None:
    code, _, err = await regbus(
        "call",
        "gbdfl",
        "get_person",
        "iin=850314354052",
        "--target",
        "127.0.0.1:1",
        "--timeout",
        "2",
    )
    assert code == 3
    assert "cannot reach the bus" in err


async def test_fault_changes_a_mock_and_rejects_bad_modes(embedded: Embedded) -> None:
    mocks = embedded.mocks_url.removeprefix("http://")
    code, out, _ = await regbus("fault", "gbdfl", "slow=150", "--mocks", mocks)
    assert (code, out.strip()) == (0, "gbdfl: slow=150")
    assert str(embedded.mocks.faults.get("gbdfl")) == "slow=150"
    code, _, err = await regbus("fault", "gbdfl", "sideways", "--mocks", mocks)
    assert code == 2 and "unknown fault mode" in err
    code, _, err = await regbus("fault", "nosuch", "down", "--mocks", mocks)
    assert code == 1 and "no mock registry" in err
    assert str(embedded.mocks.faults.get("gbdfl")) == "slow=150"  # bad input changed nothing


async def test_fault_without_a_mode_shows_what_the_server_has(embedded: Embedded) -> None:
    mocks = embedded.mocks_url.removeprefix("http://")
    embedded.mocks.faults.set("zags", parse_fault("errors=0.5"))
    code, out, _ = await regbus("fault", "--mocks", mocks)
    assert code == 0
    assert dict(line.split(": ", 1) for line in out.splitlines()) == (
        embedded.mocks.faults.snapshot()
    )
    code, out, _ = await regbus("fault", "zags", "--mocks", mocks)
    assert (code, out.strip()) == (0, "zags: errors=0.5")
    code, _, err = await regbus("fault", "--mocks", "127.0.0.1:1")
    assert code == 1 and "no mock registries answer at 127.0.0.1:1" in err


async def test_registries_table(embedded: Embedded) -> None:
    target = f"127.0.0.1:{embedded.bus.grpc_port}"
    code, out, _ = await regbus("registries", "--target", target)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["REGISTRY", "PROTOCOL", "BREAKER"]
    assert {"gbdfl", "zags", "vehicles", "insurance"} <= {line.split()[0] for line in lines[1:]}


async def test_serve_on_a_port_in_use_says_which(embedded: Embedded) -> None:
    code, _, err = await regbus(
        "serve", "--grpc-port", str(embedded.bus.grpc_port), "--http-port", "0", "--mocks-port", "0"
    )
    assert code == 1
    assert f"cannot listen for gRPC on 127.0.0.1:{embedded.bus.grpc_port}" in err
    assert "Traceback" not in err
    mocks_port = embedded.mocks_url.rsplit(":", 1)[1]
    code, _, err = await regbus("serve", "--grpc-port", "0", "--mocks-port", mocks_port)
    assert code == 1
    assert f"cannot run the mock registries on 127.0.0.1:{mocks_port}" in err


async def test_serve_refuses_a_population_for_registries_a_config_names(tmp_path: Path) -> None:
    config = tmp_path / "bus.toml"
    config.write_text('[registries.gbdfl]\nurl = "http://127.0.0.1:9/gbdfl"\n')
    code, _, err = await regbus("serve", "--config", str(config), "--population", "5")
    assert code == 2
    assert "--population" in err and "regbus mocks --population" in err
