"""One aiohttp server hosting every mock registry, each under ``/{registry}/``.

Faults are applied in front of each registry's handlers; the admin API is
``GET /_faults`` and ``PUT /_faults/{registry}`` with the mode as the body.

    server = MockServer()
    base_url = await server.start("127.0.0.1", 8090)
    server.endpoints()   # {"gbdfl": "http://127.0.0.1:8090/gbdfl/SyncChannel", ...}
    server.adapter_endpoints()   # {"gbdfl": Endpoint(url=..., options={...}), ...}

Without a list of registries it serves every installed mock (entry-point group
``regbus.mocks``, see ``regbus.mocks.plugins``), each built on the one population they
share: ``population=`` (e.g. ``Population.generate(size=50, seed=7)``), by default
``Population.load()``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web

from regbus.adapters.base import Endpoint
from regbus.mocks.faults import MEGABYTE, FaultBoard, huge_body, parse_fault
from regbus.mocks.population import Population

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HANG_LIMIT = 600.0  # a hanging request gives up after this long at most


class MockRegistry(Protocol):
    """What a mock registry module provides to the server.

    Optionally it also has ``endpoint_options(self) -> dict[str, str]``: the settings its
    adapter needs besides the URL (``[registries.ID.options]``, e.g. X-Road identifiers).
    The server uses it when present (``HasEndpointOptions``), so a mock without it still works.
    """

    id: str

    def routes(self) -> list[web.RouteDef]:
        """Routes relative to the registry's prefix, e.g. ``web.post("/SyncChannel", ...)``."""

    def endpoint_path(self) -> str:
        """Path (under ``/{id}``) the bus adapter should call, e.g. ``/SyncChannel``."""

    def technical_error(self, request: web.Request) -> web.Response:
        """A technical failure in this registry's own wire style (errors=RATE)."""

    def malformed(self, request: web.Request) -> web.Response:
        """An unreadable answer in this registry's content type (malformed)."""

    def is_description(self, request: web.Request) -> bool:
        """True for WSDL/OpenAPI requests, which faults do not touch."""


class HasEndpointOptions(Protocol):
    """The optional part of ``MockRegistry``."""

    def endpoint_options(self) -> dict[str, str]:
        """Settings the adapter needs besides the URL, for ``[registries.ID.options]``."""


def default_registries(population: Population) -> list[MockRegistry]:
    """Every installed mock registry (entry-point group ``regbus.mocks``): regbus's own
    (gbdfl, zags, vehicles) and those other packages add."""
    from regbus.mocks.plugins import build_mocks

    return build_mocks(population)


class MockServer:
    """Runs the mock registries on one port."""

    def __init__(
        self,
        registries: list[MockRegistry] | None = None,
        *,
        population: Population | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.population = Population.load() if population is None else population
        if registries is None:
            registries = default_registries(self.population)
        self.registries = {r.id: r for r in registries}
        self.faults = FaultBoard(list(self.registries))
        self.requests: dict[str, int] = dict.fromkeys(self.registries, 0)  # answered calls
        self._rng = rng or random.Random()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._fault_middleware])
        app.router.add_get("/_faults", self._get_faults)
        app.router.add_put("/_faults/{registry}", self._put_fault)
        app.router.add_post("/_faults/{registry}", self._put_fault)
        for registry in self.registries.values():
            sub = web.Application()
            sub.add_routes(registry.routes())
            app.add_subapp(f"/{registry.id}", sub)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; return the base URL (with the real port when ``port`` is 0)."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise OSError(
                f"cannot run the mock registries on {host}:{port}: {exc.strerror}"
                " (choose another port with --mocks-port or --port)"
            ) from exc
        actual = int(self._runner.addresses[0][1])
        self.base_url = f"http://{host}:{actual}"
        return self.base_url

    async def stop(self) -> None:
        for registry in self.registries:  # wake hanging handlers so shutdown is quick
            self.faults.set(registry, parse_fault("ok"))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def endpoints(self) -> dict[str, str]:
        """The URL each registry's adapter should call."""
        return {
            rid: f"{self.base_url}/{rid}{r.endpoint_path()}" for rid, r in self.registries.items()
        }

    def endpoint_options(self) -> dict[str, dict[str, str]]:
        """The settings besides the URL each registry's adapter needs (empty when none)."""
        found: dict[str, dict[str, str]] = {}
        for rid, registry in self.registries.items():
            method = getattr(registry, "endpoint_options", None)
            options = method() if callable(method) else {}
            if not isinstance(options, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in options.items()
            ):
                raise TypeError(
                    f"mock registry {rid}: endpoint_options() must return a dict of strings,"
                    f" got {options!r}"
                )
            found[rid] = dict(options)
        return found

    def adapter_endpoints(self) -> dict[str, Endpoint]:
        """What each registry's adapter should be configured with: URL and options."""
        options = self.endpoint_options()
        return {rid: Endpoint(url, options[rid]) for rid, url in self.endpoints().items()}

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        registry_id = request.path.strip("/").split("/", 1)[0]
        registry = self.registries.get(registry_id)
        if registry is None or registry.is_description(request):
            return await handler(request)
        self.requests[registry_id] += 1
        fault = self.faults.get(registry_id)
        while fault.mode == "hang":
            await self.faults.wait_change(registry_id, HANG_LIMIT)
            fault = self.faults.get(registry_id)
        if fault.mode == "down" or fault.down_now(time.monotonic()):
            return web.Response(
                status=503, text="503 Service Unavailable\n", content_type="text/plain"
            )
        if fault.mode == "slow":
            await asyncio.sleep(fault.delay)
        if fault.mode == "errors" and self._rng.random() < fault.rate:
            return registry.technical_error(request)
        if fault.mode == "malformed":
            return registry.malformed(request)
        if fault.mode == "reset":
            return await _reset(request, registry.malformed(request).content_type)
        if fault.mode == "huge":  # in the registry's own content type
            return await _huge(request, registry.malformed(request).content_type, fault.size)
        return await handler(request)

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults.snapshot())

    async def _put_fault(self, request: web.Request) -> web.Response:
        registry = request.match_info["registry"]
        if registry not in self.faults:
            known = ", ".join(sorted(self.registries))
            return _problem(404, f"no mock registry {registry!r}; known: {known}")
        text = (await request.text()).strip()
        if text.startswith("{"):
            try:
                text = str(json.loads(text).get("mode", ""))
            except (ValueError, AttributeError):
                return _problem(400, 'body must be a mode such as \'down\' or {"mode": "down"}')
        try:
            fault = parse_fault(text)
        except ValueError as exc:
            return _problem(400, str(exc))
        self.faults.set(registry, fault)
        return web.json_response({"registry": registry, "mode": str(fault)})


async def _huge(request: web.Request, content_type: str, size: int) -> web.StreamResponse:
    """Stream ``size`` bytes without a Content-Length; stop when the client hangs up."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for chunk in huge_body(content_type, size):
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client stopped reading, as it should
    return response


async def _reset(request: web.Request, content_type: str) -> web.StreamResponse:
    """Start a 200 answer, then drop the connection in the middle of its body."""
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(next(huge_body(content_type, MEGABYTE)))
    if request.transport is not None:
        request.transport.close()
    return response


def _problem(status: int, detail: str) -> web.Response:
    return web.json_response(
        {"title": "mock registry admin", "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )
