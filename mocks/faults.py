"""Fault injection for mock registries: ``ok``, ``down``, ``hang``, ``slow=MS``,
``errors=RATE``, ``malformed``, ``huge=MB``, ``flap=MS``, ``reset``.

    >>> parse_fault("slow=250")
    Fault(mode='slow', delay=0.25, rate=0.0, size=0, period=0.0)

``huge=MB`` answers every call with a valid-looking body of that many megabytes
(an envelope or JSON object around padding), streamed without a Content-Length,
so only a client that counts what it reads can stop it. ``flap=MS`` is down and
up by turns, MS milliseconds each; ``reset`` starts an answer and drops the
connection in the middle of it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

MODES = (
    "ok",
    "down",
    "hang",
    "slow=MS",
    "errors=RATE",
    "malformed",
    "huge=MB",
    "flap=MS",
    "reset",
)
MEGABYTE = 1024 * 1024
HUGE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Fault:
    mode: str = "ok"
    delay: float = 0.0  # seconds, for slow
    rate: float = 0.0  # share of failed answers, for errors
    size: int = 0  # bytes, for huge
    period: float = 0.0  # seconds down, then as many up, for flap

    def __str__(self) -> str:
        if self.mode == "slow":
            return f"slow={round(self.delay * 1000)}"
        if self.mode == "errors":
            return f"errors={self.rate:g}"
        if self.mode == "huge":
            return f"huge={self.size / MEGABYTE:g}"
        if self.mode == "flap":
            return f"flap={round(self.period * 1000)}"
        return self.mode

    def down_now(self, now: float) -> bool:
        """For flap: whether the registry is in a down half-period at ``now``."""
        return self.mode == "flap" and int(now / self.period) % 2 == 0


def parse_fault(text: str) -> Fault:
    """Parse a fault mode as the command line writes it; ``ValueError`` if wrong."""
    text = text.strip().lower()
    name, _, arg = text.partition("=")
    if name in ("ok", "down", "hang", "malformed", "reset") and not arg:
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
        if name == "flap" and arg:
            ms = float(arg)
            if ms > 0:
                return Fault("flap", period=ms / 1000)
        if name == "huge" and arg:
            megabytes = float(arg)
            if 0 < megabytes <= 4096:
                return Fault("huge", size=round(megabytes * MEGABYTE))
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


def huge_body(content_type: str, size: int) -> Iterator[bytes]:
    """About ``size`` bytes that look like an answer in ``content_type``: a JSON
    object or a SOAP envelope whose one text field is padding, in 64 KiB chunks."""
    if "json" in content_type:
        head, tail = b'{"padding": "', b'"}'
    else:
        head = (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soapenv:Body><padding>"
        )
        tail = b"</padding></soapenv:Body></soapenv:Envelope>"
    yield head
    chunk = b"x" * HUGE_CHUNK
    left = max(size - len(head) - len(tail), 0)
    while left > 0:
        yield chunk[: min(left, HUGE_CHUNK)]
        left -= HUGE_CHUNK
    yield tail
