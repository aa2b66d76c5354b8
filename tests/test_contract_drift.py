"""The checked-in generated code matches the .proto files."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"


def test_generated_code_has_not_drifted(tmp_path: Path) -> None:
    generate = runpy.run_path(str(CONTRACTS / "generate.py"))["generate"]
    written = generate(tmp_path)
    assert written, "protoc wrote nothing"
    for fresh in written:
        relative = fresh.relative_to(tmp_path)
        checked_in = CONTRACTS / relative
        assert checked_in.exists(), f"{relative} is generated but not checked in"
        assert checked_in.read_bytes() == fresh.read_bytes(), (
            f"{relative} differs from the .proto files: run python contracts/generate.py"
        )
