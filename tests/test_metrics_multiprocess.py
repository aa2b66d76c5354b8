"""Metrics exposition: one process as before, and several (``regbus serve --workers N``)
summed through prometheus_client's multiprocess mode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from regbus.monitoring.metrics import MULTIPROC_ENV, Metrics

# Some traffic through a bus's metrics `m`: `calls` answered queries, `in_flight` calls
# held, the gbdfl breaker moved to `breaker`.
TRAFFIC = """
m.info.info({"version": "1.2.3"})
m.register_registry("gbdfl", 20, ["get_person"])
m.register_profiles(["person"])
m.set_ready(True)
for _ in range(calls):
    m.request("gbdfl", "get_person", "ok", 0.02, "none")
    m.attempt("gbdfl", "get_person", "ok", 0.02)
    m.answer_sizes("gbdfl")(1500)
m.request("gbdfl", "get_person", "not_found", 0.01, "business")
m.retry("gbdfl", "get_person", "TIMEOUT")
m.rejected("gbdfl", "circuit_open")
m.probe("gbdfl", False)
m.compose("person", False, 0.05)
m.rpc_started("regbus.v1.RegistryBus", "Query", "unary")()
m.rpc_handled("regbus.v1.RegistryBus", "Query", "unary", "NOT_FOUND")(0.01)
m.in_flight("gbdfl", in_flight)
if breaker != "closed":
    m.breaker_transition("gbdfl", "closed", breaker)
"""
# Families of the process that answers the scrape (prometheus_client's standard
# collectors): the same in both expositions, with values of their own.
PER_PROCESS = ("process_", "python_gc_")
# One worker: that traffic, then its exposition on stdout. prometheus_client picks
# multiprocess mode when it is imported, so a worker has to be its own process.
WORKER = (
    """
import json, os, sys
from prometheus_client import generate_latest
from regbus.monitoring.metrics import Metrics

calls, in_flight, breaker = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
m = Metrics()
"""
    + TRAFFIC
    + """
print(json.dumps({"pid": os.getpid(), "text": generate_latest(m.exposition).decode()}))
"""
)


def _worker(folder: Path, calls: int, in_flight: int, breaker: str) -> tuple[int, str]:
    env = {**os.environ, MULTIPROC_ENV: str(folder)}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(calls), str(in_flight), breaker],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    body = json.loads(result.stdout)
    return int(body["pid"]), str(body["text"])


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def promtool_check(text: str) -> None:
    """``promtool check metrics`` on ``text``, where promtool is installed."""
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (set PROMTOOL or put it on PATH)")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _single(calls: int = 1, in_flight: int = 1, breaker: str = "open") -> str:
    m = Metrics()
    exec(TRAFFIC, {"m": m, "calls": calls, "in_flight": in_flight, "breaker": breaker})
    assert m.multiprocess_dir is None
    assert m.exposition is m.registry
    return generate_latest(m.exposition).decode()


def test_one_process_exposes_its_own_registry_without_created_series() -> None:
    text = _single()
    ok = {"registry": "gbdfl", "operation": "get_person", "outcome": "ok", "error": "none"}
    assert value(text, "regbus_requests_total", **ok) == 1
    assert value(text, "regbus_breaker_state", registry="gbdfl", state="open") == 1
    assert value(text, "regbus_registry_up", registry="gbdfl") == 0
    assert value(text, "process_resident_memory_bytes") > 0
    assert value(text, "regbus_build_info", version="1.2.3") == 1
    assert "_created" not in text


def test_one_process_exposition_passes_promtool() -> None:
    promtool_check(_single())


def test_workers_metrics_sum_and_dead_workers_gauges_go(tmp_path: Path) -> None:
    first, _ = _worker(tmp_path, calls=3, in_flight=1, breaker="open")
    second, text = _worker(tmp_path, calls=4, in_flight=2, breaker="closed")
    assert first != second
    ok = {"registry": "gbdfl", "operation": "get_person", "outcome": "ok"}
    assert value(text, "regbus_requests_total", **ok, error="none") == 7
    assert value(text, "regbus_registry_attempts_total", **ok) == 7
    assert value(text, "regbus_answer_bytes_count", registry="gbdfl") == 7
    assert value(text, "regbus_probes_total", registry="gbdfl", outcome="failed") == 2
    assert value(text, "regbus_ready") == 1  # livemin: every live worker is ready
    # livemin: down while any live worker's breaker is not closed.
    assert value(text, "regbus_registry_up", registry="gbdfl") == 0
    assert value(text, "process_resident_memory_bytes") > 0  # of the worker that answered
    count = value(
        text, "regbus_request_duration_seconds_count", registry="gbdfl", operation="get_person"
    )
    assert count == 9  # 7 answered, 2 not found
    assert value(text, "regbus_bulkhead_in_flight", registry="gbdfl") == 3  # livesum
    assert value(text, "regbus_bulkhead_limit", registry="gbdfl") == 40  # two bulkheads of 20
    # livemax: a state is 1 while any worker's breaker is in it; here they disagree.
    assert value(text, "regbus_breaker_state", registry="gbdfl", state="open") == 1
    assert value(text, "regbus_breaker_state", registry="gbdfl", state="closed") == 1
    assert value(text, "regbus_breaker_transitions_total", registry="gbdfl", state="open") == 1
    assert value(text, "regbus_build_info", version="1.2.3") == 1
    assert "_created" not in text

    # The supervisor buries the first worker: its gauges go, its counts stay.
    multiprocess.mark_process_dead(first, str(tmp_path))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    after = generate_latest(registry).decode()
    assert value(after, "regbus_requests_total", **ok, error="none") == 7
    assert value(after, "regbus_registry_up", registry="gbdfl") == 1
    assert value(after, "regbus_bulkhead_in_flight", registry="gbdfl") == 2
    assert value(after, "regbus_bulkhead_limit", registry="gbdfl") == 20
    assert value(after, "regbus_breaker_state", registry="gbdfl", state="open") == 0
    assert value(after, "regbus_breaker_state", registry="gbdfl", state="closed") == 1


def test_workers_exposition_matches_one_process_and_passes_promtool(tmp_path: Path) -> None:
    _, text = _worker(tmp_path, calls=2, in_flight=1, breaker="open")
    single = _single(calls=2, in_flight=1, breaker="open")
    # The same families, types, series and values as one process; only HELP texts differ,
    # and the values of the process's own families.
    families = {f.name: f.type for f in text_string_to_metric_families(single)}
    assert {f.name: f.type for f in text_string_to_metric_families(text)} == families
    assert "process_cpu_seconds" in families and "python_info" in families

    def shared(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {k: v for k, v in samples(text).items() if not k[0].startswith(PER_PROCESS)}

    assert shared(text) == shared(single)
    promtool_check(text)
