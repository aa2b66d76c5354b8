"""Hostile registries for tests: a real HTTP server in front of the real mock registries
that hands each adapter a rewritten answer, and every declared adapter pointed at it.

    bench = Bench.open(population)                     # its own event loop, for hypothesis
    bench.rewrite = lambda got: Reply(200, "text/xml", got.body.replace(b"<", b"&lt;"))
    outcome = bench.call("gbdfl", "get_person", {"iin": "850314354052"})
    outcome.error, outcome.record, bench.relay.requests[-1]
    bench.close()

The adapter talks HTTP to the :class:`Relay`; the relay forwards the request to the
mock registry (so an X-Road answer echoes the request's own headers) and answers with
``rewrite(upstream)``: the mock's real answer, changed. Hypothesis runs tests
synchronously, so a :class:`Bench` runs its servers and adapters on an event loop of its
own, one call at a time.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from regbus.adapters.base import Adapter, CallContext, Endpoint
from regbus.adapters.declared import declared
from regbus.adapters.spec import Operation, Registry
from regbus.mocks.population import Population
from regbus.mocks.server import MockServer
from regbus.v1 import records_pb2

T = TypeVar("T")
CONTEXT = CallContext(request_id="hostile-tests", client_id="tests", operator_id="op-1")


@dataclass(frozen=True)
class Upstream:
    """One exchange with the mock registry: what the adapter sent, what the mock answered."""

    path: str
    request: bytes
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What the relay answers the adapter with; ``chunked`` sends it without a
    Content-Length, ``chunk`` bytes at a time."""

    status: int = 200
    content_type: str = "text/xml; charset=utf-8"
    body: bytes = b""
    chunked: bool = False
    chunk: int = 4096


Rewrite = Callable[[Upstream], Reply]


def passed_on(upstream: Upstream) -> Reply:
    """The mock's answer as it was."""
    return Reply(upstream.status, upstream.content_type, upstream.body)


class Relay:
    """An aiohttp server that forwards every request to ``upstream`` (the mock server's
    base URL) and answers with ``rewrite`` of the mock's answer. ``files`` are served as
    they are under their path (a DTD an answer points at), each fetch counted in ``hits``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rewrite: Rewrite = passed_on
        self.files: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        self.exchanges: list[Upstream] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession()
        return self.base_url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def requests(self) -> list[bytes]:
        """The bodies the adapters sent, in order."""
        return [exchange.request for exchange in self.exchanges]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path in self.files:
            self.hits[request.path] += 1
            return web.Response(body=self.files[request.path], content_type="text/plain")
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            upstream = Upstream(
                request.path_qs,
                body,
                answer.status,
                answer.headers.get("Content-Type", ""),
                await answer.read(),
            )
        self.exchanges.append(upstream)
        reply = self.rewrite(upstream)
        if not reply.chunked:
            return web.Response(
                status=reply.status, body=reply.body, headers={"Content-Type": reply.content_type}
            )
        response = web.StreamResponse(
            status=reply.status, headers={"Content-Type": reply.content_type}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(reply.body), max(1, reply.chunk)):
                await response.write(reply.body[start : start + max(1, reply.chunk)])
            await response.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass  # the adapter stopped reading: what a size limit does
        return response


_FORWARDED = frozenset({"content-type", "soapaction", "accept", "x-request-id", "idempotency-key"})


@dataclass
class Outcome:
    """How one call ended: a record, or the exception it raised."""

    record: records_pb2.Record | None = None
    error: BaseException | None = None


def registries() -> dict[str, Registry]:
    """Every installed declaration, by registry id."""
    found: dict[str, Registry] = {}
    for ep in entry_points(group="regbus.adapters"):
        loaded = ep.load()
        spec = loaded if isinstance(loaded, Registry) else loaded.spec
        found[spec.registry] = spec
    return found


@dataclass(repr=False)
class Bench:
    """The mock registries, a :class:`Relay` in front of them and an adapter of every
    declared registry pointed at the relay, on an event loop of their own."""

    loop: asyncio.AbstractEventLoop
    mocks: MockServer
    relay: Relay
    specs: dict[str, Registry]
    adapters: dict[str, Adapter] = field(default_factory=dict)

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return f"<Bench of {len(self.adapters)} adapters behind {self.relay.base_url}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    @classmethod
    def open(cls, population: Population, *, max_answer_bytes: int | None = None) -> Bench:
        loop = asyncio.new_event_loop()
        mocks = MockServer(population=population)
        bench = cls(loop, mocks, Relay(""), registries())
        try:
            bench.run(bench._start(max_answer_bytes))
        except BaseException:
            bench.close()
            raise
        return bench

    async def _start(self, max_answer_bytes: int | None) -> None:
        base = await self.mocks.start("127.0.0.1", 0)
        self.relay.upstream = base
        relayed = await self.relay.start()
        for registry, endpoint in self.mocks.adapter_endpoints().items():
            spec = self.specs.get(registry)
            if spec is None:
                continue
            moved = replace(endpoint, url=endpoint.url.replace(base, relayed, 1))
            if max_answer_bytes is not None:
                moved = replace(moved, max_answer_bytes=max_answer_bytes)
            self.adapters[registry] = declared(spec)(moved)

    def endpoint(self, registry: str, **changes: Any) -> Endpoint:
        """The relayed endpoint of ``registry``, with ``changes`` (for another adapter)."""
        return replace(self.adapters[registry].endpoint, **changes)

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def call(
        self,
        registry: str,
        operation: str,
        params: Mapping[str, str],
        rewrite: Rewrite | None = None,
    ) -> Outcome:
        """One call of the adapter through the relay, answered with ``rewrite``."""
        self.relay.rewrite = rewrite or passed_on
        try:
            record = self.run(self.adapters[registry].call(operation, dict(params), CONTEXT))
        except Exception as exc:  # the test judges what it is
            return Outcome(error=exc)
        finally:
            self.relay.rewrite = passed_on
        return Outcome(record=record)

    def operation(self, registry: str, name: str) -> Operation:
        op = self.specs[registry].operation(name)
        assert op is not None, f"{registry} has no operation {name}"
        return op

    def close(self) -> None:
        async def stop() -> None:
            for adapter in self.adapters.values():
                await adapter.aclose()
            await self.relay.stop()
            await self.mocks.stop()

        try:
            self.loop.run_until_complete(stop())
        finally:
            self.loop.close()
