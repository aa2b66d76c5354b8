"""The deployment files (monitoring/deploy) hold together: the image, the compose setup,
Prometheus's configuration and the Kubernetes manifests, and each against the bus's own
configuration. No Docker engine or cluster is needed: `docker compose config` runs where the
CLI plugin exists, the manifests are checked against Kubernetes' schemas shipped by the
kubernetes-validate package, Prometheus's configuration with promtool where it is installed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from regbus.bus.access import exposure_problem
from regbus.bus.config import Config, load_layers

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "monitoring" / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
KUBERNETES = DEPLOY / "kubernetes"
MANIFESTS = ("configmap.yaml", "deployment.yaml", "service.yaml", "pdb.yaml", "servicemonitor.yaml")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


# Dockerfile ----------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), as (NAME, arguments)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text("utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, rest = line.partition(" ")
            found.append((name.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last:]


def test_the_image_runs_the_bus_as_a_user_that_is_not_root() -> None:
    steps = final_stage()
    users = [rest for name, rest in steps if name == "USER"]
    assert users, "the final stage sets no USER: the bus would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    assert user.isdigit(), "a numeric USER lets Kubernetes' runAsNonRoot check it"
    # The default command serves the built-in mocks on every address: a bus without
    # authentication refuses that unless in demo mode (synthetic data only), so --demo, and
    # without --config (a command with one replaces this, and with it the demo mode).
    assert ("CMD", '["regbus", "serve", "--demo"]') in steps
    env = " ".join(rest for name, rest in steps if name == "ENV")
    assert "REGBUS_SERVER__HOST=0.0.0.0" in env
    assert "DEMO" not in env.upper(), "demo mode in ENV would reach a --config command too"
    expose = " ".join(rest for name, rest in steps if name == "EXPOSE").split()
    assert {"50051", "8081"} <= set(expose)


def test_the_image_checks_its_health_with_python_on_healthz() -> None:
    checks = [rest for name, rest in final_stage() if name == "HEALTHCHECK"]
    assert len(checks) == 1
    check = checks[0]
    assert "http://127.0.0.1:8081/healthz" in check
    assert "urllib.request" in check and "curl" not in check and "wget" not in check
    command = json.loads(check[check.index("CMD") + 3 :])
    assert command[:2] == ["python", "-c"]
    compile(command[2], "HEALTHCHECK", "exec")  # it is Python


def test_the_image_is_python_3_11_slim_and_installs_every_package_folder() -> None:
    steps = instructions()
    base = next(rest for name, rest in steps if name == "ARG" and rest.startswith("PYTHON="))
    assert base == "PYTHON=python:3.11-slim"
    assert any(name == "RUN" and "pip install ." in rest for name, rest in steps)
    copied = {
        Path(source).parts[0]
        for name, rest in steps
        if name == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
    }
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    folders = {Path(d).parts[0] for d in pyproject["tool"]["setuptools"]["package-dir"].values()}
    assert folders <= copied, f"the image lacks {sorted(folders - copied)}"
    assert {"pyproject.toml", "README.md"} <= copied
    for source in copied:
        assert (ROOT / source).exists(), source


# compose -------------------------------------------------------------------------------------


def docker_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
    return found.returncode == 0


@pytest.mark.skipif(not docker_compose(), reason="no `docker compose` CLI here")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_compose_file_follows_the_compose_specification() -> None:
    # check-jsonschema ships the Compose Specification's schema (vendor.compose-spec).
    result = subprocess.run(
        [
            sys.executable,
            *("-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"),
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE)
    assert isinstance(data, dict)
    return data


def options(command: list[str], name: str) -> list[str]:
    """Every value of ``--name=VALUE`` or ``--name VALUE`` in a command."""
    found = []
    for i, word in enumerate(command):
        if word.startswith(f"--{name}="):
            found.append(word.split("=", 1)[1])
        elif word == f"--{name}":
            found.append(command[i + 1])
    return found


def mounts(service: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(source, target) of a service's volumes; a bind's source resolved from compose.yaml."""
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            source = str((DEPLOY / source).resolve())
        yield source, target


def under(mount_list: Iterator[tuple[str, str]], path: str) -> tuple[str, str]:
    """The mount a container path is in, and the path inside it."""
    for source, target in sorted(mount_list, key=lambda m: -len(m[1])):
        if path == target or path.startswith(target.rstrip("/") + "/"):
            return source, path[len(target) :].lstrip("/")
    raise AssertionError(f"{path} is in no volume")


def command(service: Mapping[str, Any]) -> list[str]:
    value = service["command"]
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def test_compose_has_the_services_and_builds_the_bus_from_the_dockerfile() -> None:
    services = compose()["services"]
    assert {"bus", "mocks", "redis", "prometheus", "grafana"} <= set(services)
    for name in ("bus", "mocks"):
        build = services[name]["build"]
        context = (DEPLOY / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    assert command(services["bus"])[:2] == ["regbus", "serve"]
    assert command(services["mocks"])[:2] == ["regbus", "mocks"]
    depends = services["bus"]["depends_on"]
    assert depends["mocks"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert "healthcheck" in services["mocks"] and "healthcheck" in services["redis"]


def test_the_bus_reads_what_the_mocks_write_and_uses_redis() -> None:
    services = compose()["services"]
    mocks, bus = services["mocks"], services["bus"]
    mocks_command = command(mocks)
    (written,) = options(mocks_command, "write-config")
    written_at = under(mounts(mocks), written)
    (public,) = options(mocks_command, "public-url")
    (port,) = options(mocks_command, "port")
    assert public == f"http://mocks:{port}", "the written URLs must name the mocks service"
    assert "0.0.0.0" in options(mocks_command, "host")
    layers = []
    for path in options(command(bus), "config"):
        source, inside = under(mounts(bus), path)
        if (source, inside) == written_at:
            layers.append(None)  # the mocks' file: a named volume they share
        else:
            assert Path(source).is_file(), f"{path}: {source} does not exist"
            layers.append(Path(source))
    assert None in layers, "the bus does not read the configuration the mocks write"
    files = [p for p in layers if p is not None]
    environment = {k: str(v) for k, v in bus.get("environment", {}).items()}
    config = load_layers(files, environment)
    assert config.server.host == "0.0.0.0"
    assert config.server.breaker_store == "redis://redis:6379/0"
    # Mock registries only: demo mode, which may listen on every address unauthenticated.
    assert config.server.demo and exposure_problem(config) is None
    published = {p.split(":")[-1] for p in bus["ports"]}
    assert {str(config.server.grpc_port), str(config.server.http_port)} <= published


def test_prometheus_scrapes_the_bus_and_loads_every_rule_file() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    config_file = options(prometheus["command"], "config.file")[0]
    source, inside = under(mounts(prometheus), config_file)
    assert (Path(source) / inside if inside else Path(source)) == DEPLOY / "prometheus.yml"
    scrape = load_yaml(DEPLOY / "prometheus.yml")
    targets = [
        target
        for job in scrape["scrape_configs"]
        if job["job_name"] == "regbus"
        for static in job["static_configs"]
        for target in static["targets"]
    ]
    assert targets == ["bus:8081"]
    rules_dir = ROOT / "monitoring" / "prometheus"
    rule_files = scrape["rule_files"]
    loaded: set[Path] = set()
    for pattern in rule_files:
        path = str(Path(config_file).parent / pattern)
        source, inside = under(mounts(prometheus), path)
        assert Path(source) == rules_dir, f"{pattern} is not in monitoring/prometheus"
        matched = set(rules_dir.glob(inside))
        assert matched, f"{pattern} matches no file of monitoring/prometheus"
        loaded |= matched
    rule_groups = {p for p in rules_dir.glob("*.y*ml") if "groups" in (load_yaml(p) or {})}
    assert rule_groups <= loaded, f"not loaded: {sorted(p.name for p in rule_groups - loaded)}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool here")
def test_promtool_accepts_the_prometheus_configuration(tmp_path: Path) -> None:
    # The container's layout: prometheus.yml with the rules mounted at rules/ beside it.
    (tmp_path / "prometheus.yml").write_text((DEPLOY / "prometheus.yml").read_text("utf-8"))
    (tmp_path / "rules").symlink_to(ROOT / "monitoring" / "prometheus")
    result = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_is_provisioned_from_the_repository() -> None:
    grafana = compose()["services"]["grafana"]
    sources = dict(mounts(grafana))
    provisioning = ROOT / "monitoring" / "grafana" / "provisioning"
    dashboard = ROOT / "monitoring" / "grafana" / "regbus.json"
    assert sources.get(str(provisioning)) == "/etc/grafana/provisioning"
    assert str(dashboard) in sources
    assert provisioning.is_dir(), "monitoring/grafana/provisioning is missing"
    json.loads(dashboard.read_text("utf-8"))
    # A dashboard provider reads the folder the dashboard is mounted in.
    folder = str(Path(sources[str(dashboard)]).parent)
    paths = [
        provider.get("options", {}).get("path", "")
        for path in provisioning.rglob("*.y*ml")
        for provider in (load_yaml(path) or {}).get("providers", [])
    ]
    assert paths, "no dashboard provider under monitoring/grafana/provisioning"
    assert any(folder == p.rstrip("/") or folder.startswith(p.rstrip("/") + "/") for p in paths)
    # Its data sources are services of compose.yaml.
    services = compose()["services"]
    urls = [
        source["url"]
        for path in provisioning.rglob("*.y*ml")
        for source in (load_yaml(path) or {}).get("datasources", [])
        if "url" in source
    ]
    for url in urls:
        host = urlsplit(url).hostname
        assert host in services, f"data source {url}: no service {host} in compose.yaml"


# Kubernetes ----------------------------------------------------------------------------------


def manifest(name: str) -> dict[str, Any]:
    data = load_yaml(KUBERNETES / name)
    assert isinstance(data, dict)
    return data


# The part of the Prometheus Operator's ServiceMonitor CRD these manifests use (the CRD's
# schema is not shipped with kubernetes-validate).
SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "labels": {"type": "object"}},
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    "type": "object",
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "namespaceSelector": {"type": "object"},
                "jobLabel": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "tlsConfig": {"type": "object"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "honorLabels": {"type": "boolean"},
                            "relabelings": {"type": "array"},
                            "metricRelabelings": {"type": "array"},
                        },
                    },
                },
            },
        },
    },
}


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_manifests_validate_against_kubernetes_schemas(name: str) -> None:
    data = manifest(name)
    if data["apiVersion"].startswith("monitoring.coreos.com/"):
        jsonschema.validate(data, SERVICE_MONITOR)
        return
    kubernetes_validate.validate(data, latest_version(), strict=True)


def test_the_schema_check_catches_a_misspelt_field() -> None:
    data = manifest("deployment.yaml")
    container = data["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["paht"] = "/readyz"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(data, latest_version(), strict=True)


def test_the_kustomization_lists_every_manifest() -> None:
    listed = manifest("kustomization.yaml")["resources"]
    assert sorted(listed) == sorted(MANIFESTS)
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert on_disk == set(MANIFESTS)


def container_probes(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [container[k]["httpGet"] for k in ("livenessProbe", "readinessProbe", "startupProbe")]


def bus_container() -> dict[str, Any]:
    (container,) = manifest("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def configmap_config(tmp_path: Path) -> Config:
    """The bus's configuration as the pod loads it: the ConfigMap's file, then its env."""
    container = bus_container()
    (path,) = options(container["command"] + container["args"], "config")
    mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    volumes = manifest("deployment.yaml")["spec"]["template"]["spec"]["volumes"]
    volume = next(v for v in volumes if v["name"] == mount["name"])
    configmap = manifest("configmap.yaml")
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    file = tmp_path / "regbus.toml"
    file.write_text(configmap["data"][path.removeprefix(mount["mountPath"] + "/")], "utf-8")
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return load_layers([file], env)


def test_the_pod_runs_the_bus_with_the_configmap_and_probes_on_its_http_port(
    tmp_path: Path,
) -> None:
    container = bus_container()
    assert container["command"] + container["args"][:1] == ["regbus", "serve"]
    config = configmap_config(tmp_path)
    assert config.server.host == "0.0.0.0"
    # On every address only with callers authenticated: client certificates from the Secret.
    assert exposure_problem(config) is None and config.tls.mutual and not config.server.demo
    secret = next(
        v["secret"]["secretName"]
        for v in manifest("deployment.yaml")["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    )
    mounted = next(m for m in container["volumeMounts"] if m["name"] == "tls")["mountPath"]
    for path in (config.tls.cert_file, config.tls.key_file, config.tls.client_ca_file):
        assert path.startswith(mounted + "/"), (path, secret)
    assert {p["scheme"] for p in container_probes(container)} == {"HTTPS"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": config.server.grpc_port, "http": config.server.http_port}
    probes = {
        kind: container[kind]["httpGet"]
        for kind in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    for probe in probes.values():
        assert ports.get(probe["port"], probe["port"]) == config.server.http_port
    env_names = {e["name"] for e in container["env"]}
    assert all(name.startswith("REGBUS_") and "__" in name for name in env_names)
    assert container["resources"]["requests"] and container["resources"]["limits"]
    grace = manifest("deployment.yaml")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert config.server.grace < grace


def test_the_pod_runs_as_the_images_user_and_not_as_root() -> None:
    spec = manifest("deployment.yaml")["spec"]["template"]["spec"]
    pod, container = spec["securityContext"], bus_container()["securityContext"]
    assert pod["runAsNonRoot"] is True and container["runAsNonRoot"] is True
    user = next(rest for name, rest in reversed(final_stage()) if name == "USER")
    assert str(pod["runAsUser"]) == user.split(":")[0] != "0"
    assert container["allowPrivilegeEscalation"] is False
    assert container["readOnlyRootFilesystem"] is True
    assert container["capabilities"]["drop"] == ["ALL"]


def test_service_pdb_and_servicemonitor_select_the_pods() -> None:
    pod_labels = manifest("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    container_ports = {p["name"]: p["containerPort"] for p in bus_container()["ports"]}
    service = manifest("service.yaml")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert service_ports["grpc"]["port"] == 50051 and service_ports["http"]["port"] == 8081
    for port in service_ports.values():
        assert port["targetPort"] in container_ports
    pdb = manifest("pdb.yaml")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    monitor = manifest("servicemonitor.yaml")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
