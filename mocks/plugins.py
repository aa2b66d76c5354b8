"""Find mock registries through the ``regbus.mocks`` entry-point group.

A package that adds a registry can add its mock next to its adapter, under the same
registry id::

    [project.entry-points."regbus.mocks"]
    land = "kz_land.mock:LandMock"

The entry point names a factory: a class (or any callable) that takes the shared
``Population`` and returns an object implementing ``regbus.mocks.server.MockRegistry``
with ``id`` equal to the entry point's name. ``MockServer()`` serves every installed mock.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, cast

from regbus.bus.plugins import PluginError, label, load_group

if TYPE_CHECKING:
    from regbus.mocks.population import Population
    from regbus.mocks.server import MockRegistry

GROUP = "regbus.mocks"
MockFactory = Callable[["Population"], "MockRegistry"]
REQUIRED = ("routes", "endpoint_path", "technical_error", "malformed", "is_description")


def discover_mocks() -> dict[str, MockFactory]:
    """Every installed mock registry factory, by registry id.

    The factories check what they build: calling one gives a usable ``MockRegistry`` or
    raises ``PluginError`` naming its entry point.
    """
    return load_group(GROUP, "mock", _checked_factory)


def build_mocks(population: Population) -> list[MockRegistry]:
    """One instance of every installed mock registry, in registry-id order."""
    return [factory(population) for _, factory in sorted(discover_mocks().items())]


def _checked_factory(ep: EntryPoint, loaded: object) -> MockFactory:
    if not callable(loaded):
        raise ValueError("is not a class or function taking the Population")
    factory: Callable[[Population], object] = loaded
    where = label("mock", ep)

    def build(population: Population) -> MockRegistry:
        try:
            mock = factory(population)
        except Exception as exc:
            raise PluginError(f"{where} fails to build its mock registry: {exc}") from exc
        missing = [name for name in REQUIRED if not callable(getattr(mock, name, None))]
        if missing:
            raise PluginError(
                f"{where} builds a {type(mock).__name__} without {', '.join(missing)}"
                " (see regbus.mocks.server.MockRegistry)"
            )
        mock_id = getattr(mock, "id", None)
        if mock_id != ep.name:
            raise PluginError(f"{where} builds a mock registry with id {mock_id!r}")
        options = getattr(mock, "endpoint_options", None)
        if options is not None and not callable(options):
            raise PluginError(f"{where}: endpoint_options must be a method")
        return cast("MockRegistry", mock)

    return build
