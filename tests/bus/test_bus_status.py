import grpc
from google.rpc import error_details_pb2

from regbus.adapters.errors import (
    BulkheadFull,
    CircuitOpen,
    InternalError,
    InvalidParameter,
    OutcomeUnknown,
    RegistryTimeout,
    SubjectNotFound,
)
from regbus.bus.status import error_message, grpc_code, message_of, rich_status


def _details(error: Exception) -> dict[str, object]:
    status = rich_status(error)  # type: ignore[arg-type]
    found: dict[str, object] = {}
    for detail in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.RetryInfo,
            error_details_pb2.BadRequest,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def test_circuit_open_is_unavailable_with_retry_info() -> None:
    error = CircuitOpen("failing fast", registry="gbdfl", operation="get_person", retry_after=7.5)
    assert grpc_code(error) == grpc.StatusCode.UNAVAILABLE
    details = _details(error)
    info = details["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("CIRCUIT_OPEN", "regbus")
    assert info.metadata["registry"] == "gbdfl"
    retry = details["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToNanoseconds() == 7_500_000_000
    assert "gbdfl" in message_of(error) and "retry after" in message_of(error)


def test_not_found_says_retrying_will_not_help() -> None:
    error = SubjectNotFound("no person with IIN 940512410508", registry="gbdfl")
    assert grpc_code(error) == grpc.StatusCode.NOT_FOUND
    assert "RetryInfo" not in _details(error)
    assert "retrying will not help" in message_of(error)


def test_invalid_parameter_carries_a_field_violation() -> None:
    error = InvalidParameter("bad check digit", field="iin", reason="INVALID_IIN", registry="gbdfl")
    assert grpc_code(error) == grpc.StatusCode.INVALID_ARGUMENT
    bad = _details(error)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert bad.field_violations[0].field == "params.iin"


def test_timeouts_and_full_bulkheads_are_retryable() -> None:
    assert grpc_code(RegistryTimeout("slow", registry="zags")) == grpc.StatusCode.UNAVAILABLE
    full = BulkheadFull("full", registry="zags", retry_after=0.2)
    assert grpc_code(full) == grpc.StatusCode.RESOURCE_EXHAUSTED
    part = error_message(full)
    assert part.retryable and part.reason == "BULKHEAD_FULL" and part.registry == "zags"
    assert part.retry_after.ToNanoseconds() == 200_000_000


def test_what_a_registry_or_caller_made_large_is_capped_for_the_caller() -> None:
    huge = RegistryTimeout("x" * 10_000 + "\nforged=line", registry="gbdfl", operation="get_person")
    message = message_of(huge)
    assert len(message) < 500 and "\n" not in message
    assert message.startswith("registry gbdfl: ")
    bad = InvalidParameter("bad", field="f" * 5_000, reason="UNEXPECTED_PARAMETER")
    status = rich_status(bad)  # type: ignore[arg-type]
    assert len(status.SerializeToString()) < 2_000


def test_internal_and_outcome_unknown_have_their_own_codes() -> None:
    assert grpc_code(InternalError("bug", registry="gbdfl")) == grpc.StatusCode.INTERNAL
    lost = OutcomeUnknown("the write may have happened", registry="zags")
    assert grpc_code(lost) == grpc.StatusCode.UNKNOWN
    assert not lost.retryable and "retrying will not help" in message_of(lost)
