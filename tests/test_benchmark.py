"""benchmarks/bench_h2load.py: its parsing, and one tiny end-to-end run when h2load is here.

The run asserts behaviour only (every check passed, every figure present); timings on a
shared test machine mean nothing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
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


def test_derived_configurations_load_with_their_changes(bench: ModuleType) -> None:
    from regbus.bus.config import parse_config

    base = (
        '[server]\nhost = "127.0.0.1"\ngrpc_port = 50051\n\n'
        '[registries.gbdfl]\nurl = "http://127.0.0.1:9/gbdfl"\n'
    )
    text = bench.derived_config(
        base,
        server={"breaker_store": "redis://127.0.0.1:6379/0", "breaker_prefix": "bench:x:"},
        tables={"policy": {"timeout": 0.5}, "registries.gbdfl.policy.breaker": {"fail_max": 99}},
    )
    config = parse_config(tomllib.loads(text))
    assert config.server.breaker_store == "redis://127.0.0.1:6379/0"
    assert config.server.breaker_prefix == "bench:x:"
    assert config.server.grpc_port == 50051  # what was there stays
    assert config.policy.timeout == 0.5
    assert config.registries["gbdfl"].policy.timeout == 0.5
    assert config.registries["gbdfl"].policy.breaker.fail_max == 99


def test_rss_sampler_sees_this_process_grow(bench: ModuleType) -> None:
    with bench.RssSampler(os.getpid(), every=0.01) as rss:
        time.sleep(0.05)
        before = time.perf_counter()
        block = b"\x01" * (64 * 2**20)  # written, so resident
        time.sleep(0.1)
        after = time.perf_counter()
    assert len(block) == 64 * 2**20
    baseline = rss.peak(0.0, before)
    assert baseline > 0
    assert rss.peak(before, after) - baseline >= 48 * 1024  # KiB


def test_one_workers_counters_are_read_from_its_own_file(bench: ModuleType, tmp_path: Path) -> None:
    """What a worker of `regbus serve --workers N` counts, written the way it writes it."""
    from regbus.monitoring.metrics import MULTIPROC_ENV

    script = (
        "import os\n"
        "from regbus.monitoring.metrics import Metrics\n"
        "m = Metrics()\n"
        "for _ in range(3): m.request('gbdfl', 'get_person', 'circuit_open', 0.001)\n"
        "m.request('vehicles', 'get_vehicle', 'circuit_open', 0.001)\n"
        "for _ in range(2): m.attempt('gbdfl', 'get_person', 'timeout', 0.5)\n"
        "print(os.getpid())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, MULTIPROC_ENV: str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(run.stdout)
    counts = bench.worker_counters(tmp_path, pid, "gbdfl")
    assert counts == {"requests/circuit_open": 3, "attempts/timeout": 2}
    assert bench.worker_counters(tmp_path, pid + 1, "gbdfl") == {}  # no such worker
    assert bench.worker_counters(None, pid, "gbdfl") == {}


def test_new_lines_say_what_was_measured(bench: ModuleType) -> None:
    huge = {
        "answer_mb": 50.0, "concurrent_calls": 5, "rounds": 5, "calls": 25,
        "max_answer_bytes": 4 * 2**20, "gbdfl_calls_ended": {"ANSWER_TOO_LARGE": 25},
        "refused_answer_too_large": 25, "huge_phase_s": 0.2, "bus_rss_growth_mb": 38.2,
        "vehicles_huge_over_normal_p50": 1.43, "vehicles_callers": 8,
        "vehicles_calls_huge": 60, "vehicles_calls_normal": 2000,
    }  # fmt: skip
    assert bench.huge_line(huge).startswith(
        "huge answers: 5 x 50 MB concurrent, 25/25 refused ANSWER_TOO_LARGE,"
        " bus peak RSS +38 MB, vehicles p50 x1.4 of normal"
    )
    huge["gbdfl_calls_ended"] = {"ANSWER_TOO_LARGE": 20, "CIRCUIT_OPEN": 5}
    huge["refused_answer_too_large"] = 20
    assert "20/25 refused ANSWER_TOO_LARGE (others: CIRCUIT_OPEN 5)" in bench.huge_line(huge)
    worker = {
        "worker": 0, "opening_calls": 6, "opening_registry_timeouts": 5,
        "refused_circuit_open": 100, "registry_timeouts": 0,
    }  # fmt: skip
    shared = {
        "workers": 2, "policy_timeout_s": 0.5, "opening_calls": {"CIRCUIT_OPEN": 1},
        "callers": 64, "deadline_s": 1.0, "connections": 16, "seconds": 3.0, "calls": 200,
        "circuit_open": 190, "calls_ended": {"CIRCUIT_OPEN": 190, "REGISTRY_TIMEOUT": 10},
        "every_worker_refused": False, "redis_record": "open",
        "per_worker": [worker, {**worker, "worker": 1, "refused_circuit_open": 0}],
    }  # fmt: skip
    line = bench.shared_line(shared)
    assert "190/200 calls ended CIRCUIT_OPEN, other: REGISTRY_TIMEOUT 10" in line
    assert "every worker refused with CIRCUIT_OPEN: no" in line
    assert "[policy] timeout = 0.5 s" in line and "Redis record: open" in line


def test_shared_breakers_are_skipped_with_a_note_without_redis(
    bench: ModuleType, tmp_path: Path
) -> None:
    settings = bench.settings_from(
        bench.parse_args(["--breaker-store", "redis://127.0.0.1:1/0"]), sys.executable
    )
    procs = bench.Processes(tmp_path)
    run = bench.Bench(settings, procs, tmp_path)
    asyncio.run(run.shared_breakers())
    assert run.report.shared_breakers is None and not run.report.failures
    (note,) = run.report.notes
    assert "Redis is not reachable at redis://127.0.0.1:1/0" in note and "skipped" in note
    assert not procs.running  # no bus was started


def test_short_timeout_must_fire_within_the_deadlines() -> None:
    options = ["--hang-deadline", "0.5", "--short-timeout", "0.5"]
    run = subprocess.run(
        # any executable as h2load: the options are checked before it runs
        [sys.executable, str(BENCH), *options, "--h2load", sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "--short-timeout" in run.stderr


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
        " --compose-calls 5 --hang-callers 4 --hang-deadline 0.4 --short-timeout 0.2"
        " --huge-mb 8 --huge-rounds 2 --steady-callers 4 --steady-seconds 0.5 --workers 0"
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
    # With gbdfl's own timeout inside the callers' deadlines its breaker opens.
    short = report["isolation_short_timeout"]
    assert short["policy_timeout_s"] == 0.2
    assert "OK" not in short["gbdfl_calls_ended"]
    assert short["gbdfl_calls_ended"].get("UNAVAILABLE/CIRCUIT_OPEN", 0) > 0
    assert report["fail_fast_short_timeout"]["open_breaker_p50_ms"] > 0
    huge = report["huge"]
    assert huge["gbdfl_calls_ended"] == {"ANSWER_TOO_LARGE": 10}  # 5 calls, twice
    assert huge["bus_rss_peak_mb"] > 0 and huge["vehicles_calls_normal"] > 0
    assert "ratio to bare" in run.stdout
    assert "huge answers: 5 x 8 MB concurrent, 10/10 refused ANSWER_TOO_LARGE" in run.stdout
