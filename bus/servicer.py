"""The gRPC face of the bus: ``regbus.v1.RegistryBus``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from regbus.adapters.base import CallContext
from regbus.adapters.errors import DeadlineExhausted, RegbusError
from regbus.bus.router import MAX_BUDGET, Answer, Router
from regbus.bus.status import error_message, grpc_code, message_of, trailing_metadata
from regbus.v1 import bus_pb2, bus_pb2_grpc

_BREAKER = {
    "closed": bus_pb2.BREAKER_STATE_CLOSED,
    "open": bus_pb2.BREAKER_STATE_OPEN,
    "half_open": bus_pb2.BREAKER_STATE_HALF_OPEN,
}
MAX_COMPOSE_PARTS = 32
# Compose answers this much before the caller's deadline with whatever parts are in.
COMPOSE_RESERVE = 0.025


class RegistryBusServicer(bus_pb2_grpc.RegistryBusServicer):
    """Turns gRPC requests into routed queries and errors into rich statuses."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def Query(
        self, request: bus_pb2.QueryRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.QueryResponse:
        call_context = _call_context(request.context, context)
        try:
            answer = await self.router.query(
                request.registry,
                request.operation,
                dict(request.params),
                call_context,
                _budget(context),
                client=_client(call_context, context),
            )
        except RegbusError as exc:
            await context.abort(
                grpc_code(exc), message_of(exc), trailing_metadata=trailing_metadata(exc)
            )
            raise AssertionError("unreachable") from exc  # abort always raises
        return _response(answer, call_context.request_id)

    async def Compose(
        self, request: bus_pb2.ComposeRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.ComposeResponse:
        if not request.parts:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Compose needs at least one part")
        if len(request.parts) > MAX_COMPOSE_PARTS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Compose takes at most {MAX_COMPOSE_PARTS} parts, got {len(request.parts)}",
            )
        call_context = _call_context(request.context, context)
        budget = _budget(context)
        client = _client(call_context, context)

        # Identical parts run once: 32 copies of one query cost the registry one call.
        keys = [_part_key(part, self._params(part, request.params)) for part in request.parts]
        unique = {key: dict(key[2]) for key in keys}

        async def one(key: tuple[str, str, tuple[tuple[str, str], ...]]) -> Answer:
            registry, operation, _ = key
            return await self.router.query(
                registry, operation, unique[key], call_context, budget, client=client
            )

        tasks = {key: asyncio.ensure_future(one(key)) for key in unique}
        try:
            if budget is not None and budget <= MAX_BUDGET:
                # A safety net: the guards stop before the deadline already; this makes
                # sure the answer goes out in time with the parts that are in.
                await asyncio.wait(tasks.values(), timeout=max(0.0, budget - COMPOSE_RESERVE))
            else:
                await asyncio.wait(tasks.values())
        finally:
            for task in tasks.values():
                task.cancel()  # no-op for finished parts; the caller may have gone away
        results = []
        for key in keys:
            registry, operation, _ = key
            result = bus_pb2.ComposeResponse.Part(registry=registry, operation=operation)
            task = tasks[key]
            error = task.exception() if task.done() and not task.cancelled() else None
            if not task.done() or task.cancelled():
                late = DeadlineExhausted(
                    "no answer before the caller's deadline (a longer deadline may help)",
                    registry=registry,
                    operation=operation,
                )
                result.error.CopyFrom(error_message(late))
            elif isinstance(error, RegbusError):
                result.error.CopyFrom(error_message(error))
            elif error is not None:
                raise error
            else:
                result.response.CopyFrom(_response(task.result(), call_context.request_id))
            results.append(result)
        return bus_pb2.ComposeResponse(parts=results)

    def _params(
        self, part: bus_pb2.ComposeRequest.Part, shared: Mapping[str, str]
    ) -> dict[str, str]:
        """Shared subject keys the part's operation takes, then the part's own."""
        lane = self.router.lanes.get(part.registry)
        op = lane.spec.operation(part.operation) if lane else None
        params = {k: v for k, v in shared.items() if op is not None and op.param(k)}
        params.update(part.params)
        return params

    async def ListRegistries(
        self, request: bus_pb2.ListRegistriesRequest, context: grpc.aio.ServicerContext
    ) -> bus_pb2.ListRegistriesResponse:
        return bus_pb2.ListRegistriesResponse(registries=catalogue(self.router))


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
                operations=[
                    bus_pb2.OperationInfo(
                        name=op.name, params=[p.name for p in op.params], writes=op.writes
                    )
                    for op in state.spec.operations
                ],
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


def _call_context(
    ctx: bus_pb2.RequestContext, grpc_context: grpc.aio.ServicerContext
) -> CallContext:
    request_id = ctx.request_id
    if not request_id:
        metadata = dict(grpc_context.invocation_metadata() or ())
        request_id = str(metadata.get("x-request-id", "")) or str(uuid.uuid4())
    return CallContext(
        request_id=request_id,
        client_id=ctx.client_id,
        operator_id=ctx.operator_id,
        purpose=ctx.purpose,
        case_number=ctx.case_number,
    )


def _client(call_context: CallContext, grpc_context: grpc.aio.ServicerContext) -> str:
    """Whose share of a registry's bulkhead a call takes: the client, else its host."""
    if call_context.client_id:
        return call_context.client_id
    peer = grpc_context.peer() or ""
    return peer.rsplit(":", 1)[0] if peer.count(":") > 1 else peer


def _part_key(
    part: bus_pb2.ComposeRequest.Part, params: Mapping[str, str]
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return part.registry, part.operation, tuple(sorted(params.items()))


def _budget(context: grpc.aio.ServicerContext) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else max(0.0, float(remaining))


def _response(answer: Answer, request_id: str) -> bus_pb2.QueryResponse:
    received = timestamp_pb2.Timestamp()
    received.FromNanoseconds(int(answer.received_at * 1e9))
    latency = duration_pb2.Duration()
    latency.FromNanoseconds(int(answer.latency * 1e9))
    source = bus_pb2.Source(
        registry=answer.registry,
        operation=answer.operation,
        received_at=received,
        attempts=answer.attempts,
        latency=latency,
        request_id=request_id,
    )
    return bus_pb2.QueryResponse(record=answer.record, source=source)
