"""Find adapters (and, through the same loader, mock registries) by entry-point group.

An integrator's package adds a registry with one line in its pyproject.toml::

    [project.entry-points."regbus.adapters"]
    land = "kz_land.adapter:LandAdapter"

its mock registry with another (see ``regbus.mocks.plugins``)::

    [project.entry-points."regbus.mocks"]
    land = "kz_land.mock:LandMock"

and Compose profiles that use it with a third (see ``regbus.bus.profiles``)::

    [project.entry-points."regbus.profiles"]
    kz_land = "kz_land:PROFILES"          # files("kz_land") / "profiles.toml"
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import TypeVar

from regbus.adapters.base import Adapter
from regbus.adapters.declared import declared
from regbus.adapters.spec import Registry

GROUP = "regbus.adapters"
log = logging.getLogger("regbus.plugins")
T = TypeVar("T")


class PluginError(RuntimeError):
    """An installed plugin cannot be used; the message names the entry point."""


def label(kind: str, ep: EntryPoint) -> str:
    """How errors name an entry point: ``adapter entry point land = kz_land.adapter:Land``."""
    return f"{kind} entry point {ep.name} = {ep.value}"


def installed(group: str) -> list[str]:
    """The names of a group's entry points (registry ids), sorted, without loading them."""
    return sorted({ep.name for ep in entry_points(group=group)})


def load_group(
    group: str,
    kind: str,
    check: Callable[[EntryPoint, object], T],
    *,
    named: str = "registry",
) -> dict[str, T]:
    """Load every entry point of ``group``, by name.

    ``check(ep, loaded)`` returns the loaded object as the caller uses it, or raises
    ``ValueError`` saying what is wrong with it ("is not an Adapter class"). Every failure
    is a ``PluginError`` that names the entry point; so is one name installed twice
    (``named`` says what the names are: registry ids for adapters and mocks).
    """
    found: dict[str, T] = {}
    origin: dict[str, tuple[object, str]] = {}
    for ep in entry_points(group=group):
        where = label(kind, ep)
        try:
            loaded = ep.load()
        except Exception as exc:
            raise PluginError(f"{where} fails to load: {exc}") from exc
        try:
            value = check(ep, loaded)
        except ValueError as exc:
            raise PluginError(f"{where} {exc}") from exc
        if ep.name in origin:
            first, first_value = origin[ep.name]
            if first is loaded:
                continue
            raise PluginError(
                f"two {kind}s are installed for {named} {ep.name!r}: {first_value} and {ep.value}"
            )
        origin[ep.name] = (loaded, ep.value)
        found[ep.name] = value
    return found


def discover() -> dict[str, type[Adapter]]:
    """Every installed adapter class, by registry id."""
    return load_group(GROUP, "adapter", _adapter_class)


def _adapter_class(ep: EntryPoint, loaded: object) -> type[Adapter]:
    if isinstance(loaded, Registry):
        loaded = declared(loaded)
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        raise ValueError("is neither a Registry declaration nor an Adapter class")
    if loaded.spec.registry != ep.name:
        raise ValueError(f"declares registry {loaded.spec.registry!r}")
    return loaded
