"""The running bus: gRPC server (RegistryBus, health, reflection) and its HTTP side.

bus = Bus(config)
await bus.start()
...
await bus.stop()
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import grpc
from aiohttp import web
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from regbus.adapters.base import Adapter
from regbus.bus.access import exposure_problem
from regbus.bus.audit.writer import AuditLog
from regbus.bus.config import Config, ConfigError, ServerSettings
from regbus.bus.identity import Identity, http_ssl_context, server_credentials
from regbus.bus.plugins import discover
from regbus.bus.probes import Prober
from regbus.bus.router import Router
from regbus.bus.servicer import RegistryBusServicer
from regbus.circuit.store import BreakerStore, RedisStore
from regbus.monitoring.grpc_metrics import RpcMetrics
from regbus.monitoring.http import build_app
from regbus.monitoring.metrics import Metrics
from regbus.v1 import bus_pb2, bus_pb2_grpc

log = logging.getLogger("regbus.server")
# [server] access_log: one line per gRPC call and HTTP request (INFO).
ACCESS_LOG = logging.getLogger("regbus.access_log")
SERVICE_NAME = bus_pb2.DESCRIPTOR.services_by_name["RegistryBus"].full_name
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# How often a bus with a shared breaker store adopts what the other processes decided.
BREAKER_SYNC_INTERVAL = 0.5


def breaker_store(settings: ServerSettings) -> BreakerStore | None:
    """The shared breaker store the settings name, or None to keep state per process."""
    if not settings.breaker_store:
        return None
    return RedisStore.from_url(settings.breaker_store, prefix=settings.breaker_prefix)


def health_name(registry: str) -> str:
    """The grpc.health.v1 service name that reports one registry."""
    return f"{SERVICE_NAME}/{registry}"


class Bus:
    """Everything ``regbus serve`` runs.

    ``worker`` is set in the processes of ``regbus serve --workers N`` (``bus.workers``):
    this bus is one of several sharing its ports (``SO_REUSEPORT``), and its metrics are
    written for the others to expose too (see ``monitoring.metrics``).
    """

    def __init__(
        self,
        config: Config,
        adapters: Mapping[str, type[Adapter]] | None = None,
        *,
        worker: int | None = None,
    ) -> None:
        problem = exposure_problem(config)
        if problem is not None:
            raise ConfigError(problem)
        self.config = config
        self.worker = worker
        # Who calls: certificates, tokens, or the local client on loopback (bus.identity).
        self.identity = Identity.from_config(config)
        self.metrics = Metrics()
        self.metrics.info.info({"version": _version()})
        self.health = health.aio.HealthServicer()
        self._pending: set[asyncio.Task[None]] = set()
        self.store = breaker_store(config.server)
        # Every call recorded, hash-chained and signed (bus.audit): on unless turned off.
        self.audit = AuditLog.from_settings(config.audit) if config.audit.enabled else None
        self.router = Router(
            config,
            adapters if adapters is not None else discover(),
            self.metrics,
            on_breaker=self._breaker_changed,
            store=self.store,
            audit_log=self.audit,
        )
        self._syncing: asyncio.Task[None] | None = None
        self._probing: asyncio.Task[None] | None = None
        self.draining = False
        self.grpc_port = 0
        self.http_port = 0
        self._server: grpc.aio.Server | None = None
        self._http: web.AppRunner | None = None

    async def start(self) -> None:
        """Bind both ports (0 picks a free one) and start serving.

        ``OSError`` names the address when a port cannot be had; nothing is left running.
        """
        try:
            await self._start_audit()
            if self.store is not None:
                await self.router.sync_breakers()  # start open where the others see it open
                self._syncing = asyncio.create_task(self._sync_forever())
            await self._start_grpc()
            await self._start_http()
            interval = self.config.server.probe_interval
            if interval > 0:
                prober = Prober(self.router, interval=interval)
                self._probing = asyncio.create_task(prober.run())
        except BaseException:
            await self.stop(0)
            raise

    async def _start_audit(self) -> None:
        if self.audit is None:
            log.warning("the audit log is off ([audit] enabled = false): calls are not recorded")
            return
        await self.audit.start()
        log.info(
            "audit log %s, checkpoints signed with key %s (%s); check it with regbus audit verify",
            self.audit.store.location,
            self.audit.key_id,
            self.audit.key_file,
        )

    async def _start_grpc(self) -> None:
        settings = self.config.server
        # grpc turns SO_REUSEPORT on by default on Linux. A single bus turns it off, or a
        # second bus on the same port would share it silently; workers share on purpose (the
        # supervisor has checked that no one else holds the port).
        reuse_port = 1 if self.worker is not None else 0
        # grpc_server_* of every RPC, and its access line where asked for
        rpcs = RpcMetrics(self.metrics, ACCESS_LOG if settings.access_log else None)
        rpcs.register(bus_pb2.DESCRIPTOR.services_by_name["RegistryBus"])
        server = grpc.aio.server(
            options=[("grpc.so_reuseport", reuse_port)],
            maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
            interceptors=[rpcs],
        )
        self._server = server
        bus_pb2_grpc.add_RegistryBusServicer_to_server(
            RegistryBusServicer(self.router, self.identity), server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        health_service = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_service, reflection.SERVICE_NAME), server
        )
        address = f"{settings.host}:{settings.grpc_port}"
        tls = self.config.tls
        credentials = server_credentials(tls) if tls.enabled else None
        try:
            if credentials is not None:
                self.grpc_port = server.add_secure_port(address, credentials)
            else:
                self.grpc_port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(
                f"cannot listen for gRPC on {address}: the port is in use or the address is"
                " not local (choose another with --grpc-port or [server] grpc_port)"
            ) from exc
        await server.start()
        self._log_access()
        for registry_id, lane in self.router.lanes.items():
            await self.health.set(health_name(registry_id), _health(lane.guard.state))
        await self._update_readiness()

    async def _start_http(self) -> None:
        settings = self.config.server
        worker = None if self.worker is None else {"index": self.worker, "pid": os.getpid()}
        app = build_app(
            self.metrics.exposition, self.status, worker=worker, readiness=self.readiness
        )
        if settings.access_log:
            self._http = web.AppRunner(
                app, access_log=ACCESS_LOG, access_log_format='HTTP "%r" from %a %s %b bytes %Tf s'
            )
        else:
            self._http = web.AppRunner(app, access_log=None)
        await self._http.setup()
        try:
            tls = self.config.tls
            site = web.TCPSite(
                self._http,
                settings.host,
                settings.http_port,
                reuse_port=self.worker is not None,
                ssl_context=http_ssl_context(tls) if tls.enabled else None,
            )
            await site.start()
        except OSError as exc:
            raise OSError(
                f"cannot listen for HTTP on {settings.host}:{settings.http_port}: {exc.strerror}"
                " (choose another with --http-port or [server] http_port)"
            ) from exc
        self.http_port = int(self._http.addresses[0][1])

    def _log_access(self) -> None:
        """Say once how callers are identified, and what is unprotected."""
        config = self.config
        tls = "TLS" if config.tls.enabled else "plaintext (no [tls])"
        clients = len(config.access.clients)
        log.info(
            "access: gRPC and HTTP over %s; %s; %d client%s and %d purpose%s declared",
            tls,
            self.identity.describe(),
            clients,
            "" if clients == 1 else "s",
            len(config.access.purposes),
            "" if len(config.access.purposes) == 1 else "s",
        )
        local = self.identity.local_client
        if local is not None and local not in config.access.clients:
            log.warning(
                "client %r (every unauthenticated call) is not declared: every call will be"
                " refused; declare [clients.%s], or set up [tls] or [jwt] (docs/security.md)",
                local,
                local,
            )
        if config.jwt.enabled and not config.tls.enabled:
            log.warning(
                "bearer tokens travel in plaintext: set [tls] (or end TLS in front of the bus)"
            )
        if self.router.rights.any_consent and not self.router.consent.ways:
            log.warning(
                "some calls need the person's consent, but this bus can check neither one-time"
                " codes (no mobile registry) nor consent tokens ([access] consent_jwks_file)"
            )

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking calls, let in-flight ones finish within ``grace``, close adapters."""
        grace = self.config.server.grace if grace is None else grace
        self.draining = True
        self.metrics.set_ready(False)
        if self._probing is not None:
            self._probing.cancel()
            self._probing = None
        if self._server is not None:
            await self.health.enter_graceful_shutdown()
            await self._server.stop(grace)
            self._server = None
        if self._http is not None:
            await self._http.cleanup()
            self._http = None
        if self._syncing is not None:
            self._syncing.cancel()
            self._syncing = None
        if self.audit is not None:
            await self.audit.aclose()  # after the server: every call it let finish recorded
        await self.router.aclose()
        if self.store is not None:
            await self.store.aclose()

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(BREAKER_SYNC_INTERVAL)
            await self.router.sync_breakers()  # never raises: a store outage is logged

    def status(self) -> list[dict[str, Any]]:
        """Live state of every registry, for the status page and ``/status``."""
        return [
            {
                "id": state.id,
                "name": state.spec.name,
                "protocol": state.spec.protocol,
                "breaker": state.breaker,
                "state_since": datetime.fromtimestamp(state.since, UTC).isoformat(
                    timespec="seconds"
                ),
                "retry_after_seconds": round(state.retry_after, 3),
                "error_rate": round(state.recent.error_rate, 4),
                "p50_ms": round(state.recent.p50 * 1000, 1),
                "p99_ms": round(state.recent.p99 * 1000, 1),
                "recent_calls": state.recent.calls,
                "in_flight": state.in_flight,
            }
            for state in self.router.states()
        ]

    def readiness(self) -> tuple[bool, str]:
        """Whether the bus should get traffic, and why: not while draining, nor while
        fewer than ``[server] ready_min_registries`` registries have a closed breaker."""
        if self.draining:
            return False, "draining: the bus is shutting down"
        needed = self.config.server.ready_min_registries
        closed = sum(1 for lane in self.router.lanes.values() if lane.guard.state == "closed")
        if closed < min(needed, len(self.router.lanes)):
            return False, f"{closed} of {len(self.router.lanes)} registries up, {needed} needed"
        return True, f"serving: {closed} of {len(self.router.lanes)} registries up"

    async def _update_readiness(self) -> None:
        ready, _ = self.readiness()
        self.metrics.set_ready(ready)
        await self.health.set("", _SERVING if ready else _NOT_SERVING)
        await self.health.set(SERVICE_NAME, _SERVING if ready else _NOT_SERVING)

    def _breaker_changed(self, registry: str, state: str) -> None:
        log.warning("registry %s: circuit breaker is now %s", registry, state)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not serving yet; start() sets every registry's health
        task = loop.create_task(self._health_changed(registry, state))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _health_changed(self, registry: str, state: str) -> None:
        if self.draining:
            return  # the shutdown has set everything NOT_SERVING
        await self.health.set(health_name(registry), _health(state))
        await self._update_readiness()


def _health(state: str) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    """A registry serves only while its breaker is closed: half-open is still trying."""
    return _SERVING if state == "closed" else _NOT_SERVING


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("regbus")
    except PackageNotFoundError:
        return "unknown"
