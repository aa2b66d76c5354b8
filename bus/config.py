"""The bus configuration: TOML files in layers, then the environment; every setting has a
default.

    config = load_config(Path("regbus.toml"))              # one file
    config = load_layers([Path("national.toml"), Path("kostanay.toml")], os.environ)

Later files win key by key (tables merge, arrays and scalars are replaced), then every
``REGBUS_<SECTION>__<KEY>`` variable (``__`` between levels: ``REGBUS_POLICY__RETRY__ATTEMPTS``,
``REGBUS_REGISTRIES__GBDFL__URL``). ``layered(...)`` also says where each value came from
(``regbus config show``). See the README's configuration reference for every key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from regbus.adapters.base import DEFAULT_MAX_ANSWER_BYTES, Endpoint
from regbus.bus.access import (
    ACCESS_SECTIONS,
    AccessError,
    AccessSettings,
    JwtSettings,
    TlsSettings,
    check_access_layer,
    parse_access,
    parse_jwt,
    parse_tls,
    with_demo_access,
)
from regbus.bus.audit.settings import AuditSettings, audit_settings
from regbus.bus.profiles import (
    Profile,
    ProfileError,
    merged_profiles,
    parse_profiles,
    profile_values,
)
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
    # Seconds between probes of an idle registry (0: no probing); an open breaker is
    # probed as soon as it lets a trial through.
    probe_interval: float = 30.0
    # /readyz and gRPC health "" say ready while at least this many registries are up
    # (breaker closed); 0: ready whenever serving.
    ready_min_registries: int = 1
    # One log line per gRPC call and per HTTP request (logger regbus.access_log): method or
    # path, peer, status, milliseconds. Off by default: the audit log records every call.
    access_log: bool = False
    # Synthetic data only: a non-loopback host without authentication is allowed, and a
    # configuration without [clients] gets the demo client (bus/demo_access.toml).
    demo: bool = False


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
    # Compose profiles: the built-in ones, then installed packages' (entry-point group
    # regbus.profiles), then the file's [profiles.*] (bus/profiles.py merged_profiles).
    profiles: Mapping[str, Profile] = field(default_factory=lambda: merged_profiles({}))
    # Where every call is recorded (bus.audit; docs/audit.md).
    audit: AuditSettings = field(default_factory=AuditSettings)
    # Who may call, and what for (bus.access; docs/security.md).
    tls: TlsSettings = field(default_factory=TlsSettings)
    jwt: JwtSettings = field(default_factory=JwtSettings)
    access: AccessSettings = field(default_factory=AccessSettings)


_SERVER_KEYS: dict[str, type] = {
    "host": str,
    "grpc_port": int,
    "http_port": int,
    "grace": float,
    "workers": int,
    "max_concurrent_rpcs": int,
    "access_log": bool,
    "breaker_store": str,
    "breaker_prefix": str,
    "probe_interval": float,
    "ready_min_registries": int,
    "demo": bool,
}
_SECTIONS = ("server", "policy", "registries", "profiles", "audit", *ACCESS_SECTIONS)
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
    """Read and check one TOML configuration file (no ``REGBUS_*`` variables: see
    ``load_layers``)."""
    return parse_config(file_layer(path).data, source=str(path))


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str = "<config>",
    origins: Callable[[tuple[str, ...]], str] | None = None,
) -> Config:
    """Build a ``Config`` from parsed TOML; ``ConfigError`` names the bad key.

    ``origins`` (given by ``layered``) names the files or variables that set the keys
    under a path, so a message about ``registries.gbdfl`` names where that registry came from.
    """

    def where(*path: str) -> str:
        return (origins(path) if origins is not None else "") or source

    _check_sections(data, source)
    server = _server(_table(data, "server", source), where("server"))
    try:
        policy = Policy().merged(_table(data, "policy", source))
        policy.validate()
    except ValueError as exc:
        raise ConfigError(f"{where('policy')}: {exc}") from exc
    registries: dict[str, RegistrySettings] = {}
    disabled: set[str] = set()
    for registry_id, table in _table(data, "registries", source).items():
        origin = where("registries", registry_id)
        if not isinstance(table, Mapping):
            raise ConfigError(f"{origin}: [registries.{registry_id}] must be a table")
        settings = registry_settings(registry_id, table, policy, origin)
        if settings is None:
            disabled.add(registry_id)
        else:
            registries[registry_id] = settings
    configured: dict[str, Profile | None] = {}
    try:
        for name, body in _table(data, "profiles", source).items():
            configured.update(parse_profiles({name: body}, where("profiles", name)))
        profiles = merged_profiles(configured)
    except ProfileError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        tls = parse_tls(_table(data, "tls", source), where("tls"))
        jwt = parse_jwt(_table(data, "jwt", source), where("jwt"))
        access = parse_access(
            _table(data, "access", source),
            _table(data, "clients", source),
            _table(data, "purposes", source),
            where,
        )
    except AccessError as exc:
        raise ConfigError(str(exc)) from exc
    audit = _audit(_table(data, "audit", source), where("audit"))
    config = Config(
        server=server,
        policy=policy,
        registries=registries,
        source=source,
        disabled=frozenset(disabled),
        profiles=profiles,
        audit=audit,
        tls=tls,
        jwt=jwt,
        access=access,
    )
    # Synthetic data: unless it declares clients, the demo client (bus/demo_access.toml).
    return with_demo_access(config) if server.demo else config


def registry_settings(
    registry_id: str, table: Mapping[str, Any], defaults: Policy, source: str = "<config>"
) -> RegistrySettings | None:
    """One ``[registries.ID]`` table, or None when it is disabled."""
    where = f"{source}: registries.{registry_id}"
    _check_registry_keys(table, where)
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
    policy_table = table.get("policy", {})
    if not isinstance(policy_table, Mapping):
        raise ConfigError(f"{where}.policy must be a table")
    try:
        policy = defaults.merged(policy_table)
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
    It is in demo mode (``[server] demo = true``): the registries are mocks.
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [
        "[server]",
        'host = "127.0.0.1"',
        "grpc_port = 50051",
        "http_port = 8081",
        "# Mock registries hold synthetic people: demo mode, where every call is the client",
        '# "demo" with every right (see docs/security.md). Never with real registries.',
        "demo = true",
        "",
    ]
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


def _check_sections(data: Mapping[str, Any], source: str) -> None:
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}")


def _check_registry_keys(table: Mapping[str, Any], where: str) -> None:
    unknown = set(table) - _REGISTRY_KEYS
    if unknown:
        known = ", ".join(sorted(_REGISTRY_KEYS))
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {known})")


def _server(table: Mapping[str, Any], source: str) -> ServerSettings:
    values = {key: _server_value(key, value, source) for key, value in table.items()}
    return ServerSettings(**values)


def _audit(table: Mapping[str, Any], source: str) -> AuditSettings:
    try:
        return audit_settings(table)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc


def _server_value(key: str, value: Any, source: str) -> Any:
    """One ``[server]`` value, checked; ``ConfigError`` names the key and ``source``."""
    kind = _SERVER_KEYS.get(key)
    if kind is None:
        known = ", ".join(sorted(_SERVER_KEYS))
        raise ConfigError(f"{source}: unknown key server.{key} (known: {known})")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{source}: server.{key} must be {kind.__name__}, got {value!r}")
    if key == "workers":
        check_workers(value, f"{source}: server.workers")
    elif key == "max_concurrent_rpcs":
        if not isinstance(value, int) or not 1 <= value <= 1_000_000:
            raise ConfigError(f"{source}: server.{key} must be 1 or more, got {value}")
    elif key == "probe_interval":
        if not isinstance(value, float) or not 0 <= value <= 3600:
            raise ConfigError(
                f"{source}: server.probe_interval must be 0 (no probes) to 3600 seconds,"
                f" got {value}"
            )
    elif key == "ready_min_registries":
        if not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ConfigError(f"{source}: server.{key} must be 0 or more, got {value}")
    elif key == "breaker_store":
        schemes = ("redis://", "rediss://", "unix://")
        if not isinstance(value, str) or (value and not value.startswith(schemes)):
            raise ConfigError(
                f"{source}: server.breaker_store must be empty (each process keeps its own)"
                f" or a redis://, rediss:// or unix:// URL, got {value!r}"
            )
    elif isinstance(value, int) and not 0 <= value <= 65535:
        raise ConfigError(f"{source}: server.{key} must be a port 0-65535, got {value}")
    return value


# Layers: files, then the environment ----------------------------------------------------------

ENV_PREFIX = "REGBUS_"
DEFAULT = "default"
# Keys of a [profiles.NAME] table (bus/profiles.py checks them again on the merged result).
_PROFILE_KEYS = {"title", "keys", "let", "steps", "enabled"}


@dataclass(frozen=True)
class Layer:
    """One source of settings: a file, or one ``REGBUS_...`` variable, and what it sets."""

    origin: str  # the file's path as given, or the variable's name
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Setting:
    """One value of the merged configuration and where it came from."""

    path: tuple[str, ...]
    value: Any
    origin: str  # a file, a variable, or "default"
    shadowed: tuple[tuple[str, Any], ...] = ()  # (origin, value) of earlier layers it beat

    @property
    def key(self) -> str:
        return ".".join(toml_key(part) for part in self.path)


@dataclass(frozen=True)
class Layered:
    """The configuration built from layers, with every value's origin."""

    config: Config
    layers: tuple[Layer, ...]
    settings: tuple[Setting, ...]  # every value a layer set, plus the server and policy defaults


def file_layer(path: Path) -> Layer:
    """A TOML file as a layer; ``ConfigError`` when it is missing or not TOML."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"configuration file {path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return Layer(str(path), data)


def environment_layers(environ: Mapping[str, str]) -> list[Layer]:
    """One layer per ``REGBUS_<SECTION>__<KEY>`` variable, in the order of their names.

    ``__`` separates levels and every level is lower-cased (``REGBUS_REGISTRIES__GBDFL__URL``
    sets ``registries.gbdfl.url``). A value is an integer, float or boolean when it reads as
    one in TOML, the string inside when it is a quoted TOML string (``'"0042"'``), else the
    text as it is. Variables without ``__`` (``REGBUS_TEST_REDIS_URL``) are not configuration,
    unless they start with a section's name (``REGBUS_SERVER_GRPC_PORT``: a missing ``_``).
    """
    layers = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :]
        if "__" not in rest:
            section = rest.split("_", 1)[0].lower()
            if section in _SECTIONS and rest.lower() != section:
                fixed = ENV_PREFIX + rest.replace("_", "__", 1)
                raise ConfigError(
                    f"{name}: levels are separated by two underscores"
                    f" ({fixed}, REGBUS_SECTION__KEY)"
                )
            continue
        path = rest.lower().split("__")
        if not all(path):
            raise ConfigError(
                f"{name}: an empty level; write REGBUS_SECTION__KEY with exactly two"
                " underscores between levels"
            )
        value: Any = env_value(environ[name])
        for part in reversed(path):
            value = {part: value}
        layers.append(Layer(name, value))
    return layers


def env_value(text: str) -> Any:
    """The value of a ``REGBUS_...`` variable: see ``environment_layers``."""
    if "\n" in text or "\r" in text:
        return text
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, bool | int | float):
        return text if "#" in text else value
    stripped = text.strip()
    if isinstance(value, str) and stripped[:1] in "\"'" and stripped[-1:] == stripped[:1]:
        return value
    return text


def load_layers(
    paths: Sequence[Path],
    environ: Mapping[str, str] | None = None,
    *,
    source: str | None = None,
) -> Config:
    """The configuration of ``paths`` (later files win key by key), then the ``REGBUS_...``
    variables of ``environ`` (``os.environ`` when None; ``{}`` for none)."""
    return layered(paths, environ, source=source).config


def layered(
    paths: Sequence[Path],
    environ: Mapping[str, str] | None = None,
    *,
    source: str | None = None,
) -> Layered:
    """``load_layers`` with every value's origin, for ``regbus config show``.

    ``source`` names the configuration in logs; by default the files, joined by `` + ``.
    """
    environ = os.environ if environ is None else environ
    layers = [file_layer(path) for path in paths] + environment_layers(environ)
    for layer in layers:
        check_layer(layer)
    data, origins, tables, shadowed = _merge(layers)
    label = source or " + ".join(str(path) for path in paths) or "defaults"
    variables = len(layers) - len(paths)
    if variables:
        label += f" + {variables} REGBUS_* variable{'s' if variables > 1 else ''}"
    rank = {layer.origin: index for index, layer in enumerate(layers)}

    def where(prefix: KeyPath) -> str:
        found = {o for path, o in origins.items() if path[: len(prefix)] == prefix}
        found.update(tables.get(prefix, ()))
        return ", ".join(sorted(found, key=rank.__getitem__))

    config = parse_config(data, source=label, origins=where)
    settings = _settings(data, origins, shadowed, config.profiles)
    return Layered(config=config, layers=tuple(layers), settings=settings)


def check_layer(layer: Layer) -> None:
    """Unknown keys and values of the wrong kind in one layer, named with its origin.

    What depends on other layers (a registry's ``url``, limits between two keys) is checked
    once they are merged.
    """
    data, source = layer.data, layer.origin
    _check_sections(data, source)
    for key, value in _table(data, "server", source).items():
        _server_value(key, value, source)
    try:
        Policy().merged(_table(data, "policy", source))
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    for registry_id, table in _table(data, "registries", source).items():
        where = f"{source}: registries.{registry_id}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{source}: [registries.{registry_id}] must be a table")
        _check_registry_keys(table, where)
        if not isinstance(table.get("options", {}), Mapping):
            raise ConfigError(f"{where}.options must be a table")
        policy = table.get("policy", {})
        if not isinstance(policy, Mapping):
            raise ConfigError(f"{where}.policy must be a table")
        try:
            Policy().merged(policy)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    for name, body in _table(data, "profiles", source).items():
        where = f"{source}: profiles.{name}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where} must be a table")
        unknown = set(body) - _PROFILE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    _audit(_table(data, "audit", source), source)
    try:
        check_access_layer(data, source)
    except AccessError as exc:
        raise ConfigError(str(exc)) from exc


KeyPath = tuple[str, ...]


def _merge(
    layers: Sequence[Layer],
) -> tuple[dict[str, Any], dict[KeyPath, str], dict[KeyPath, list[str]], dict[KeyPath, list[Any]]]:
    """Deep-merge the layers: tables key by key, anything else replaced whole.

    Returns the data, the origin of every value (a non-table), the origins of every table
    (also empty ones) and, per value, the (origin, value) pairs it replaced.
    """
    data: dict[str, Any] = {}
    origins: dict[KeyPath, str] = {}
    tables: dict[KeyPath, list[str]] = {}
    shadowed: dict[KeyPath, list[Any]] = {}

    def drop(prefix: KeyPath) -> None:
        for store in (origins, tables, shadowed):
            for path in [p for p in store if p[: len(prefix)] == prefix and p != prefix]:
                del store[path]

    def put(target: dict[str, Any], table: Mapping[str, Any], prefix: KeyPath, origin: str) -> None:
        tables.setdefault(prefix, []).append(origin)
        for key, value in table.items():
            path = (*prefix, key)
            if isinstance(value, Mapping):
                if not isinstance(target.get(key), dict):
                    if key in target:  # a value replaced by a table
                        origins.pop(path, None)
                        shadowed.pop(path, None)
                    target[key] = {}
                put(target[key], value, path, origin)
                continue
            if isinstance(target.get(key), dict):  # a table replaced by a value
                drop(path)
                tables.pop(path, None)
            elif key in target:
                shadowed.setdefault(path, []).append((origins[path], target[key]))
            target[key] = _plain(value)
            origins[path] = origin

    for layer in layers:
        put(data, layer.data, (), layer.origin)
    return data, origins, tables, shadowed


def _plain(value: Any) -> Any:
    """A value with its tables as plain dicts (arrays of tables included)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _settings(
    data: Mapping[str, Any],
    origins: Mapping[KeyPath, str],
    shadowed: Mapping[KeyPath, list[Any]],
    profiles: Mapping[str, Profile] | None = None,
) -> tuple[Setting, ...]:
    """Every value, the server and policy defaults first in their own order; the profiles
    no file declares as their origin has them (``default`` or an installed package)."""
    defaults = {
        "server": asdict(ServerSettings()),
        "policy": asdict(Policy()),
        "audit": asdict(AuditSettings()),
        "tls": asdict(TlsSettings()),
        "jwt": _listed(asdict(JwtSettings())),
        "access": {"local_client": AccessSettings.local_client},
    }
    found: dict[KeyPath, Setting] = {}
    for path, value in _leaves(defaults, ()):
        found[path] = Setting(path, value, DEFAULT)
    declared = data.get("profiles", {})
    for name, profile in (profiles or {}).items():
        if name not in declared:  # one a file declares is shown as the file has it
            for path, value in _leaves(profile_values(profile), ("profiles", name)):
                found[path] = Setting(path, value, profile.package or DEFAULT)
    for path, value in _leaves(data, ()):
        found[path] = Setting(path, value, origins[path], tuple(shadowed.get(path, ())))
    order = {section: index for index, section in enumerate(_SECTIONS)}
    settings = sorted(found.values(), key=lambda s: order.get(s.path[0], len(order)))
    return tuple(settings)


def _listed(table: Mapping[str, Any]) -> dict[str, Any]:
    """A settings table with its tuples as lists, as TOML writes arrays."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in table.items()}


def _leaves(table: Mapping[str, Any], prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def show_value(value: Any) -> str:
    """A value as TOML writes it, arrays and inline tables included."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{toml_key(k)} = {show_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    try:
        return toml_value(value)
    except TypeError:  # a TOML date or time
        return str(value)
