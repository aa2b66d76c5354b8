"""The gRPC face of the bus: ``regbus.v1.RegistryBus``."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import NoReturn

import grpc
from google.protobuf import timestamp_pb2

from regbus.adapters.base import CallContext
from regbus.adapters.errors import (
    InvalidContext,
    InvalidParameter,
    InvalidRequest,
    PermissionDenied,
    RegbusError,
)
from regbus.adapters.spec import Operation
from regbus.bus.audit.entry import Entry
from regbus.bus.audit.errors import AuditUnavailable
from regbus.bus.compose import ComposeRun, StepRun, late
from regbus.bus.consent import CODE_HEADER, TOKEN_HEADER, Proof
from regbus.bus.identity import Identity
from regbus.bus.profiles import Profile, Source, Step
from regbus.bus.router import MAX_BUDGET, Answer, Router
from regbus.bus.status import error_message, grpc_code, message_of, trailing_metadata
from regbus.v1 import bus_pb2, bus_pb2_grpc

_BREAKER = {
    "closed": bus_pb2.BREAKER_STATE_CLOSED,
    "open": bus_pb2.BREAKER_STATE_OPEN,
    "half_open": bus_pb2.BREAKER_STATE_HALF_OPEN,
}
MAX_COMPOSE_PARTS = 32
# The "registry" of an audit entry for a Compose refused as a whole, before any part ran.
COMPOSE = "compose"
# Compose answers this much before the caller's deadline with whatever parts are in.
COMPOSE_RESERVE = 0.025


class RegistryBusServicer(bus_pb2_grpc.RegistryBusServicer):
    """Turns gRPC requests into routed queries and errors into rich statuses."""

    def __init__(self, router: Router, identity: Identity | None = None) -> None:
        self.router = router
        # Who calls (bus.identity); without one, every call is the configured local client.
        self.identity = identity or Identity(local_client=router.rights.access.local_client)
        # A call's metadata is read for its request id when the request has none, and for
        # a token or a consent only where this bus checks them.
        self._reads_metadata = self.identity.reads_authorization or router.rights.any_consent
        router.metrics.register_profiles(router.profiles)

    async def Query(
        self, request: bus_pb2.QueryRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.QueryResponse:
        try:
            call_context = self._call_context(request.context, context)
        except RegbusError as exc:
            await self._refuse(
                exc, request.context, context, request.registry, request.operation, request.params
            )
        try:
            answer = await self.router.query(
                request.registry,
                request.operation,
                dict(request.params),
                call_context,
                _budget(context),
                client=call_context.client_id,
            )
        except RegbusError as exc:
            await _abort(context, exc)
        return _response(answer, call_context.request_id)

    async def Compose(
        self, request: bus_pb2.ComposeRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.ComposeResponse:
        started = time.monotonic()
        try:
            call_context = self._call_context(request.context, context)
            self.router.rights.check_context(call_context)  # per part: the rights to each
            profile, keys = self._plan(request)
        except RegbusError as exc:
            what = f"profile {request.profile}" if request.profile else "parts"
            await self._refuse(exc, request.context, context, COMPOSE, what, request.params)
        budget = _budget(context)
        client = call_context.client_id

        async def query(
            registry: str, operation: str, params: Mapping[str, str], left: float | None
        ) -> Answer:
            return await self.router.query(
                registry, operation, params, call_context, left, client=client
            )

        run = ComposeRun(profile, keys, query)
        # A safety net: the guards stop before the deadline already; this makes sure the
        # answer goes out in time with the parts that are in.
        within = max(0.0, budget - COMPOSE_RESERVE) if budget is not None else None
        runs = await run.within(within if within is not None and within <= MAX_BUDGET else None)
        named = bool(request.profile)
        parts = [p for r in runs for p in _parts(r, call_context.request_id, named)]
        # Complete when every part has its answer (an error, "not found" too, is none).
        complete = not any(part.HasField("error") for part in parts)
        self.router.metrics.compose(request.profile, complete, time.monotonic() - started)
        return bus_pb2.ComposeResponse(parts=parts, profile=request.profile)

    def _plan(self, request: bus_pb2.ComposeRequest) -> tuple[Profile, dict[str, str]]:
        """The profile to run and its keys: the one named, or one step per listed part."""
        if request.profile:
            if request.parts:
                raise InvalidRequest("Compose takes a profile or parts, not both")
            profile = self.router.profiles.get(request.profile)
            if profile is None:
                known = ", ".join(sorted(self.router.profiles)) or "none"
                raise InvalidRequest(f"no profile {request.profile!r} (profiles: {known})")
            return profile, profile_keys(profile, self.router, dict(request.params))
        if not request.parts:
            raise InvalidRequest("Compose needs a profile or at least one part")
        if len(request.parts) > MAX_COMPOSE_PARTS:
            raise InvalidRequest(
                f"Compose takes at most {MAX_COMPOSE_PARTS} parts, got {len(request.parts)}"
            )
        steps = tuple(
            Step(
                f"part{i}",
                part.registry,
                part.operation,
                {k: (Source(v),) for k, v in self._params(part, request.params).items()},
            )
            for i, part in enumerate(request.parts)
        )
        return Profile("", "", (), steps, {}), {}

    def _params(
        self, part: bus_pb2.ComposeRequest.Part, shared: Mapping[str, str]
    ) -> dict[str, str]:
        """Shared subject keys the part's operation takes, then the part's own."""
        lane = self.router.lanes.get(part.registry)
        op = lane.spec.operation(part.operation) if lane else None
        params = {k: v for k, v in shared.items() if op is not None and op.param(k)}
        params.update(part.params)
        return params

    async def _refuse(
        self,
        exc: RegbusError,
        ctx: bus_pb2.RequestContext,
        grpc_context: grpc.aio.ServicerContext,
        registry: str,
        operation: str,
        params: Mapping[str, str],
    ) -> NoReturn:
        """End a call refused before any registry was asked (no identity, a context naming
        another client or missing a field, a Compose that cannot run), recorded in the
        audit log as every call is; always raises."""
        audit_log = self.router.audit_log
        if audit_log is not None:
            try:
                client = self.identity.client(
                    grpc_context, _metadata(grpc_context, "authorization")
                )
            except RegbusError:
                client = ""  # not identified: the entry says so by naming none
            refused = CallContext(
                request_id=ctx.request_id
                or _metadata(grpc_context, "x-request-id")
                or new_request_id(),
                client_id=client,
                operator_id=ctx.operator_id,
                purpose=ctx.purpose,
                case_number=ctx.case_number,
            )
            entry = Entry.of(
                refused, registry, operation, params, exc.error_class, exc.reason, time.time()
            )
            try:
                await audit_log.record(entry)
            except AuditUnavailable as unrecorded:
                exc = unrecorded
        await _abort(grpc_context, exc)

    def _call_context(
        self, ctx: bus_pb2.RequestContext, grpc_context: grpc.aio.ServicerContext
    ) -> CallContext:
        """The call's context: the client from the transport (``bus.identity``), the rest
        from the request, a request id (the request's, ``x-request-id``, or a new one) and the
        consent sent in the metadata. A request naming another client is refused."""
        request_id = ctx.request_id
        authorization: object = ""
        proof = None
        if not request_id or self._reads_metadata:
            given: object = ""
            code: object = ""
            token: object = ""
            for key, value in grpc_context.invocation_metadata() or ():
                if key == "x-request-id":
                    given = value  # the last one, as a dict of the metadata keeps
                elif key == "authorization":
                    authorization = value
                elif key == CODE_HEADER:
                    code = value
                elif key == TOKEN_HEADER:
                    token = value
            request_id = request_id or str(given) or new_request_id()
            if code or token:
                proof = Proof(str(code), str(token))
        client = self.identity.client(grpc_context, str(authorization))
        if ctx.client_id and ctx.client_id != client:
            raise InvalidContext(
                f"the request names client {ctx.client_id!r}, but the caller is {client!r};"
                " leave context.client_id empty (the bus knows who calls) or name the caller",
                field="context.client_id",
                reason="CLIENT_MISMATCH",
            )
        return CallContext(
            request_id=request_id,
            client_id=client,
            operator_id=ctx.operator_id,
            purpose=ctx.purpose,
            case_number=ctx.case_number,
            consent=proof,
        )

    async def ListRegistries(
        self, request: bus_pb2.ListRegistriesRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.ListRegistriesResponse:
        try:
            self._caller(context)
        except RegbusError as exc:
            await _abort(context, exc)
        return bus_pb2.ListRegistriesResponse(
            registries=catalogue(self.router),
            profiles=[profile_info(p) for p in self.router.profiles.values()],
        )

    def _caller(self, context: grpc.aio.ServicerContext) -> str:
        """The calling client, which must be declared: the catalogue is for clients."""
        authorization = (
            _metadata(context, "authorization") if self.identity.reads_authorization else ""
        )
        client = self.identity.client(context, authorization)
        if not self.router.rights.may_call(client):
            raise PermissionDenied(
                f"client {client!r} is not declared on this bus",
                reason="UNKNOWN_CLIENT",
                right=f"clients.{client}",
                client=client,
            )
        return client


def catalogue(router: Router) -> list[bus_pb2.RegistryInfo]:
    """Every registry on the bus with its live state."""
    infos = []
    for state in router.states():
        since = timestamp_pb2.Timestamp()
        since.FromNanoseconds(int(state.since * 1e9))
        infos.append(
            bus_pb2.RegistryInfo(
                id=state.id,
                name=state.spec.name,
                protocol=state.spec.protocol,
                operations=[_operation_info(op) for op in state.spec.operations],
                sensitivity=state.spec.sensitivity,
                breaker=_BREAKER.get(state.breaker, bus_pb2.BREAKER_STATE_UNSPECIFIED),
                state_since=since,
                error_rate=state.recent.error_rate,
                latency_p50_seconds=state.recent.p50,
                latency_p99_seconds=state.recent.p99,
                recent_calls=state.recent.calls,
                in_flight=state.in_flight,
            )
        )
    return infos


def _operation_info(op: Operation) -> bus_pb2.OperationInfo:
    return bus_pb2.OperationInfo(
        name=op.name,
        params=[p.name for p in op.params],
        writes=op.writes,
        idempotency_key=op.idempotency_key or "",
        required=[p.name for p in op.params if p.required and p.name not in op.one_of],
        one_of=op.one_of,
        example=op.sample.known if op.sample else {},
    )


def profile_info(profile: Profile) -> bus_pb2.ProfileInfo:
    """A profile as ListRegistries shows it: ``let`` names expanded into each step."""
    return bus_pb2.ProfileInfo(
        name=profile.name,
        title=profile.title,
        keys=profile.keys,
        steps=[
            bus_pb2.ProfileInfo.Step(
                name=step.name,
                registry=step.registry,
                operation=step.operation,
                params={
                    k: " | ".join(s.text for s in alts)
                    for k, alts in profile.step_sources(step).items()
                },
                after=profile.needs(step),
            )
            for step in profile.steps
        ],
    )


def profile_keys(profile: Profile, router: Router, keys: dict[str, str]) -> dict[str, str]:
    """The request's keys, checked: known to the profile, at least one, each well formed
    for the first step that takes it (a bad one is refused before any call)."""
    unknown = sorted(set(keys) - set(profile.keys))
    if unknown:
        raise InvalidParameter(
            f"profile {profile.name} takes {', '.join(profile.keys)}, not {', '.join(unknown)}",
            field=unknown[0],
            reason="UNEXPECTED_PARAMETER",
        )
    given = {k: v for k, v in keys.items() if v}
    if not given:
        raise InvalidParameter(
            f"profile {profile.name} needs {' or '.join(profile.keys)}",
            field=profile.keys[0],
            reason="MISSING_PARAMETER",
        )
    kinds = router.key_kinds.get(profile.name, {})
    for key, value in given.items():
        if key not in kinds:
            continue
        registry, kind = kinds[key]
        problem = kind.problem(value)
        if problem is not None:
            raise InvalidParameter(problem, field=key, reason=kind.reason, registry=registry)
    return given


def _parts(run: StepRun, request_id: str, named: bool) -> list[bus_pb2.ComposeResponse.Part]:
    """The parts of one step: one per call, its error if it was not asked, or a timeout."""
    step = run.step

    def part(params: Mapping[str, str]) -> bus_pb2.ComposeResponse.Part:
        return bus_pb2.ComposeResponse.Part(
            registry=step.registry,
            operation=step.operation,
            step=step.name if named else "",
            params=params,
        )

    if run.skipped:
        return []
    if run.error is not None:
        failed = part({})
        failed.error.CopyFrom(error_message(run.error))
        return [failed]
    if not run.calls:
        if run.finished.is_set():
            return []  # once per item of an empty list
        waiting = part({})
        waiting.error.CopyFrom(error_message(late(step, run.waiting_for)))
        return [waiting]
    parts = []
    for call in run.calls:
        result = part(call.params)
        task = call.task
        if not task.done() or task.cancelled():
            result.error.CopyFrom(error_message(late(step, "")))
        elif isinstance(error := task.exception(), RegbusError):
            result.error.CopyFrom(error_message(error))
        elif error is not None:
            raise error
        else:
            result.response.CopyFrom(_response(task.result(), request_id))
        parts.append(result)
    return parts


# uuid4's version and variant bits, over 128 random bits.
_UUID4_KEEP = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` gives it, without
    building a ``uuid.UUID``. Unique, not secret: from ``random`` (seeded from the system's
    randomness, again in a forked child), which costs no system call, where ``os.urandom``
    costs one per call and gives up the GIL to the audit thread."""
    value = "%032x" % (random.getrandbits(128) & _UUID4_KEEP | _UUID4_SET)
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


async def _abort(context: grpc.aio.ServicerContext, exc: RegbusError) -> NoReturn:
    """End the call with ``exc`` as its status (code, message, rich details)."""
    await context.abort(grpc_code(exc), message_of(exc), trailing_metadata=trailing_metadata(exc))
    raise AssertionError("unreachable") from exc  # abort always raises


def _metadata(context: grpc.aio.ServicerContext, name: str) -> str:
    """The last value of metadata ``name`` ("" when absent), as a dict of it keeps."""
    found: object = ""
    for key, value in context.invocation_metadata() or ():
        if key == name:
            found = value
    return str(found)


def _budget(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else max(0.0, float(remaining))


_NANOS = 1_000_000_000


def _response(answer: Answer, request_id: str) -> bus_pb2.QueryResponse:
    response = bus_pb2.QueryResponse(record=answer.record)
    source = response.source
    source.registry = answer.registry
    source.operation = answer.operation
    # Timestamp.FromNanoseconds and Duration.FromNanoseconds, field by field.
    received = int(answer.received_at * 1e9)
    stamp = source.received_at
    stamp.seconds, stamp.nanos = divmod(received, _NANOS)
    source.attempts = answer.attempts
    seconds, nanos = divmod(int(answer.latency * 1e9), _NANOS)
    if seconds < 0 < nanos:  # a Duration's parts share their sign
        seconds, nanos = seconds + 1, nanos - _NANOS
    latency = source.latency
    latency.seconds, latency.nanos = seconds, nanos
    source.request_id = request_id
    return response
