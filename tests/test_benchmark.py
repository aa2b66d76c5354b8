"""benchmarks/bench_h2load.py: its parsing, and one tiny end-to-end run when h2load is here.

The run asserts behaviour only (every check passed, every figure present); timings on a
shared test machine mean nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_h2load.py"

H2LOAD_SUMMARY = """\
finished in 2.00s, 4321.50 req/s, 1.01MB/s
requests: 8643 total, 8771 started, 8643 done, 8640 succeeded, 3 failed, 0 errored, 0 timeout
status codes: 8640 2xx, 0 3xx, 0 4xx, 3 5xx
traffic: 2.03MB (2126178) total, 126.06KB (129087) headers (space savings 93.18%), \
1.68MB (1763172) data
"""


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_h2load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_grpc_frame_is_length_prefixed(bench: ModuleType) -> None:
    assert bench.grpc_frame(b"abc") == b"\x00\x00\x00\x00\x03abc"


def test_h2load_summary_is_read_and_failures_are_problems(bench: ModuleType) -> None:
    result = bench.parse_h2load(H2LOAD_SUMMARY)
    assert (result.seconds, result.done, result.succeeded, result.failed) == (2.0, 8643, 8640, 3)
    assert result.status_other == 3
    assert result.data_bytes == 1763172
    assert result.rate == 4320.0
    assert result.problems  # failed requests and 5xx answers fail the run
    with pytest.raises(ValueError):
        bench.parse_h2load("connect failed")


def test_cpu_of_this_process_is_read_from_proc(bench: ModuleType) -> None:
    before = bench.tree_cpu(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.1:
        pass
    assert bench.tree_cpu(os.getpid()) - before >= 0.05  # clock ticks are 10 ms


def test_missing_h2load_says_how_to_install() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--h2load", "/nonexistent/h2load"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "apt-get install nghttp2-client" in run.stderr


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) not installed")
def test_tiny_run_end_to_end(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    tiny = (
        "--requests 200 --warmup 0.2 -c 2 -m 4 --scenarios vehicles --calls 10"
        " --compose-calls 5 --hang-callers 4 --hang-deadline 0.3 --workers 0"
    )
    run = subprocess.run(
        [sys.executable, str(BENCH), *tiny.split(), "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(figures.read_text())
    assert report["failures"] == []
    (row,) = report["throughput"]
    assert row["registry"] == "vehicles"
    assert row["ratio_to_bare"] > 0
    assert row["cpu_ms_per_call_bus"] is not None and row["cpu_ms_per_call_bare"] is not None
    assert row["raw"]["bus"]["bus_outcomes"]["ok"] >= 200  # the bus saw gRPC OK for every call
    assert report["latency"][0]["registry"] == "vehicles"
    assert report["compose"]["slowest_part"]
    ended = report["isolation"]["gbdfl_calls_ended"]
    assert "OK" not in ended and sum(ended.values()) > 0  # a hanging gbdfl answers nobody
    assert "ratio to bare" in run.stdout
