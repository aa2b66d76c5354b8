"""The bus configuration: one TOML file, every setting with a default.

    config = load_config(Path("regbus.toml"))

See the README's configuration reference for every key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from regbus.adapters.base import DEFAULT_MAX_ANSWER_BYTES, Endpoint
from regbus.bus.profiles import Profile, ProfileError, merged_profiles, parse_profiles
from regbus.circuit.policy import Policy


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    grpc_port: int = 50051
    http_port: int = 8081
    grace: float = 5.0  # seconds to finish in-flight calls on shutdown
    workers: int = 1  # processes serving the same ports (regbus serve --workers)
    max_concurrent_rpcs: int = 1000  # past this, new calls are refused with RESOURCE_EXHAUSTED
    # Where breaker state is shared between workers and replicas: "" keeps it in each
    # process; "redis://host:6379/0" shares it through Redis.
    breaker_store: str = ""
    breaker_prefix: str = "regbus:breaker:"


@dataclass(frozen=True)
class RegistrySettings:
    """One configured registry: where it is and the policy around its calls."""

    id: str
    endpoint: Endpoint
    policy: Policy


@dataclass(frozen=True)
class Config:
    server: ServerSettings = field(default_factory=ServerSettings)
    policy: Policy = field(default_factory=Policy)
    registries: Mapping[str, RegistrySettings] = field(default_factory=dict)
    source: str = "defaults"
    disabled: frozenset[str] = frozenset()  # registries the file names with enabled = false
    # Compose profiles: the built-in ones with the file's [profiles.*] merged in.
    profiles: Mapping[str, Profile] = field(default_factory=lambda: merged_profiles({}))


_SERVER_KEYS: dict[str, type] = {
    "host": str,
    "grpc_port": int,
    "http_port": int,
    "grace": float,
    "workers": int,
    "max_concurrent_rpcs": int,
    "breaker_store": str,
    "breaker_prefix": str,
}
_REGISTRY_KEYS = {
    "url",
    "enabled",
    "options",
    "policy",
    "max_connections",
    "connect_timeout",
    "max_answer_bytes",
}
MAX_WORKERS = 64


def check_workers(value: object, where: str = "workers") -> int:
    """A worker count, 1 to ``MAX_WORKERS``; ``ConfigError`` says what is wrong."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WORKERS:
        raise ConfigError(
            f"{where} must be a whole number of processes from 1 to {MAX_WORKERS}, got {value!r}"
        )
    return value


def load_config(path: Path) -> Config:
    """Read and check a TOML configuration file."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse_config(data, source=str(path))


def parse_config(data: Mapping[str, Any], *, source: str = "<config>") -> Config:
    """Build a ``Config`` from parsed TOML; ``ConfigError`` names the bad key."""
    unknown = set(data) - {"server", "policy", "registries", "profiles"}
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}")
    server = _server(_table(data, "server", source), source)
    try:
        policy = Policy().merged(_table(data, "policy", source))
        policy.validate()
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    registries: dict[str, RegistrySettings] = {}
    disabled: set[str] = set()
    for registry_id, table in _table(data, "registries", source).items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: [registries.{registry_id}] must be a table")
        settings = registry_settings(registry_id, table, policy, source)
        if settings is None:
            disabled.add(registry_id)
        else:
            registries[registry_id] = settings
    try:
        profiles = merged_profiles(parse_profiles(_table(data, "profiles", source), source))
    except ProfileError as exc:
        raise ConfigError(str(exc)) from exc
    return Config(
        server=server,
        policy=policy,
        registries=registries,
        source=source,
        disabled=frozenset(disabled),
        profiles=profiles,
    )


def registry_settings(
    registry_id: str, table: Mapping[str, Any], defaults: Policy, source: str = "<config>"
) -> RegistrySettings | None:
    """One ``[registries.ID]`` table, or None when it is disabled."""
    where = f"{source}: registries.{registry_id}"
    unknown = set(table) - _REGISTRY_KEYS
    if unknown:
        known = ", ".join(sorted(_REGISTRY_KEYS))
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {known})")
    if table.get("enabled", True) is False:
        return None
    url = table.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"{where}.url must be an http:// or https:// URL, got {url!r}")
    options = table.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}.options must be a table")
    max_connections = table.get("max_connections", 20)
    connect_timeout = table.get("connect_timeout", 5.0)
    if not isinstance(max_connections, int) or max_connections < 1:
        raise ConfigError(f"{where}.max_connections must be a whole number >= 1")
    if not isinstance(connect_timeout, int | float) or connect_timeout <= 0:
        raise ConfigError(f"{where}.connect_timeout must be a number > 0")
    max_answer_bytes = table.get("max_answer_bytes", DEFAULT_MAX_ANSWER_BYTES)
    if isinstance(max_answer_bytes, bool) or not isinstance(max_answer_bytes, int):
        raise ConfigError(
            f"{where}.max_answer_bytes must be a whole number of bytes >= 1,"
            f" got {max_answer_bytes!r}"
        )
    if max_answer_bytes < 1:
        raise ConfigError(f"{where}.max_answer_bytes must be >= 1, got {max_answer_bytes}")
    try:
        policy = defaults.merged(table.get("policy", {}))
        policy.validate()
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    endpoint = Endpoint(
        url=url,
        options=dict(options),
        max_connections=max_connections,
        connect_timeout=float(connect_timeout),
        max_answer_bytes=max_answer_bytes,
    )
    return RegistrySettings(id=registry_id, endpoint=endpoint, policy=policy)


def with_endpoints(config: Config, endpoints: Mapping[str, Endpoint | str]) -> Config:
    """A copy of ``config`` with a registry entry for every endpoint not configured yet.

    An endpoint is an ``Endpoint`` (URL and adapter options) or just a URL.
    """
    registries = dict(config.registries)
    for registry_id, endpoint in endpoints.items():
        if registry_id not in registries:
            if isinstance(endpoint, str):
                endpoint = Endpoint(endpoint)
            registries[registry_id] = RegistrySettings(registry_id, endpoint, config.policy)
    return replace(config, registries=registries)


def mentions(config: Config, registry_id: str) -> bool:
    """True when the configuration has a ``[registries.ID]`` table, enabled or not."""
    return registry_id in config.registries or registry_id in config.disabled


def config_text(
    endpoints: Mapping[str, Endpoint], *, comment: str = "", disabled: Collection[str] = ()
) -> str:
    """A TOML configuration pointing the bus at ``endpoints``: for every registry its
    ``url`` and, when there are any, its ``options``. ``load_config`` reads it back.

    Registries in ``disabled`` (no adapter installed for them) are written with
    ``enabled = false``, so the file works as it is and needs one change once they have one.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += ["[server]", 'host = "127.0.0.1"', "grpc_port = 50051", "http_port = 8081", ""]
    for registry_id, endpoint in sorted(endpoints.items()):
        table = f"registries.{toml_key(registry_id)}"
        lines += [f"[{table}]", f"url = {toml_value(endpoint.url)}"]
        if registry_id in disabled:
            lines.append("enabled = false  # no adapter is installed for it")
        if endpoint.options:
            lines += ["", f"[{table}.options]"]
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in endpoint.options.items()]
        lines.append("")
    return "\n".join(lines)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return key if _BARE_KEY.fullmatch(key) else toml_value(key)


def toml_value(value: object) -> str:
    """A TOML string, integer, float or boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_escape(c) for c in value) + '"'
    raise TypeError(f"cannot write {value!r} as a TOML value")


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04X}"
    return char


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [{key}] must be a table")
    return value


def _server(table: Mapping[str, Any], source: str) -> ServerSettings:
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = _SERVER_KEYS.get(key)
        if kind is None:
            known = ", ".join(sorted(_SERVER_KEYS))
            raise ConfigError(f"{source}: unknown key server.{key} (known: {known})")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{source}: server.{key} must be {kind.__name__}, got {value!r}")
        if key == "workers":
            check_workers(value, f"{source}: server.workers")
        elif key == "max_concurrent_rpcs":
            if not isinstance(value, int) or not 1 <= value <= 1_000_000:
                raise ConfigError(f"{source}: server.{key} must be 1 or more, got {value}")
        elif key == "breaker_store":
            schemes = ("redis://", "rediss://", "unix://")
            if not isinstance(value, str) or (value and not value.startswith(schemes)):
                raise ConfigError(
                    f"{source}: server.breaker_store must be empty (each process keeps its own)"
                    f" or a redis://, rediss:// or unix:// URL, got {value!r}"
                )
        elif isinstance(value, int) and not 0 <= value <= 65535:
            raise ConfigError(f"{source}: server.{key} must be a port 0-65535, got {value}")
        values[key] = value
    return ServerSettings(**values)
