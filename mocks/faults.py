"""Fault injection for mock registries: ``ok``, ``down``, ``hang``, ``slow=MS``,
``errors=RATE``, ``malformed``.

    >>> parse_fault("slow=250")
    Fault(mode='slow', delay=0.25, rate=0.0)
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

MODES = ("ok", "down", "hang", "slow=MS", "errors=RATE", "malformed")


@dataclass(frozen=True)
class Fault:
    mode: str = "ok"
    delay: float = 0.0  # seconds, for slow
    rate: float = 0.0  # share of failed answers, for errors

    def __str__(self) -> str:
        if self.mode == "slow":
            return f"slow={round(self.delay * 1000)}"
        if self.mode == "errors":
            return f"errors={self.rate:g}"
        return self.mode


def parse_fault(text: str) -> Fault:
    """Parse a fault mode as the command line writes it; ``ValueError`` if wrong."""
    text = text.strip().lower()
    name, _, arg = text.partition("=")
    if name in ("ok", "down", "hang", "malformed") and not arg:
        return Fault(name)
    try:
        if name == "slow" and arg:
            ms = float(arg)
            if ms >= 0:
                return Fault("slow", delay=ms / 1000)
        if name == "errors" and arg:
            rate = float(arg)
            if 0 <= rate <= 1:
                return Fault("errors", rate=rate)
    except ValueError:
        pass
    raise ValueError(f"unknown fault mode {text!r}; use one of: {', '.join(MODES)}")


class FaultBoard:
    """The current fault of every mock registry; waiters wake when one changes."""

    def __init__(self, registries: list[str]) -> None:
        self._faults = {r: Fault() for r in registries}
        self._changed = {r: asyncio.Event() for r in registries}

    def __contains__(self, registry: str) -> bool:
        return registry in self._faults

    def get(self, registry: str) -> Fault:
        return self._faults[registry]

    def set(self, registry: str, fault: Fault) -> None:
        self._faults[registry] = fault
        event = self._changed[registry]
        event.set()
        self._changed[registry] = asyncio.Event()

    def snapshot(self) -> dict[str, str]:
        return {r: str(f) for r, f in self._faults.items()}

    async def wait_change(self, registry: str, limit: float) -> None:
        """Wait until the registry's fault changes, at most ``limit`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed[registry].wait(), limit)
