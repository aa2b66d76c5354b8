"""A plain ``pip install .`` carries everything the program needs at run time, under
the one import name ``regbus``."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {  # repository folder -> package it installs as
    "adapters": "regbus/adapters",
    "bus": "regbus/bus",
    "circuit": "regbus/circuit",
    "monitoring": "regbus/monitoring",
    "mocks": "regbus/mocks",
    "contracts/regbus": "regbus",
}
DATA = {
    ".wsdl",
    ".xsd",
    ".json",
    ".yaml",
    ".toml",
    ".proto",
    ".pyi",
    ".typed",
    ".html",
    ".css",
    ".js",
}
# Operations files beside the code, not part of the program: deployment manifests, the
# Prometheus rules and the Grafana dashboard (docs/operations.md).
NOT_PACKAGED = ("monitoring/deploy", "monitoring/grafana", "monitoring/prometheus")


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-deps", "--no-build-isolation", "-q"],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", "-w", str(out), str(ROOT))
    (path,) = out.glob("regbus-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_only_the_regbus_namespace(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"regbus"}
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert wheel.read(top_level).decode().split() == ["regbus"]


def test_wheel_carries_every_module_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.relative_to(ROOT).as_posix().startswith(NOT_PACKAGED):
                continue
            if path.suffix == ".py" or path.suffix in DATA:
                inside = path.relative_to(ROOT / folder).as_posix()
                assert f"{package}/{inside}" in names, f"{folder}/{inside} missing from the wheel"
    entry_points = wheel.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[regbus.adapters]" in entry_points
    for registry in ("gbdfl", "zags", "vehicles", "insurance"):
        assert f"{registry} = regbus.adapters." in entry_points
    assert "[regbus.mocks]" in entry_points
    for registry in ("gbdfl", "zags", "vehicles", "insurance"):
        assert f"{registry} = regbus.mocks.{registry}:" in entry_points
    assert "regbus = regbus.bus.cli:main" in entry_points


def test_installed_copy_answers_only_to_regbus(tmp_path: Path) -> None:
    target = tmp_path / "site"
    _pip("install", "--target", str(target), str(ROOT))
    probe = (
        "import importlib, regbus, regbus.bus.cli, regbus.adapters, regbus.mocks.server\n"
        "print(regbus.__file__)\n"
        "for name in ('bus', 'adapters', 'circuit', 'monitoring', 'mocks'):\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError:\n"
        "        continue\n"
        "    raise SystemExit(f'{name} is importable')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,  # away from the repository's folders
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith(str(target))
