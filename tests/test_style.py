"""ruff and mypy stay clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where each folder sits inside the installed `regbus` package (pyproject's package-dir).
LAYOUT = {
    "bus": ROOT / "bus",
    "adapters": ROOT / "adapters",
    "circuit": ROOT / "circuit",
    "monitoring": ROOT / "monitoring",
    "mocks": ROOT / "mocks",
}


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy(tmp_path: Path) -> None:
    package = tmp_path / "regbus"
    package.mkdir()
    for path in (ROOT / "contracts" / "regbus").iterdir():
        (package / path.name).symlink_to(path)
    for name, folder in LAYOUT.items():
        (package / name).symlink_to(folder)
    result = _run("mypy", "--config-file", str(ROOT / "pyproject.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found" in result.stdout
