"""Who may call the bus, and what for: the ``[tls]``, ``[jwt]``, ``[access]``,
``[clients.ID]`` and ``[purposes.NAME]`` sections of the configuration as checked values.

    [tls]                        # gRPC and HTTP over TLS; with client_ca_file, mutual TLS:
    cert_file = "bus.crt"        # a client certificate is required and names the client
    key_file = "bus.key"
    client_ca_file = "clients-ca.crt"

    [clients.police-tablets]
    registries = ["vehicles", "gbdfl.get_person", "narcology"]  # registry or registry.operation
    restricted = ["narcology"]   # restricted registries need this explicit right too
    purposes = ["roadside_check"]

    [purposes.roadside_check]
    fields = { narcology = ["iin", "register", "registered"] }  # what the purpose may see

Compiled for the request path by ``bus.rights``; how callers are identified is
``bus.identity``; ``docs/security.md`` explains it for operators.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from regbus.bus.config import Config

ALL = "*"
ACCESS_SECTIONS = ("tls", "jwt", "access", "clients", "purposes")
# A client id, a purpose name: what a log line and a TOML key can carry as they are.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")
# A right: "registry", "registry.operation" or "*".
_RIGHT = re.compile(r"\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?")
_DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class AccessError(ValueError):
    """An access section cannot be used; the message says where and why."""


@dataclass(frozen=True)
class TlsSettings:
    """Certificate files for gRPC and HTTP; ``client_ca_file`` makes TLS mutual."""

    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""  # set: every client presents a certificate signed by this CA

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file)

    @property
    def mutual(self) -> bool:
        return bool(self.client_ca_file)


@dataclass(frozen=True)
class JwtSettings:
    """Signed bearer tokens (``authorization: Bearer ...``) that name the client."""

    jwks_file: str = ""  # the issuer's public keys, a JSON Web Key Set
    issuer: str = ""  # the `iss` every token must carry
    audience: str = ""  # the `aud` every token must carry
    leeway: float = 30.0  # seconds of clock skew allowed on `exp` and `nbf`
    algorithms: tuple[str, ...] = _DEFAULT_ALGORITHMS

    @property
    def enabled(self) -> bool:
        return bool(self.jwks_file)


@dataclass(frozen=True)
class ClientSettings:
    """One client: what it may call, with which purposes, and how its certificate names it."""

    id: str
    registries: tuple[str, ...] = ()  # "registry", "registry.operation" or "*"
    restricted: tuple[str, ...] = ()  # restricted registries it may call, or "*"
    purposes: tuple[str, ...] = ()  # purposes it may state, or "*"
    # Names in its certificate (a subject alternative name, else the common name) that
    # identify it; none given: its id.
    certificate_names: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.certificate_names or (self.id,)


@dataclass(frozen=True)
class PurposeSettings:
    """Why data is asked for: what it needs in the request, and what it may see."""

    name: str
    title: str = ""
    case_number: bool = False  # the request must carry a case number
    # Registries or operations whose calls need the person's consent ("*": every call).
    consent: tuple[str, ...] = ()
    # Per registry or registry.operation, the record fields this purpose may see
    # (["*"]: all); a registry not listed is seen whole.
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessSettings:
    """``[access]`` with the declared clients and purposes."""

    # Who calls when the bus authenticates nobody (no mutual TLS, no tokens): loopback only.
    local_client: str = "local"
    consent: tuple[str, ...] = ()  # registries or operations needing consent whatever the purpose
    # Signed consent tokens (x-regbus-consent-token): the consent service's keys and name.
    consent_jwks_file: str = ""
    consent_issuer: str = ""
    clients: Mapping[str, ClientSettings] = field(default_factory=dict)
    purposes: Mapping[str, PurposeSettings] = field(default_factory=dict)


_TLS_KEYS = {"cert_file", "key_file", "client_ca_file"}
_JWT_KEYS = {"jwks_file", "issuer", "audience", "leeway", "algorithms"}
_ACCESS_KEYS = {"local_client", "consent", "consent_jwks_file", "consent_issuer"}
_CLIENT_KEYS = {"registries", "restricted", "purposes", "certificate_names"}
_PURPOSE_KEYS = {"title", "case_number", "consent", "fields"}


def parse_tls(table: Mapping[str, Any], where: str) -> TlsSettings:
    _known(table, _TLS_KEYS, f"{where}: tls")
    values = {key: _text(table, key, f"{where}: tls") for key in table}
    tls = TlsSettings(**values)
    if bool(tls.cert_file) != bool(tls.key_file):
        raise AccessError(f"{where}: tls needs both cert_file and key_file")
    if tls.client_ca_file and not tls.cert_file:
        raise AccessError(
            f"{where}: tls.client_ca_file (mutual TLS) needs the bus's own cert_file and key_file"
        )
    return tls


def parse_jwt(table: Mapping[str, Any], where: str) -> JwtSettings:
    _known(table, _JWT_KEYS, f"{where}: jwt")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "leeway":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AccessError(f"{where}: jwt.leeway must be seconds, got {value!r}")
            if not 0 <= value <= 600:
                raise AccessError(f"{where}: jwt.leeway must be 0 to 600 seconds, got {value}")
            values[key] = float(value)
        elif key == "algorithms":
            values[key] = _names(table, key, f"{where}: jwt", pattern=None)
            if not values[key] or "none" in {a.lower() for a in values[key]}:
                raise AccessError(f"{where}: jwt.algorithms must name signing algorithms")
        else:
            values[key] = _text(table, key, f"{where}: jwt")
    jwt = JwtSettings(**values)
    if jwt.enabled and not (jwt.issuer and jwt.audience):
        raise AccessError(
            f"{where}: jwt needs issuer and audience besides jwks_file: every token's"
            " `iss` and `aud` are checked"
        )
    return jwt


def parse_access(
    access: Mapping[str, Any],
    clients: Mapping[str, Any],
    purposes: Mapping[str, Any],
    where: Callable[..., str],
) -> AccessSettings:
    """``[access]``, ``[clients.*]`` and ``[purposes.*]``; ``where(*path)`` names the file
    (or variable) that set a key."""
    _known(access, _ACCESS_KEYS, f"{where('access')}: access")
    values: dict[str, Any] = {}
    for key in access:
        origin = f"{where('access', key)}: access"
        if key == "consent":
            values[key] = _names(access, key, origin, pattern=_RIGHT)
        else:
            values[key] = _text(access, key, origin)
    declared_purposes = {
        name: _purpose(name, body, f"{where('purposes', name)}: purposes.{name}")
        for name, body in purposes.items()
    }
    declared_clients = {
        client_id: _client(client_id, body, f"{where('clients', client_id)}: clients.{client_id}")
        for client_id, body in clients.items()
    }
    for client in declared_clients.values():
        unknown = sorted(set(client.purposes) - set(declared_purposes) - {ALL})
        if unknown:
            known = ", ".join(sorted(declared_purposes)) or "none"
            raise AccessError(
                f"{where('clients', client.id)}: clients.{client.id}.purposes names"
                f" {', '.join(unknown)}, not declared as [purposes.NAME] (declared: {known})"
            )
    owners: dict[str, str] = {}
    for client in declared_clients.values():
        for name in client.names:
            other = owners.setdefault(name, client.id)
            if other != client.id:
                raise AccessError(
                    f"{where('clients', client.id)}: certificate name {name!r} names both"
                    f" clients.{other} and clients.{client.id}"
                )
    local = values.get("local_client", AccessSettings.local_client)
    if local and not _NAME.fullmatch(local):
        raise AccessError(f"{where('access')}: access.local_client {local!r} is not a client id")
    return AccessSettings(**values, clients=declared_clients, purposes=declared_purposes)


def check_access_layer(data: Mapping[str, Any], source: str) -> None:
    """Unknown keys and values of the wrong kind in one layer's access sections; what needs
    other layers (a purpose a client names, both TLS files) is checked once merged."""
    for section, keys in (("tls", _TLS_KEYS), ("jwt", _JWT_KEYS), ("access", _ACCESS_KEYS)):
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise AccessError(f"{source}: [{section}] must be a table")
        _known(table, keys, f"{source}: {section}")
    for section, keys in (("clients", _CLIENT_KEYS), ("purposes", _PURPOSE_KEYS)):
        tables = data.get(section, {})
        if not isinstance(tables, Mapping):
            raise AccessError(f"{source}: [{section}] must be a table of [{section}.NAME]")
        for name, body in tables.items():
            if not isinstance(body, Mapping):
                raise AccessError(f"{source}: {section}.{name} must be a table")
            _known(body, keys, f"{source}: {section}.{name}")


def _client(client_id: str, body: Any, where: str) -> ClientSettings:
    if not _NAME.fullmatch(client_id):
        raise AccessError(
            f"{where}: a client id is letters, digits and . _ : @ - (at most 128), got"
            f" {client_id!r}"
        )
    if not isinstance(body, Mapping):
        raise AccessError(f"{where} must be a table")
    _known(body, _CLIENT_KEYS, where)
    return ClientSettings(
        id=client_id,
        registries=_names(body, "registries", where, pattern=_RIGHT),
        restricted=_names(body, "restricted", where, pattern=_RIGHT),
        purposes=_names(body, "purposes", where, pattern=None),
        certificate_names=_names(body, "certificate_names", where, pattern=None),
    )


def _purpose(name: str, body: Any, where: str) -> PurposeSettings:
    if not _NAME.fullmatch(name):
        raise AccessError(f"{where}: a purpose name is letters, digits and . _ : @ -")
    if not isinstance(body, Mapping):
        raise AccessError(f"{where} must be a table")
    _known(body, _PURPOSE_KEYS, where)
    case_number = body.get("case_number", False)
    if not isinstance(case_number, bool):
        raise AccessError(f"{where}.case_number must be true or false, got {case_number!r}")
    consent_value = body.get("consent", False)
    if isinstance(consent_value, bool):
        consent: tuple[str, ...] = (ALL,) if consent_value else ()
    else:
        consent = _names(body, "consent", where, pattern=_RIGHT)
    fields = body.get("fields", {})
    if not isinstance(fields, Mapping):
        raise AccessError(f"{where}.fields must be a table of registry = [field, ...]")
    seen: dict[str, tuple[str, ...]] = {}
    for target in fields:
        if not _RIGHT.fullmatch(target) or target == ALL:
            raise AccessError(f"{where}.fields: {target!r} is not a registry or registry.operation")
        seen[target] = _names(fields, target, f"{where}.fields", pattern=None)
    title = body.get("title", "")
    if not isinstance(title, str):
        raise AccessError(f"{where}.title must be text")
    return PurposeSettings(name, title, case_number, consent, seen)


def _known(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = set(table) - keys
    if unknown:
        known = ", ".join(sorted(keys))
        raise AccessError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {known})")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise AccessError(f"{where}.{key} must be text, got {value!r}")
    return value


def _names(
    table: Mapping[str, Any], key: str, where: str, *, pattern: re.Pattern[str] | None
) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AccessError(f"{where}.{key} must be a list of names, got {value!r}")
    if pattern is not None:
        bad = [v for v in value if not pattern.fullmatch(v)]
        if bad:
            raise AccessError(
                f'{where}.{key}: {bad[0]!r} is not a registry, registry.operation or "*"'
            )
    return tuple(value)


# Demo mode and exposure -----------------------------------------------------------------------

DEMO_CLIENT = "demo"


def demo_access() -> AccessSettings:
    """The access of demo mode (``bus/demo_access.toml``): the client ``demo`` may call
    every registry with every purpose declared there."""
    data = tomllib.loads((files("regbus.bus") / "demo_access.toml").read_text("utf-8"))
    return parse_access(
        data.get("access", {}),
        data.get("clients", {}),
        data.get("purposes", {}),
        lambda *path: "demo access (bus/demo_access.toml)",
    )


def with_demo_access(config: Config) -> Config:
    """``config`` in demo mode: unless it declares clients, every unauthenticated call is
    the client ``demo`` with every right; its own purposes win over the demo ones."""
    if config.access.clients:
        return config
    demo = demo_access()
    access = replace(
        config.access,
        local_client=demo.local_client,
        clients=demo.clients,
        purposes={**demo.purposes, **config.access.purposes},
    )
    return replace(config, access=access)


def authenticates(config: Config) -> bool:
    """Whether the bus knows who calls: mutual TLS or signed tokens."""
    return config.tls.mutual or config.jwt.enabled


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(config: Config, *, embedded: bool = False) -> str | None:
    """Why the bus must not listen where ``config`` says, or None.

    Without mutual TLS or tokens nobody is authenticated: every call is the local client,
    so the bus listens on loopback only, unless in demo mode (``[server] demo``).
    """
    host = config.server.host
    if is_loopback(host) or authenticates(config) or config.server.demo:
        return None
    shown = host or "every address"
    if embedded:
        return (
            f"refusing to serve on {shown}: without --config, regbus serve serves synthetic"
            " demo data to anyone, unauthenticated. Serve it on 127.0.0.1 (the default), or"
            " pass --demo to serve the demo on this address anyway"
        )
    return (
        f"refusing to serve on {shown}: {config.source} authenticates no caller, so every call"
        " would be the local client. Set [tls] with client_ca_file (mutual TLS) or [jwt]"
        " (signed tokens) and declare [clients.ID] (see docs/security.md), or serve on"
        " 127.0.0.1; for synthetic data only, [server] demo = true or --demo"
    )
