"""Regenerate the Python code for the regbus contract.

Usage: python contracts/generate.py [OUT_DIR]

Writes ``regbus/v1/*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py`` under
OUT_DIR (default: this folder). The test suite runs it into a temporary
folder and fails when the checked-in code has drifted from the .proto files.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOS = sorted(p.relative_to(HERE).as_posix() for p in (HERE / "regbus").rglob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) and return the files it wrote."""
    from grpc_tools import protoc

    include = str(resources.files("grpc_tools") / "_proto")
    out = str(out_dir)
    args = [
        "protoc",
        f"-I{HERE}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *PROTOS,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    return sorted(p for p in out_dir.rglob("*_pb2*.py*"))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in generate(target):
        print(path)
