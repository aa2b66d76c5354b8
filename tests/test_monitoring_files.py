"""The monitoring files hold together: Prometheus's rules (monitoring/prometheus) pass
promtool's checks and their unit tests, the Grafana dashboard (monitoring/grafana) has the
expected shape, every PromQL expression in either parses, every metric they read is one
the bus exports, and every alert's runbook_url points at a section of docs/operations.md.

promtool has no command that parses a bare expression, so expressions are parsed by
wrapping each as a recording rule and running ``promtool check rules`` on the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from regbus.bus.embedded import Embedded
from regbus.v1 import bus_pb2, bus_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "monitoring" / "prometheus"
RULES = PROMETHEUS / "rules.yml"
RULE_TESTS = PROMETHEUS / "tests.yml"
GRAFANA = ROOT / "monitoring" / "grafana"
DASHBOARD = GRAFANA / "regbus.json"
PROVISIONING = GRAFANA / "provisioning"
OPERATIONS = ROOT / "docs" / "operations.md"

ALERTS = {
    "RegbusRegistryDown",
    "RegbusBreakerOpen",
    "RegbusErrorRatioHigh",
    "RegbusRegistrySlow",
    "RegbusNotReady",
    "RegbusRetryBudgetExhausted",
}
# Alerts about an instance of the bus as a whole; every other one names its registry.
BUS_ALERTS = {"RegbusNotReady"}


def promtool() -> str:
    """promtool's path. CI must have it (.ci/run installs it); elsewhere its absence skips."""
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if found is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("promtool is required under CI (Debian package prometheus; .ci/run)")
        pytest.skip("promtool is not installed (set PROMTOOL or put it on PATH)")
    return found


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def seconds(duration: str) -> float:
    """A Prometheus duration (``1m30s``) in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * units[u] for n, u in parts)


def headings(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors = set()
    for line in markdown.splitlines():
        if match := re.match(r"#{1,6}\s+(.*)", line):
            slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


# PromQL ------------------------------------------------------------------------------------

# Grafana's own interval variables; the dashboard's variables come from its templating.
GRAFANA_INTERVALS = ("$__rate_interval", "$__interval", "$__range")
# Words of PromQL that can stand where a metric name could, but are none.
PROMQL_WORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: every identifier left once strings, label
    matchers, ranges, grouping clauses and offsets are out, that is no PromQL keyword and
    is not called (a function or an aggregation is followed by its parenthesis)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    names = set()
    # Not after a word character or a dot: the `e3` of `1e3`, the `x1f` of `0x1f`.
    for match in re.finditer(r"(?<![\w:.])[A-Za-z_:][\w:]*", text):
        word = match.group()
        if word.lower() in PROMQL_WORDS or text[match.end() :].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def matchers(expr: str) -> Iterator[tuple[str, str]]:
    """(metric name, label name) of every label matcher on a named selector."""
    for selector in re.finditer(r"([A-Za-z_:][\w:]*)\s*\{([^{}]*)\}", expr):
        for label in re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", selector.group(2)):
            yield selector.group(1), label


def grafana_variables() -> dict[str, str]:
    """Each dashboard variable, as ``$name`` and ``${name}``, with a value to stand for it."""
    values = {}
    for variable in dashboard()["templating"]["list"]:
        for form in (f"${{{variable['name']}}}", f"${variable['name']}"):
            values[form] = "regbus"
    return values


def substitute(expr: str) -> str:
    """A dashboard expression as Prometheus would get it: variables replaced."""
    for interval in GRAFANA_INTERVALS:
        expr = expr.replace(interval, "5m")
    # Longest first: `$registry` must not be replaced inside `$registry_id`.
    for form, value in sorted(grafana_variables().items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(form, value)
    assert "$" not in expr, f"an unknown variable in {expr!r}"
    return expr


def variable_query(query: Any) -> str | None:
    """The PromQL inside a Prometheus template variable's query, if it has any."""
    text = query.get("query", "") if isinstance(query, dict) else str(query)
    text = text.strip()
    if match := re.fullmatch(r"label_values\((.+),\s*\w+\s*\)", text, re.S):
        return match.group(1)
    if match := re.fullmatch(r"query_result\((.+)\)", text, re.S):
        return match.group(1)
    return None


def panels(data: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every panel, rows and the panels of collapsed rows included."""
    for panel in (data or dashboard())["panels"]:
        yield panel
        yield from panel.get("panels", [])


def expressions() -> list[tuple[str, str]]:
    """(where, expression) of every PromQL expression in the rules and the dashboard."""
    found = []
    for rule in rules():
        found.append((f"rules.yml {rule.get('record') or rule.get('alert')}", rule["expr"]))
    for panel in panels():
        for target in panel.get("targets", []):
            where = f"regbus.json panel {panel['id']} {panel['title']!r} {target['refId']}"
            found.append((where, substitute(target["expr"])))
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            expr = variable_query(variable["query"])
            assert expr is not None, f"variable {variable['name']}: no PromQL in its query"
            found.append((f"regbus.json variable {variable['name']}", substitute(expr)))
    return found


def test_the_promql_scanner_finds_metric_names_and_label_matchers() -> None:
    expr = (
        'sum by (error, outcome) (rate(regbus_requests_total{registry="x", error!="none"}[5m]))'
        " / on () group_left () sum(rate(regbus_requests_total[5m] offset 1h))"
        " > bool 1e3 or vector(0x1f) unless histogram_quantile(0.99, sum without (le)"
        ' (rate(a:b:c[2m:30s]))) * on (registry) group_left b_info{label="{x}"}'
    )
    assert metric_names(expr) == {"regbus_requests_total", "a:b:c", "b_info"}
    assert metric_names("count(up == 0) or absent(nothing{job='x'})") == {"up", "nothing"}
    pairs = list(matchers('rate(a_total{x="1", y!~"2"}[5m]) / b{z=~"3"} + {w="4"}'))
    assert pairs == [("a_total", "x"), ("a_total", "y"), ("b", "z")]


# Prometheus rules --------------------------------------------------------------------------


def test_promtool_checks_the_rules() -> None:
    result = run_promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = run_promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_severity_summary_description_and_runbook() -> None:
    found = alerts()
    assert set(found) == ALERTS
    anchors = headings(OPERATIONS.read_text("utf-8"))
    for name, rule in found.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        notes = rule["annotations"]
        assert {"summary", "description", "runbook", "runbook_url"} <= set(notes), name
        subject = "instance" if name in BUS_ALERTS else "registry"
        assert f"{{{{ $labels.{subject} }}}}" in notes["description"], name
        for part in ("Means:", "Check:", "Do:"):
            assert part in notes["runbook"], f"{name}: runbook without {part!r}"
        # A path in this repository, to the alert's own section.
        assert notes["runbook_url"] == f"docs/operations.md#{name.lower()}", name
        assert name.lower() in anchors, f"docs/operations.md has no section {name}"
        # Resolution is not held back: keep_firing_for only with a reason written here.
        assert "keep_firing_for" not in rule, f"{name}: keep_firing_for (say why, then allow)"


def test_the_unit_tests_see_every_alert_fire_and_resolve() -> None:
    """For each alert, tests.yml has a time it fires and a later time it has resolved;
    each recording rule's value is checked."""
    fired: dict[str, list[float]] = {}
    quiet: dict[str, list[float]] = {}
    checked = []
    for group in load_yaml(RULE_TESTS)["tests"]:
        for case in group.get("alert_rule_test", []):
            times = fired if case.get("exp_alerts") else quiet
            times.setdefault(case["alertname"], []).append(seconds(case["eval_time"]))
        checked += [case["expr"] for case in group.get("promql_expr_test", [])]
    for name in ALERTS:
        assert fired.get(name), f"{name} is never seen firing"
        assert any(t > min(fired[name]) for t in quiet.get(name, [])), (
            f"{name} is never seen resolved"
        )
    for record in recorded():
        assert any(record in expr for expr in checked), f"no promql_expr_test checks {record}"


# Grafana -----------------------------------------------------------------------------------


def rows(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each row's title and its panels: those after it up to the next row (an open row),
    or its own (a collapsed one)."""
    found: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for panel in data["panels"]:
        if panel["type"] == "row":
            current = found[panel["title"]] = list(panel.get("panels", []))
        else:
            assert current is not None, f"panel {panel['title']!r} is in no row"
            current.append(panel)
    return found


def row_exprs(row: list[dict[str, Any]]) -> str:
    return "\n".join(t["expr"] for panel in row for t in panel.get("targets", []))


def test_the_dashboard_has_its_variables_and_rows() -> None:
    data = dashboard()
    assert data["uid"] == "regbus" and data["title"]
    variables = {v["name"]: v for v in data["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    registry = variables["registry"]
    assert registry["type"] == "query" and registry["multi"] and registry["includeAll"]
    assert re.fullmatch(r"label_values\(.+,\s*registry\s*\)", registry["query"]["query"])

    found = rows(data)
    (repeated,) = [p for p in data["panels"] if p["type"] == "row" and p.get("repeat")]
    assert repeated["repeat"] == "registry" and "$registry" in repeated["title"]
    per_registry = found[repeated["title"]]
    exprs = row_exprs(per_registry)
    for metric in (
        "regbus_requests_total",
        "regbus_request_duration_seconds_bucket",
        "regbus_breaker_state",
        "regbus_bulkhead_in_flight",
        "regbus_bulkhead_limit",
        "regbus_retries_total",
    ):
        assert metric in exprs, f"the registry row does not show {metric}"
    assert "by (error, outcome)" in exprs
    assert "histogram_quantile(0.5," in exprs and "histogram_quantile(0.99," in exprs
    # $registry is multi-valued ("All" by default): Grafana fills it in as (a|b|...), which
    # only a regular-expression matcher selects; registry="(a|b)" selects nothing.
    for panel in per_registry:
        for target in panel["targets"]:
            assert 'registry=~"$registry"' in target["expr"], (panel["title"], target["expr"])
            assert 'registry="$registry"' not in target["expr"], (panel["title"], target["expr"])

    bus = row_exprs(found["Bus"])
    assert "by (grpc_code)" in bus and "grpc_server_handled_total" in bus
    assert re.search(r"grpc_server_started_total.*\)\s*-\s*sum.*grpc_server_handled_total", bus)
    assert "process_cpu_seconds_total" in bus and "process_resident_memory_bytes" in bus
    compose = row_exprs(found["Compose profiles"])
    assert "by (profile, outcome)" in compose and "regbus_compose_total" in compose
    assert "histogram_quantile(0.99" in compose and "regbus_compose_duration_seconds" in compose


def test_the_dashboard_panels_are_well_formed_and_do_not_overlap() -> None:
    data = dashboard()
    ids = [p["id"] for p in panels(data)]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    boxes = []
    for panel in panels(data):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        boxes.append((panel["title"], pos["x"], pos["y"], pos["w"], pos["h"]))
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], f"{panel['title']}: no query"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["datasource"] == panel["datasource"]
    for i, (a, ax, ay, aw, ah) in enumerate(boxes):
        for b, bx, by, bw, bh in boxes[i + 1 :]:
            apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
            assert apart, f"panels {a!r} and {b!r} overlap"


def test_grafana_provisioning_points_at_the_dashboard_and_its_data_source() -> None:
    (source,) = load_yaml(PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    assert source["type"] == "prometheus" and source["url"].startswith("http")
    variable = next(v for v in dashboard()["templating"]["list"] if v["name"] == "datasource")
    assert variable["current"]["value"] == source["uid"]
    (provider,) = load_yaml(PROVISIONING / "dashboards" / "regbus.yml")["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


# Every expression --------------------------------------------------------------------------


def test_every_expression_parses(tmp_path: Path) -> None:
    found = expressions()
    # JSON is YAML: one recording rule per expression, named after its index.
    check = {
        "groups": [
            {
                "name": "expressions",
                "rules": [
                    {"record": f"check:expr_{i}", "expr": e} for i, (_, e) in enumerate(found)
                ],
            }
        ]
    }
    path = tmp_path / "expressions.yml"
    path.write_text(json.dumps(check, indent=1))
    result = run_promtool("check", "rules", str(path))
    listing = "\n".join(f"check:expr_{i}: {where}: {e}" for i, (where, e) in enumerate(found))
    assert result.returncode == 0, result.stdout + result.stderr + "\n" + listing


def exported(text: str) -> set[str]:
    """Every series name an exposition can hold: its samples' names, and for each family
    the names its type gives (a counter without children yet still has ``_total``)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
        "info": ("_info",),
    }
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def exported_labels(text: str) -> dict[str, set[str]]:
    """The label names each series name of an exposition has (names without samples have
    none here, and are not checked)."""
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


def base(name: str) -> str:
    return re.sub(r"_(?:bucket|sum|count|total|created)$", "", name)


async def test_every_metric_in_the_rules_and_dashboard_is_exported(
    embedded: Embedded, stub: bus_pb2_grpc.RegistryBusStub
) -> None:
    # One call, so that every series a call creates is there too.
    request = bus_pb2.QueryRequest(
        registry="gbdfl",
        operation="get_person",
        params={"iin": "850314354052"},
        context=bus_pb2.RequestContext(operator_id="op", purpose="demo"),
    )
    await stub.Query(request, timeout=10)
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{embedded.bus.http_port}/metrics")
    response.raise_for_status()
    known = exported(response.text)
    labels = exported_labels(response.text)
    records = recorded()

    missing: dict[str, list[str]] = {}
    for where, expr in expressions():
        for name in metric_names(expr):
            if name not in (records if ":" in name else known):
                missing.setdefault(f"{name} (base {base(name)})", []).append(where)
        for name, label in matchers(expr):
            # job and instance are the scrape's; a name without samples has no labels yet.
            if name in labels and label not in labels[name] | {"job", "instance"}:
                missing.setdefault(f"label {label} of {name}", []).append(where)
    report = "\n".join(
        f"{what}: {', '.join(sorted(set(wheres)))}" for what, wheres in sorted(missing.items())
    )
    assert not missing, f"read by the rules or the dashboard, not exported by the bus:\n{report}"
