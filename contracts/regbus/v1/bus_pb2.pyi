import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from regbus.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_CLOSED: _ClassVar[BreakerState]
    BREAKER_STATE_OPEN: _ClassVar[BreakerState]
    BREAKER_STATE_HALF_OPEN: _ClassVar[BreakerState]
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_CLOSED: BreakerState
BREAKER_STATE_OPEN: BreakerState
BREAKER_STATE_HALF_OPEN: BreakerState

class RequestContext(_message.Message):
    __slots__ = ("client_id", "operator_id", "purpose", "case_number", "request_id")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CASE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    operator_id: str
    purpose: str
    case_number: str
    request_id: str
    def __init__(self, client_id: _Optional[str] = ..., operator_id: _Optional[str] = ..., purpose: _Optional[str] = ..., case_number: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("registry", "operation", "params", "context")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    registry: str
    operation: str
    params: _containers.ScalarMap[str, str]
    context: RequestContext
    def __init__(self, registry: _Optional[str] = ..., operation: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., context: _Optional[_Union[RequestContext, _Mapping]] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("registry", "operation", "received_at", "attempts", "latency", "request_id")
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    registry: str
    operation: str
    received_at: _timestamp_pb2.Timestamp
    attempts: int
    latency: _duration_pb2.Duration
    request_id: str
    def __init__(self, registry: _Optional[str] = ..., operation: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("record", "source")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    record: _records_pb2.Record
    source: Source
    def __init__(self, record: _Optional[_Union[_records_pb2.Record, _Mapping]] = ..., source: _Optional[_Union[Source, _Mapping]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "reason", "message", "registry", "retryable", "retry_after", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    code: int
    reason: str
    message: str
    registry: str
    retryable: bool
    retry_after: _duration_pb2.Duration
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., registry: _Optional[str] = ..., retryable: _Optional[bool] = ..., retry_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ComposeRequest(_message.Message):
    __slots__ = ("parts", "params", "context", "profile")
    class Part(_message.Message):
        __slots__ = ("registry", "operation", "params")
        class ParamsEntry(_message.Message):
            __slots__ = ("key", "value")
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: str
            def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
        REGISTRY_FIELD_NUMBER: _ClassVar[int]
        OPERATION_FIELD_NUMBER: _ClassVar[int]
        PARAMS_FIELD_NUMBER: _ClassVar[int]
        registry: str
        operation: str
        params: _containers.ScalarMap[str, str]
        def __init__(self, registry: _Optional[str] = ..., operation: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PARTS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[ComposeRequest.Part]
    params: _containers.ScalarMap[str, str]
    context: RequestContext
    profile: str
    def __init__(self, parts: _Optional[_Iterable[_Union[ComposeRequest.Part, _Mapping]]] = ..., params: _Optional[_Mapping[str, str]] = ..., context: _Optional[_Union[RequestContext, _Mapping]] = ..., profile: _Optional[str] = ...) -> None: ...

class ComposeResponse(_message.Message):
    __slots__ = ("parts", "profile")
    class Part(_message.Message):
        __slots__ = ("registry", "operation", "response", "error", "step", "params")
        class ParamsEntry(_message.Message):
            __slots__ = ("key", "value")
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: str
            def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
        REGISTRY_FIELD_NUMBER: _ClassVar[int]
        OPERATION_FIELD_NUMBER: _ClassVar[int]
        RESPONSE_FIELD_NUMBER: _ClassVar[int]
        ERROR_FIELD_NUMBER: _ClassVar[int]
        STEP_FIELD_NUMBER: _ClassVar[int]
        PARAMS_FIELD_NUMBER: _ClassVar[int]
        registry: str
        operation: str
        response: QueryResponse
        error: Error
        step: str
        params: _containers.ScalarMap[str, str]
        def __init__(self, registry: _Optional[str] = ..., operation: _Optional[str] = ..., response: _Optional[_Union[QueryResponse, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., step: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...
    PARTS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[ComposeResponse.Part]
    profile: str
    def __init__(self, parts: _Optional[_Iterable[_Union[ComposeResponse.Part, _Mapping]]] = ..., profile: _Optional[str] = ...) -> None: ...

class ListRegistriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OperationInfo(_message.Message):
    __slots__ = ("name", "params", "writes", "idempotency_key", "required", "one_of", "example")
    class ExampleEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    WRITES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ONE_OF_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    params: _containers.RepeatedScalarFieldContainer[str]
    writes: bool
    idempotency_key: str
    required: _containers.RepeatedScalarFieldContainer[str]
    one_of: _containers.RepeatedScalarFieldContainer[str]
    example: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., params: _Optional[_Iterable[str]] = ..., writes: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., required: _Optional[_Iterable[str]] = ..., one_of: _Optional[_Iterable[str]] = ..., example: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RegistryInfo(_message.Message):
    __slots__ = ("id", "name", "protocol", "operations", "breaker", "state_since", "error_rate", "latency_p50_seconds", "latency_p99_seconds", "recent_calls", "in_flight", "sensitivity")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    STATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RECENT_CALLS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    protocol: str
    operations: _containers.RepeatedCompositeFieldContainer[OperationInfo]
    breaker: BreakerState
    state_since: _timestamp_pb2.Timestamp
    error_rate: float
    latency_p50_seconds: float
    latency_p99_seconds: float
    recent_calls: int
    in_flight: int
    sensitivity: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., protocol: _Optional[str] = ..., operations: _Optional[_Iterable[_Union[OperationInfo, _Mapping]]] = ..., breaker: _Optional[_Union[BreakerState, str]] = ..., state_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_rate: _Optional[float] = ..., latency_p50_seconds: _Optional[float] = ..., latency_p99_seconds: _Optional[float] = ..., recent_calls: _Optional[int] = ..., in_flight: _Optional[int] = ..., sensitivity: _Optional[_Iterable[str]] = ...) -> None: ...

class ProfileInfo(_message.Message):
    __slots__ = ("name", "title", "keys", "steps")
    class Step(_message.Message):
        __slots__ = ("name", "registry", "operation", "params", "after")
        class ParamsEntry(_message.Message):
            __slots__ = ("key", "value")
            KEY_FIELD_NUMBER: _ClassVar[int]
            VALUE_FIELD_NUMBER: _ClassVar[int]
            key: str
            value: str
            def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
        NAME_FIELD_NUMBER: _ClassVar[int]
        REGISTRY_FIELD_NUMBER: _ClassVar[int]
        OPERATION_FIELD_NUMBER: _ClassVar[int]
        PARAMS_FIELD_NUMBER: _ClassVar[int]
        AFTER_FIELD_NUMBER: _ClassVar[int]
        name: str
        registry: str
        operation: str
        params: _containers.ScalarMap[str, str]
        after: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, name: _Optional[str] = ..., registry: _Optional[str] = ..., operation: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., after: _Optional[_Iterable[str]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    steps: _containers.RepeatedCompositeFieldContainer[ProfileInfo.Step]
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., steps: _Optional[_Iterable[_Union[ProfileInfo.Step, _Mapping]]] = ...) -> None: ...

class ListRegistriesResponse(_message.Message):
    __slots__ = ("registries", "profiles")
    REGISTRIES_FIELD_NUMBER: _ClassVar[int]
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    registries: _containers.RepeatedCompositeFieldContainer[RegistryInfo]
    profiles: _containers.RepeatedCompositeFieldContainer[ProfileInfo]
    def __init__(self, registries: _Optional[_Iterable[_Union[RegistryInfo, _Mapping]]] = ..., profiles: _Optional[_Iterable[_Union[ProfileInfo, _Mapping]]] = ...) -> None: ...
