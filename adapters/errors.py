"""Errors of a registry call, as one tree.

Every error names the registry, says what happened and whether a retry can
help. Adapters raise the registry errors; the resilience layer raises the
fail-fast ones; the bus turns each into a gRPC status once, at its boundary.

    RegbusError
    ├── InvalidRequest              bad input: nothing was called, retrying never helps
    │   ├── UnknownRegistry         UNKNOWN_REGISTRY
    │   ├── UnknownOperation        UNKNOWN_OPERATION
    │   └── InvalidParameter        INVALID_IIN, INVALID_BIN, INVALID_PLATE, INVALID_VIN,
    │       │                       MISSING_PARAMETER, UNEXPECTED_PARAMETER
    │       └── InvalidContext      MISSING_CONTEXT, UNKNOWN_PURPOSE, CLIENT_MISMATCH (a
    │                               RequestContext field: operator, purpose, case number)
    ├── AccessDenied                the caller may not have this: nothing was called
    │   ├── Unauthenticated         UNAUTHENTICATED (no certificate or token names a client)
    │   ├── PermissionDenied        UNKNOWN_CLIENT, PURPOSE_NOT_ALLOWED, OPERATION_NOT_ALLOWED,
    │   │                           RESTRICTED_REGISTRY (``right`` names the missing right)
    │   └── ConsentRequired         CONSENT_REQUIRED (the person's consent is missing or
    │                               could not be verified; says how to get it)
    ├── RegistryAnswer              a business answer: never retried, never trips a breaker
    │   ├── SubjectNotFound         NOT_FOUND
    │   └── RegistryRejected        REGISTRY_REJECTED (the registry refused the request)
    ├── RegistryFailure             technical failure: retried where safe, counted by the breaker
    │   ├── RegistryUnavailable     REGISTRY_UNAVAILABLE (connection refused, HTTP 5xx, 503)
    │   ├── RegistryTimeout         REGISTRY_TIMEOUT (no answer within the attempt timeout)
    │   └── RegistryFault           REGISTRY_FAULT (SOAP server fault, unreadable answer)
    │       └── AnswerTooLarge      ANSWER_TOO_LARGE (cut off at the size limit; not retried)
    ├── OutcomeUnknown              OUTCOME_UNKNOWN (a write was sent and its answer lost;
    │                               never retried: the registry may have done it)
    ├── FailFast                    the bus refused to call the registry at all
    │   ├── CircuitOpen             CIRCUIT_OPEN (with a retry delay)
    │   ├── BulkheadFull            BULKHEAD_FULL (with a retry delay)
    │   ├── DeadlineExhausted       DEADLINE_EXCEEDED (the caller's deadline left no time)
    │   └── DependencyFailed        DEPENDENCY_FAILED (a Compose step whose input, an earlier
    │                               step's answer, failed: retryable when that one is)
    └── InternalError               INTERNAL (a bug in regbus: logged with its traceback,
                                    never retried, never charged to the registry)

``message`` is what a caller reads; ``detail`` (optional) is the registry's own
text (a fault string, an ORA- code), which goes to the log and never to a caller.
"""

from __future__ import annotations


class RegbusError(Exception):
    """Base of every error a registry call can end in."""

    reason = "INTERNAL"
    # The class of the error, the `error` label of regbus_requests_total: "invalid",
    # "business", "registry", "fail_fast", "unknown" or "internal" (set once per class;
    # "none" and "cancelled" are the router's, for a success and a caller gone).
    error_class = "internal"
    retryable = False
    # Whether the request reached the registry: False where the transport knows it
    # did not (connection refused), None where it cannot tell.
    delivered: bool | None = None

    def __init__(
        self,
        message: str,
        *,
        registry: str = "",
        operation: str = "",
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.registry = registry
        self.operation = operation
        self.retry_after = retry_after
        self.detail = detail

    def __str__(self) -> str:
        where = f"{self.registry}: " if self.registry else ""
        return f"{where}{self.message}"


class InvalidRequest(RegbusError):
    """The request is wrong as written; nothing was sent to any registry."""

    reason = "INVALID_ARGUMENT"
    error_class = "invalid"


class UnknownRegistry(InvalidRequest):
    reason = "UNKNOWN_REGISTRY"


class UnknownOperation(InvalidRequest):
    reason = "UNKNOWN_OPERATION"


class InvalidParameter(InvalidRequest):
    """One parameter is missing or malformed; ``field`` names it."""

    def __init__(
        self,
        message: str,
        *,
        field: str,
        reason: str,
        registry: str = "",
        operation: str = "",
    ) -> None:
        super().__init__(message, registry=registry, operation=operation)
        self.field = field
        self.reason = reason

    # What ``field`` is under in a BadRequest field violation: a request parameter.
    prefix = "params."


class InvalidContext(InvalidParameter):
    """A ``RequestContext`` field is missing or wrong; ``field`` names it in full
    (``context.operator_id``)."""

    prefix = ""  # the field is already a full path: not a parameter


class AccessDenied(RegbusError):
    """The bus refused the caller before calling any registry; never retried, never
    charged to the registry."""

    reason = "PERMISSION_DENIED"
    error_class = "denied"


class Unauthenticated(AccessDenied):
    """No client certificate or token identifies the caller as a declared client."""

    reason = "UNAUTHENTICATED"


class PermissionDenied(AccessDenied):
    """The client lacks a right; ``right`` names it as the configuration writes it
    (``registries health.get_summary``, ``restricted narcology``, ``purposes X``)."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        right: str,
        client: str,
        registry: str = "",
        operation: str = "",
    ) -> None:
        super().__init__(message, registry=registry, operation=operation)
        self.reason = reason
        self.right = right
        self.client = client


class ConsentRequired(AccessDenied):
    """The call needs the person's consent (a one-time code or a signed consent token)
    and it is missing or was refused; the message says what to send."""

    reason = "CONSENT_REQUIRED"

    def __init__(
        self, message: str, *, registry: str = "", operation: str = "", retryable: bool = False
    ) -> None:
        super().__init__(message, registry=registry, operation=operation)
        self.retryable = retryable


class RegistryAnswer(RegbusError):
    """The registry answered, and the answer is a business 'no'."""

    error_class = "business"


class SubjectNotFound(RegistryAnswer):
    reason = "NOT_FOUND"


class RegistryRejected(RegistryAnswer):
    reason = "REGISTRY_REJECTED"


class RegistryFailure(RegbusError):
    """The registry did not give a usable answer; another attempt may succeed."""

    reason = "REGISTRY_FAILURE"
    error_class = "registry"
    retryable = True


class RegistryUnavailable(RegistryFailure):
    reason = "REGISTRY_UNAVAILABLE"


class RegistryTimeout(RegistryFailure):
    reason = "REGISTRY_TIMEOUT"


class RegistryFault(RegistryFailure):
    reason = "REGISTRY_FAULT"


class AnswerTooLarge(RegistryFault):
    """The answer passed the registry's size limit; it was cut off, not read."""

    reason = "ANSWER_TOO_LARGE"
    retryable = False


class OutcomeUnknown(RegbusError):
    """A write reached the registry and its answer was lost: it may have happened."""

    reason = "OUTCOME_UNKNOWN"
    error_class = "unknown"


class InternalError(RegbusError):
    """A bug in regbus itself, not a registry failure."""

    reason = "INTERNAL"


class FailFast(RegbusError):
    """The bus did not call the registry, to protect it and the caller."""

    error_class = "fail_fast"
    retryable = True


class CircuitOpen(FailFast):
    reason = "CIRCUIT_OPEN"


class BulkheadFull(FailFast):
    reason = "BULKHEAD_FULL"


class DeadlineExhausted(FailFast):
    reason = "DEADLINE_EXCEEDED"
    retryable = False


class DependencyFailed(FailFast):
    """A profile step not asked because an earlier step it needs failed."""

    reason = "DEPENDENCY_FAILED"

    def __init__(
        self, message: str, *, retryable: bool, registry: str = "", operation: str = ""
    ) -> None:
        super().__init__(message, registry=registry, operation=operation)
        self.retryable = retryable
