"""Route a query to its registry: validate, then run the adapter inside its guard.

One ``Lane`` per registry holds its adapter, its guard (bulkhead, breaker,
retries, timeouts) and its recent calls, so one registry's trouble stays in
its own lane.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from regbus.adapters.base import Adapter, CallContext
from regbus.adapters.errors import (
    FailFast,
    InternalError,
    OutcomeUnknown,
    RegbusError,
    RegistryAnswer,
    RegistryFailure,
    UnknownRegistry,
)
from regbus.adapters.kinds import Kind
from regbus.adapters.spec import Registry
from regbus.bus import plugins
from regbus.bus.audit.entry import Entry
from regbus.bus.audit.errors import AuditUnavailable
from regbus.bus.config import Config, ConfigError
from regbus.bus.consent import MOBILE, Consent, new_key
from regbus.bus.profiles import profile_problems
from regbus.bus.rights import Rights, RightsError
from regbus.bus.validation import validate
from regbus.circuit.guard import RegistryGuard, answer_reserve
from regbus.circuit.policy import Policy
from regbus.circuit.store import BreakerStore
from regbus.monitoring.metrics import Metrics
from regbus.monitoring.recent import RecentCalls, RecentStats
from regbus.v1 import records_pb2

if TYPE_CHECKING:
    from regbus.bus.audit.writer import AuditLog

audit = logging.getLogger("regbus.audit")  # the optional text line (regbus serve --audit)
log = logging.getLogger("regbus.bus")
# Error classes of calls refused before the registry could be asked (bad input, no right).
_NEVER_SENT = frozenset({"invalid", "denied"})

# A caller without a deadline shows one far in the future; past this we use the policy's.
MAX_BUDGET = 300.0
PROBE_CONTEXT = CallContext(request_id="probe", client_id="regbus-probe")


@dataclass(frozen=True)
class Answer:
    record: records_pb2.Record
    registry: str
    operation: str
    attempts: int
    latency: float
    received_at: float  # wall-clock seconds
    # The record before minimisation (``record`` keeps what the caller's purpose may see),
    # for Compose steps that read an earlier step's answer; None when they are the same.
    full: records_pb2.Record | None = None


@dataclass(frozen=True)
class RegistryState:
    """One registry's live state, as the catalogue and the status page show it."""

    id: str
    spec: Registry
    breaker: str  # closed, open, half_open
    since: float  # wall-clock time of the last breaker transition
    retry_after: float
    recent: RecentStats
    in_flight: int


@dataclass
class Lane:
    spec: Registry
    adapter: Adapter
    guard: RegistryGuard
    policy: Policy
    recent: RecentCalls
    # The operations the registry declares: the only ones that become metric labels.
    operations: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.operations = frozenset(op.name for op in self.spec.operations)


class Router:
    """Every configured registry's lane, and the way a query goes through one."""

    def __init__(
        self,
        config: Config,
        adapters: Mapping[str, type[Adapter]],
        metrics: Metrics,
        *,
        on_breaker: Callable[[str, str], None] | None = None,
        store: BreakerStore | None = None,
        audit_log: AuditLog | None = None,
    ) -> None:
        self.metrics = metrics
        # Every call's entry goes here before its answer goes out (bus.audit).
        self.audit_log = audit_log
        self.policy = config.policy  # for calls to no registry of this bus
        self.lanes: dict[str, Lane] = {}
        # Calls in flight are read from the bulkheads when scraped where a gauge can be
        # read live; otherwise every change is reported.
        live = metrics.live_gauges
        observer = _Observer(metrics, on_breaker, report_in_flight=not live)
        for registry_id, settings in config.registries.items():
            cls = adapters.get(registry_id)
            if cls is None:
                installed = ", ".join(sorted(adapters)) or "none"
                raise ConfigError(
                    f"{config.source}: no adapter is installed for registry {registry_id!r}"
                    f" (installed: {installed})"
                )
            try:
                # Its HTTP transport reports every answer's size to the metrics.
                endpoint = replace(settings.endpoint, on_answer=metrics.answer_sizes(registry_id))
                adapter = cls(endpoint)
            except ValueError as exc:
                raise ConfigError(f"{config.source}: registries.{registry_id}: {exc}") from exc
            guard = RegistryGuard(registry_id, settings.policy, observer=observer, store=store)
            self.lanes[registry_id] = Lane(cls.spec, adapter, guard, settings.policy, RecentCalls())
            metrics.register_registry(
                registry_id,
                settings.policy.bulkhead.max_concurrent,
                self.lanes[registry_id].operations,
            )
            if live:
                metrics.live_in_flight(registry_id, _reader(guard))
        specs = {registry_id: cls.spec for registry_id, cls in adapters.items()}
        problems = [
            p for profile in config.profiles.values() for p in profile_problems(profile, specs)
        ]
        if problems:
            raise ConfigError(f"{config.source}: " + "; ".join(problems))
        self.profiles = dict(config.profiles)
        try:
            self.rights = Rights(config.access, specs, plugins.installed(plugins.GROUP))
        except RightsError as exc:
            raise ConfigError(f"{config.source}: {exc}") from exc
        self.consent = Consent(config.access, self._verify_code if MOBILE in self.lanes else None)
        # Per profile, the parameter kind each request key is checked against: the first
        # served step's parameter that takes it directly.
        self.key_kinds: dict[str, dict[str, tuple[str, Kind]]] = {}
        for name, profile in self.profiles.items():
            kinds = self.key_kinds[name] = {}
            for key, step, param_name in profile.key_takers():
                lane = self.lanes.get(step.registry)
                op = lane.spec.operation(step.operation) if lane else None
                param = op.param(param_name) if op is not None else None
                if param is not None and key not in kinds:
                    kinds[key] = (step.registry, param.kind)

    def lane(self, registry: str) -> Lane:
        lane = self.lanes.get(registry)
        if lane is None:
            known = ", ".join(sorted(self.lanes))
            raise UnknownRegistry(
                f"no registry {registry!r} on this bus (available: {known})", registry=registry
            )
        return lane

    async def query(
        self,
        registry: str,
        operation: str,
        params: Mapping[str, str],
        context: CallContext,
        budget: float | None = None,
        *,
        client: str = "",
        trusted: bool = False,
    ) -> Answer:
        """Answer one query or raise a ``RegbusError``; ``budget`` is the caller's time left,
        ``client`` whose share of the registry's bulkhead the call takes. The context's client
        must have the right to the call (``bus.rights``) unless ``trusted`` (the bus's own
        calls: a consent code's check)."""
        started = time.monotonic()
        outcome = "ok"
        error = "none"  # the outcome's class, the metrics' `error` label
        audit_log = self.audit_log
        if audit_log is not None:
            audit_log.active += 1
        failed = False
        attempts = 0
        lane = self.lanes.get(registry)
        try:
            if lane is None:
                lane = self.lane(registry)  # raises UnknownRegistry
            grant = None if trusted else self.rights.check(context, registry, operation)
            op = validate(lane.spec, operation, params)
            if budget is None or budget > MAX_BUDGET:
                budget = lane.policy.default_deadline
            if grant is not None and grant.consent:
                await self.consent.require(
                    context, registry, operation, params, budget - (time.monotonic() - started)
                )
            clean = {k: v for k, v in params.items() if v}
            record, attempts = await lane.guard.run(
                functools.partial(lane.adapter.call, operation, clean, context),
                operation=operation,
                retry_safe=op.retry_safe,
                deadline=started + budget,
                writes=op.writes,
                client=client or context.client_id,
            )
            now = time.monotonic()
            if grant is not None and grant.view is not None:
                return Answer(
                    grant.view.trimmed(record),
                    registry,
                    operation,
                    attempts,
                    now - started,
                    time.time(),
                    full=record,
                )
            return Answer(record, registry, operation, attempts, now - started, time.time())
        except RegbusError as exc:
            outcome = exc.reason.lower()
            error = exc.error_class
            failed = isinstance(exc, RegistryFailure | FailFast)
            if isinstance(exc, RegistryFailure | OutcomeUnknown):
                # The registry's own words (fault strings, ORA- codes) go here, never to callers.
                log.warning(
                    "%s.%s failed: %s: %s%s (request id %s)",
                    registry,
                    operation,
                    exc.reason,
                    exc.message,
                    f" | registry said: {exc.detail[:2000]!r}" if exc.detail else "",
                    context.request_id,
                )
            raise
        except asyncio.CancelledError:
            outcome = error = "cancelled"
            raise
        except Exception as exc:
            outcome = error = "internal"
            log.exception("bug in regbus answering %s.%s", registry, operation)
            raise InternalError(
                f"internal error in regbus ({type(exc).__name__}); it has been logged"
                f" under request id {context.request_id}",
                registry=registry,
                operation=operation,
            ) from exc
        finally:
            elapsed = time.monotonic() - started
            # Only declared operations become label values, so labels stay bounded.
            if lane is not None and operation in lane.operations:
                self.metrics.request(registry, operation, outcome, elapsed, error)
                if error not in _NEVER_SENT:  # the registry's recent calls, for its health
                    lane.recent.add(failed, elapsed)
            if audit.isEnabledFor(logging.INFO):
                audit.info(
                    "request_id=%s client=%s operator=%s purpose=%r registry=%s operation=%s"
                    " outcome=%s attempts=%d ms=%.1f",
                    context.request_id,
                    context.client_id or "-",
                    context.operator_id or "-",
                    context.purpose,
                    registry,
                    operation,
                    outcome,
                    attempts,
                    elapsed * 1000,
                )
            if audit_log is not None:
                audit_log.active -= 1
                # Awaited, so no answer leaves without its entry; refused calls are
                # recorded too. Raises AuditUnavailable in place of the answer.
                entry = Entry.of(
                    context, registry, operation, params, error, outcome, time.time() - elapsed
                )
                within = None
                if budget is not None and budget <= MAX_BUDGET:
                    # A slow disk must not keep the answer past the caller's deadline: half
                    # the reserve kept for sending it is the last moment to give up waiting.
                    policy = lane.policy if lane is not None else self.policy
                    reserve = answer_reserve(policy, budget)
                    within = started + budget - reserve / 2 - time.monotonic()
                try:
                    await audit_log.record(entry, within=within)
                except AuditUnavailable:
                    if error == "none":
                        raise  # an answer never leaves without its entry
                    # A call that failed keeps its own error, which tells the caller more;
                    # its entry is still written (or the log says why not).

    async def _verify_code(
        self, code_id: str, code: str, context: CallContext, budget: float | None
    ) -> records_pb2.Record:
        """Check a consent code with the mobile registry, on the bus's own behalf (in the
        caller's name, purpose and request id, so it is audited with the call)."""
        params = {"code_id": code_id, "code": code, "idempotency_key": new_key()}
        answer = await self.query(
            MOBILE, "verify_code", params, context, budget, client=context.client_id, trusted=True
        )
        return answer.record

    async def probe(self, registry: str) -> bool:
        """Check ``registry`` with its declared probe, through its guard (bulkhead and
        breaker, one attempt): True when the registry answered, a business answer such
        as "not found" included. Counted as a probe, never as a caller's call."""
        lane = self.lanes[registry]
        call = lane.spec.probe_call()
        if call is None:
            return True
        params = dict(call.params)

        async def attempt() -> records_pb2.Record:
            return await lane.adapter.call(call.operation, params, PROBE_CONTEXT)

        try:
            await lane.guard.run(
                attempt,
                operation=call.operation,
                retry_safe=False,  # one attempt: a probe is a question, not a task
                client=PROBE_CONTEXT.client_id,
            )
            ok = True
        except RegistryAnswer:
            ok = True
        except RegbusError as exc:
            ok = False
            log.info("probe of %s failed: %s: %s", registry, exc.reason, exc.message)
        self.metrics.probe(registry, ok)
        return ok

    def states(self) -> list[RegistryState]:
        """Every registry's live state, sorted by id."""
        return [
            RegistryState(
                id=registry_id,
                spec=lane.spec,
                breaker=lane.guard.state,
                since=lane.guard.state_since,
                retry_after=lane.guard.retry_after,
                recent=lane.recent.stats(),
                in_flight=lane.guard.in_flight,
            )
            for registry_id, lane in sorted(self.lanes.items())
        ]

    async def sync_breakers(self) -> None:
        """Adopt what other processes decided about each breaker (a shared store only)."""
        await asyncio.gather(*(lane.guard.breaker.sync() for lane in self.lanes.values()))

    async def aclose(self) -> None:
        await asyncio.gather(
            *(lane.adapter.aclose() for lane in self.lanes.values()),
            *(lane.guard.aclose() for lane in self.lanes.values()),
        )


class _Observer:
    """Forwards guard events to the metrics, and breaker changes to health."""

    def __init__(
        self,
        metrics: Metrics,
        on_breaker: Callable[[str, str], None] | None,
        *,
        report_in_flight: bool = True,
    ) -> None:
        self._metrics = metrics
        self._on_breaker = on_breaker
        # The hot path's events go straight to the metrics' own methods.
        self.attempt = metrics.attempt
        self.retry = metrics.retry
        self.retry_budget_exhausted = metrics.retry_budget_exhausted
        self.rejected = metrics.rejected
        self.in_flight = metrics.in_flight if report_in_flight else _unreported

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        self._metrics.breaker_transition(registry, old, new)
        if self._on_breaker is not None:
            self._on_breaker(registry, new)


def _unreported(registry: str, count: int) -> None:
    """Calls in flight the metrics read for themselves (``Metrics.live_in_flight``)."""


def _reader(guard: RegistryGuard) -> Callable[[], int]:
    return lambda: guard.in_flight
