"""A plain ``pip install .`` carries everything the program needs at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_code_contracts_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("regbus-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "regbus/v1/bus.proto",
        "regbus/v1/records.proto",
        "regbus/v1/bus_pb2.py",
        "regbus/v1/bus_pb2_grpc.py",
        "bus/cli.py",
        "mocks/data/population.json",
    ):
        assert required in names, f"{required} missing from the wheel"
    # Every data file the adapters and mocks read must be in the wheel too.
    for folder in ("adapters", "mocks"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".wsdl", ".xsd", ".json", ".yaml"}:
                relative = path.relative_to(ROOT).as_posix()
                assert relative in names, f"{relative} missing from the wheel"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[regbus.adapters]" in text
    for registry in ("gbdfl", "zags", "vehicles"):
        assert f"{registry} = " in text
    assert "regbus = bus.cli:main" in text
