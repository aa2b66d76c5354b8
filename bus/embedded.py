"""The bus with its built-in mock registries in one process: ``regbus serve``
without ``--config``, and ``regbus demo``. Imports ``mocks`` on purpose; the
bus itself never does."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from regbus.adapters.base import Adapter, Endpoint
from regbus.bus.access import with_demo_access
from regbus.bus.config import Config, mentions, with_endpoints
from regbus.bus.plugins import discover
from regbus.bus.server import Bus

if TYPE_CHECKING:
    from regbus.mocks.population import Population
    from regbus.mocks.server import MockServer

DEFAULT_MOCKS_PORT = 8090
log = logging.getLogger("regbus.embedded")


@dataclass
class Embedded:
    bus: Bus
    mocks: MockServer

    @property
    def mocks_url(self) -> str:
        return self.mocks.base_url

    async def stop(self) -> None:
        await self.bus.stop()
        await self.mocks.stop()


async def start_embedded(
    config: Config | None = None,
    *,
    mocks_host: str = "127.0.0.1",
    mocks_port: int = DEFAULT_MOCKS_PORT,
    population: Population | None = None,
) -> Embedded:
    """Start every installed mock registry, then a bus with every installed adapter that
    has a mock configured against it (URL and the mock's endpoint options).

    The data is synthetic, so this is demo mode: unless ``config`` declares clients, every
    call is the client ``demo`` with every right (``bus/demo_access.toml``)."""
    from regbus.mocks.server import MockServer

    mocks = MockServer(population=population)
    await mocks.start(mocks_host, mocks_port)
    try:
        base = with_demo_access(config or Config(source="built-in mock registries"))
        adapters = discover()
        endpoints = mock_endpoints(base, adapters, mocks.adapter_endpoints())
        bus = Bus(with_endpoints(base, endpoints), adapters)
        await bus.start()
    except BaseException:
        await mocks.stop()
        raise
    return Embedded(bus, mocks)


def mock_endpoints(
    config: Config, adapters: Mapping[str, type[Adapter]], mocks: Mapping[str, Endpoint]
) -> dict[str, Endpoint]:
    """The mock endpoints the embedded bus adds to ``config``: those with an adapter
    installed. Logs one line for every adapter without a mock (left out) and every mock
    without an adapter (served, but the bus cannot call it)."""
    for registry in sorted(set(adapters) - set(mocks)):
        if not mentions(config, registry):
            log.warning(
                "adapter %s is installed but no mock registry is: the bus with built-in mocks"
                " leaves it out (install its mock, or run regbus serve --config FILE)",
                registry,
            )
    for registry in sorted(set(mocks) - set(adapters)):
        log.info(
            "mock registry %s is served at %s, but no adapter is installed for it",
            registry,
            mocks[registry].url,
        )
    return {registry: endpoint for registry, endpoint in mocks.items() if registry in adapters}
