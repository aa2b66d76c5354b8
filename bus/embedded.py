"""The bus with its built-in mock registries in one process: ``regbus serve``
without ``--config``, and ``regbus demo``. Imports ``mocks`` on purpose; the
bus itself never does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from regbus.bus.config import Config, with_endpoints
from regbus.bus.server import Bus

if TYPE_CHECKING:
    from regbus.mocks.server import MockServer

DEFAULT_MOCKS_PORT = 8090


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
) -> Embedded:
    """Start the mock registries, then a bus configured against them."""
    from regbus.mocks.server import MockServer

    mocks = MockServer()
    await mocks.start(mocks_host, mocks_port)
    try:
        base = config or Config(source="built-in mock registries")
        bus = Bus(with_endpoints(base, mocks.endpoints()))
        await bus.start()
    except BaseException:
        await mocks.stop()
        raise
    return Embedded(bus, mocks)
