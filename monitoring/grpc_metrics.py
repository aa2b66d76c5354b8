"""gRPC server metrics by go-grpc-prometheus's names, from a grpc.aio server interceptor.

    rpcs = RpcMetrics(metrics)
    server = grpc.aio.server(interceptors=[rpcs])
    rpcs.register(bus_pb2.DESCRIPTOR.services_by_name["RegistryBus"])

``grpc_server_started_total``, ``grpc_server_handled_total`` (``grpc_code``: the status
code's name, ``OK``, ``NOT_FOUND``...) and ``grpc_server_handling_seconds``, each by
``grpc_service``, ``grpc_method`` and ``grpc_type`` (``unary``, ``client_stream``,
``server_stream``, ``bidi_stream``). The code is the one the handler ended with: its
``context.abort``'s, or ``context.set_code``'s, ``UNKNOWN`` for any other exception
(as grpc answers it), ``CANCELLED`` when the call was cancelled (the caller went away or
its deadline passed).

Only methods the server has a handler for are counted (an unknown method's
UNIMPLEMENTED is not), so the labels stay bounded. Each method's handler is wrapped
once, with its series looked up once; a call costs a dict lookup, two clock readings
and the counting.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from regbus.monitoring.metrics import Metrics

_OK = grpc.StatusCode.OK
_UNKNOWN = grpc.StatusCode.UNKNOWN
_CANCELLED = grpc.StatusCode.CANCELLED


def grpc_type(client_streaming: bool, server_streaming: bool) -> str:
    """go-grpc-prometheus's ``grpc_type`` of a method."""
    if client_streaming:
        return "bidi_stream" if server_streaming else "client_stream"
    return "server_stream" if server_streaming else "unary"


class _Method:
    """One method's series, and its handler as last wrapped."""

    __slots__ = (
        "_handled", "_labels", "_metrics", "handler", "name", "service", "start", "wrapped"
    )  # fmt: skip

    def __init__(self, metrics: Metrics, path: str, kind: str) -> None:
        service, _, name = path.lstrip("/").rpartition("/")
        self.service, self.name = service, name
        self._metrics = metrics
        self._labels = (service, name, kind)
        self.start = metrics.rpc_started(service, name, kind)
        ok = metrics.rpc_handled(service, name, kind, _OK.name)
        # By the code the handler left; None (never set) is OK.
        self._handled: dict[grpc.StatusCode | None, Callable[[float], None]] = {None: ok, _OK: ok}
        self.handler: Any = None
        self.wrapped: Any = None

    def end(
        self,
        code: grpc.StatusCode | None,
        seconds: float,
        context: grpc.aio.ServicerContext | None = None,
    ) -> None:
        count = self._handled.get(code)
        if count is None:
            name = code.name if isinstance(code, grpc.StatusCode) else _UNKNOWN.name
            count = self._handled[code] = self._metrics.rpc_handled(*self._labels, name)
        count(seconds)

    def failed(self, exc: BaseException, context: grpc.aio.ServicerContext, seconds: float) -> None:
        """The handler raised ``exc``: aborted with a code, cancelled, or failed."""
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            self.end(_CANCELLED, seconds)
            return
        code = context.code()
        self.end(_UNKNOWN if code is None or code == _OK else code, seconds)


def _logged(method: _Method, access_log: logging.Logger) -> tuple[Any, Any]:
    """``method``'s end and failed, each also writing the RPC's access line."""
    path = f"/{method.service}/{method.name}"

    def line(code: grpc.StatusCode | None, seconds: float, context: Any) -> None:
        name = (code or _OK).name
        access_log.info(
            "gRPC %s from %s %s %.1f ms",
            path,
            context.peer() if context is not None else "-",
            name,
            seconds * 1000,
            extra={"method": path, "grpc_code": name, "latency_ms": round(seconds * 1000, 3)},
        )

    def end(code: grpc.StatusCode | None, seconds: float, context: Any = None) -> None:
        method.end(code, seconds)
        line(code, seconds, context)

    def failed(exc: BaseException, context: grpc.aio.ServicerContext, seconds: float) -> None:
        method.failed(exc, context, seconds)
        cancelled = isinstance(exc, asyncio.CancelledError | GeneratorExit)
        code = context.code()
        line(
            _CANCELLED if cancelled else (code if code not in (None, _OK) else _UNKNOWN),
            seconds,
            context,
        )

    return end, failed


class RpcMetrics(grpc.aio.ServerInterceptor):  # type: ignore[misc]  # grpc is untyped
    """Counts and times every RPC of the server it is installed in; with ``access_log``,
    also writes one line per RPC there (method, peer, code, milliseconds)."""

    def __init__(self, metrics: Metrics, access_log: logging.Logger | None = None) -> None:
        self._metrics = metrics
        self._methods: dict[str, _Method] = {}
        self._access_log = access_log

    def register(self, service: Any) -> None:
        """Create the series of every method of ``service`` (a protobuf
        ``ServiceDescriptor``) at start-up: started, and handled with OK, at zero."""
        for method in service.methods:
            path = f"/{service.full_name}/{method.name}"
            kind = grpc_type(method.client_streaming, method.server_streaming)
            if path not in self._methods:
                self._methods[path] = _Method(self._metrics, path, kind)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = self._methods.get(handler_call_details.method)
        if method is not None and method.handler is handler:
            return method.wrapped
        return self._wrap(handler_call_details.method, handler)

    def _wrap(self, path: str, handler: Any) -> Any:
        """``handler`` counted: its method's wrapped handler, made once (again only if the
        server's handler for the method changes)."""
        kind = grpc_type(handler.request_streaming, handler.response_streaming)
        method = self._methods.get(path)
        if method is None:
            method = self._methods[path] = _Method(self._metrics, path, kind)
        wrapped = handler
        for attribute, make in _HANDLERS:
            original = getattr(handler, attribute)
            if original is not None:
                behavior = _counted(original, method, self._access_log)
                if behavior is not None:
                    wrapped = make(
                        behavior, handler.request_deserializer, handler.response_serializer
                    )
                break
        method.handler, method.wrapped = handler, wrapped
        return wrapped


# A handler's behaviour by its kind, and how grpc makes a handler of that kind.
_HANDLERS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler),
    ("unary_stream", grpc.unary_stream_rpc_method_handler),
    ("stream_unary", grpc.stream_unary_rpc_method_handler),
    ("stream_stream", grpc.stream_stream_rpc_method_handler),
)


def _counted(behavior: Any, method: _Method, access_log: logging.Logger | None = None) -> Any:
    """``behavior`` (a coroutine function, or an async generator function for a streamed
    answer) counted as ``method`` (and logged to ``access_log``); None for a synchronous
    one, left uncounted."""
    clock = time.perf_counter
    start = method.start
    end = method.end
    failed = method.failed
    if access_log is not None:
        end, failed = _logged(method, access_log)

    if inspect.isasyncgenfunction(behavior):

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start()
            began = clock()
            try:
                async for response in behavior(request, context):
                    yield response
            except BaseException as exc:
                failed(exc, context, clock() - began)
                raise
            end(context.code(), clock() - began, context)

        return stream

    if inspect.iscoroutinefunction(behavior):

        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start()
            began = clock()
            try:
                response = await behavior(request, context)
            except BaseException as exc:
                failed(exc, context, clock() - began)
                raise
            end(context.code(), clock() - began, context)
            return response

        return handle

    return None
