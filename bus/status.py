"""Registry errors as gRPC statuses: code, ErrorInfo, RetryInfo, BadRequest.

The one place where :mod:`adapters.errors` become what a caller sees.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from regbus.adapters.errors import (
    BulkheadFull,
    CircuitOpen,
    ConsentRequired,
    DeadlineExhausted,
    DependencyFailed,
    InternalError,
    InvalidRequest,
    OutcomeUnknown,
    PermissionDenied,
    RegbusError,
    RegistryFailure,
    RegistryRejected,
    RegistryTimeout,
    SubjectNotFound,
    Unauthenticated,
)
from regbus.bus.audit.errors import AuditUnavailable
from regbus.v1 import bus_pb2

DOMAIN = "regbus"
# Caps on what goes back to a caller: gRPC metadata is limited (8 KB by default), and
# nothing a registry or a caller made large may push a status past it.
MAX_MESSAGE = 400
MAX_META_VALUE = 128
# What a caller should wait before retrying a transient failure without a better hint.
DEFAULT_RETRY_DELAY = 1.0

_CODES: list[tuple[type[RegbusError], grpc.StatusCode]] = [
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (ConsentRequired, grpc.StatusCode.FAILED_PRECONDITION),
    (DependencyFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (SubjectNotFound, grpc.StatusCode.NOT_FOUND),
    (RegistryRejected, grpc.StatusCode.FAILED_PRECONDITION),
    (RegistryTimeout, grpc.StatusCode.UNAVAILABLE),
    (RegistryFailure, grpc.StatusCode.UNAVAILABLE),
    (CircuitOpen, grpc.StatusCode.UNAVAILABLE),
    (BulkheadFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (DeadlineExhausted, grpc.StatusCode.DEADLINE_EXCEEDED),
    (OutcomeUnknown, grpc.StatusCode.UNKNOWN),
    (AuditUnavailable, grpc.StatusCode.UNAVAILABLE),
    (InternalError, grpc.StatusCode.INTERNAL),
]


def grpc_code(error: RegbusError) -> grpc.StatusCode:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def retry_delay(error: RegbusError) -> float | None:
    """Seconds a caller should wait before retrying, or None when retrying won't help."""
    if not error.retryable:
        return None
    return error.retry_after if error.retry_after is not None else DEFAULT_RETRY_DELAY


def message_of(error: RegbusError) -> str:
    """The text a person reads: which registry, what happened, whether to retry."""
    delay = retry_delay(error)
    if isinstance(error, DeadlineExhausted):
        advice = "retrying with the same deadline will not help"
    elif isinstance(error, ConsentRequired) and not error.retryable:
        advice = "repeat the call with the person's consent"
    else:
        advice = "retrying will not help" if delay is None else f"retry after {delay:.1f}s"
    registry = f"registry {_capped(error.registry, MAX_META_VALUE)}" if error.registry else "regbus"
    return f"{registry}: {_capped(error.message, MAX_MESSAGE)} ({advice})"


def metadata_of(error: RegbusError) -> dict[str, str]:
    meta = {"registry": error.registry, "retryable": str(error.retryable).lower()}
    if error.operation:
        meta["operation"] = error.operation
    field = getattr(error, "field", None)
    if field:
        meta["field"] = field
    if isinstance(error, PermissionDenied):
        meta["client"] = error.client
        meta["missing_right"] = error.right
    return {key: _capped(value, MAX_META_VALUE) for key, value in meta.items()}


def _capped(text: str, limit: int) -> str:
    """One printable line of at most ``limit`` characters."""
    line = "".join(ch if ch.isprintable() else " " for ch in text)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def rich_status(error: RegbusError) -> status_pb2.Status:
    """The google.rpc.Status sent in ``grpc-status-details-bin``."""
    code = grpc_code(error)
    details: list[any_pb2.Any] = []
    info = error_details_pb2.ErrorInfo(
        reason=error.reason, domain=DOMAIN, metadata=metadata_of(error)
    )
    details.append(_pack(info))
    delay = retry_delay(error)
    if delay is not None:
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=_duration(delay))))
    field = getattr(error, "field", None)
    if field:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=f"{getattr(error, 'prefix', 'params.')}{_capped(field, MAX_META_VALUE)}",
            description=_capped(error.message, MAX_MESSAGE),
            reason=error.reason,
        )
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[violation])))
    return status_pb2.Status(code=code.value[0], message=message_of(error), details=details)


def trailing_metadata(error: RegbusError) -> tuple[tuple[str, bytes | str], ...]:
    return (("grpc-status-details-bin", rich_status(error).SerializeToString()),)


def error_message(error: RegbusError) -> bus_pb2.Error:
    """The same error as a Compose part carries it."""
    delay = retry_delay(error)
    return bus_pb2.Error(
        code=grpc_code(error).value[0],
        reason=error.reason,
        message=message_of(error),
        registry=error.registry,
        retryable=error.retryable,
        retry_after=_duration(delay) if delay is not None else None,
        metadata=metadata_of(error),
    )


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed
