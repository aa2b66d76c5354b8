"""Find adapters through the ``regbus.adapters`` entry-point group.

An integrator's package adds a registry with one line in its pyproject.toml::

    [project.entry-points."regbus.adapters"]
    land = "kz_land.adapter:LandAdapter"
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from regbus.adapters.base import Adapter

GROUP = "regbus.adapters"
log = logging.getLogger("regbus.plugins")


class PluginError(RuntimeError):
    """An installed adapter cannot be used; the message names the entry point."""


def discover() -> dict[str, type[Adapter]]:
    """Every installed adapter class, by registry id."""
    found: dict[str, type[Adapter]] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            raise PluginError(
                f"adapter entry point {ep.name} = {ep.value} fails to load: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise PluginError(f"adapter entry point {ep.name} = {ep.value} is not an Adapter class")
        if cls.spec.registry != ep.name:
            raise PluginError(
                f"adapter entry point {ep.name} = {ep.value}"
                f" declares registry {cls.spec.registry!r}"
            )
        if ep.name in found and found[ep.name] is not cls:
            raise PluginError(f"two adapters are installed for registry {ep.name!r}")
        found[ep.name] = cls
    return found
