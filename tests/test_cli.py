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
    registries, profiles = out.split("\n\n")
    lines = registries.splitlines()
    assert lines[0].split()[:3] == ["REGISTRY", "PROTOCOL", "BREAKER"]
    assert {"gbdfl", "zags", "vehicles", "insurance"} <= {line.split()[0] for line in lines[1:]}
    gbdfl = next(line for line in lines if line.startswith("gbdfl "))
    assert "personal" in gbdfl.split()
    assert profiles.splitlines()[0].split() == ["PROFILE", "KEYS", "STEPS"]
    roadside = next(line for line in profiles.splitlines() if line.startswith("roadside_check"))
    assert "iin or plate" in roadside and "insurance.get_policy" in roadside


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


async def test_compose_prints_a_table_of_parts_then_the_records(embedded: Embedded) -> None:
    target = f"127.0.0.1:{embedded.bus.grpc_port}"
    code, out, _ = await regbus("compose", "roadside_check", "iin=771130308916", "--target", target)
    assert code == 0, out
    summary, table, *records = out.split("\n\n")
    assert summary == "roadside_check iin=771130308916: 8 part(s), 0 failed"
    rows = {line.split()[0]: line for line in table.splitlines()[1:] if line.strip()}
    assert "ON the narcology register" in rows["narcology"]
    assert "revoked" in rows["licence"]
    assert "777KZA09 expired" in rows["insurance"]
    assert "inspection 777KZA09: expired" in rows["inspection"]
    assert "criminal" not in rows  # not part of a roadside check
    assert any(block.startswith("person (gbdfl.get_person iin=771130308916):") for block in records)
    code, out, _ = await regbus(
        "compose", "roadside_check", "plate=777KZA09", "--json", "--target", target
    )
    parts = json.loads(out)["parts"]
    person = next(p for p in parts if p["step"] == "person")
    assert person["response"]["record"]["person"]["iin"] == "771130308916"


async def test_compose_refuses_an_unknown_profile_naming_the_known(embedded: Embedded) -> None:
    target = f"127.0.0.1:{embedded.bus.grpc_port}"
    code, _, err = await regbus("compose", "roadside", "iin=771130308916", "--target", target)
    assert code == 1
    assert "roadside_check" in err and "INVALID_ARGUMENT" in err


async def test_demo_tells_the_roadside_and_citizen_stories() -> None:
    code, out, err = await regbus("demo")
    assert code == 0, err
    roadside = out.split("$ regbus compose roadside_check iin=771130308916", 1)[1]
    roadside = roadside.split("$ regbus compose", 1)[0]
    assert "ON the narcology register" in roadside
    assert "revoked" in roadside and "777KZA09 expired" in roadside
    by_plate = out.split("$ regbus compose roadside_check plate=777KZA09", 1)[1]
    assert "Dauren Maratuly Zhaksylykov" in by_plate.split("$ regbus", 1)[0]
    citizen = out.split("$ regbus compose citizen_profile iin=850314354052", 1)[1]
    citizen = citizen.split("\n4. ", 1)[0]
    assert "Arman Serikuly Akhmetov" in citizen
    assert "permanent registration" in citizen
    assert citizen.count(" ok ") >= 5, citizen
