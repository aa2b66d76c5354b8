"""A small synchronous client for the command line: calls and readable errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from regbus.v1 import bus_pb2, bus_pb2_grpc


@dataclass
class CallFailed(Exception):
    """A failed call, with what the bus said about it."""

    code: str
    message: str
    reason: str = ""
    registry: str = ""
    retryable: bool = False
    retry_after: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    violations: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "reason": self.reason, "message": self.message}
        if self.registry:
            out["registry"] = self.registry
        out["retryable"] = self.retryable
        if self.retry_after is not None:
            out["retry_after_seconds"] = self.retry_after
        if self.violations:
            out["field_violations"] = self.violations
        if "missing_right" in self.metadata:  # a PERMISSION_DENIED: what to ask for
            out["client"] = self.metadata.get("client", "")
            out["missing_right"] = self.metadata["missing_right"]
        return out


def failure(exc: grpc.RpcError) -> CallFailed:
    """Read the code, ErrorInfo, RetryInfo and BadRequest of a failed call."""
    code = exc.code()
    failed = CallFailed(code=code.name if code else "UNKNOWN", message=exc.details() or "")
    status = rpc_status.from_call(exc)
    if status is None:
        if code in (grpc.StatusCode.UNAVAILABLE,) and not failed.reason:
            failed.retryable = True
        return failed
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            failed.reason = info.reason
            failed.metadata = dict(info.metadata)
            failed.registry = info.metadata.get("registry", "")
            failed.retryable = info.metadata.get("retryable") == "true"
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            failed.retry_after = retry.retry_delay.ToNanoseconds() / 1e9
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            failed.violations = [
                {"field": v.field, "description": v.description} for v in bad.field_violations
            ]
    return failed


@dataclass(frozen=True)
class Credentials:
    """How to reach a bus that wants TLS, a client certificate or a token. ``ca_file``
    alone: TLS; with ``cert_file`` and ``key_file``: mutual TLS; ``token``: a bearer token
    (JWT) sent with every call. None of them: plaintext (a bus on loopback)."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""  # the name in the bus's certificate, when not the target's host
    token: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.ca_file or self.cert_file)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """``OSError`` names a file that cannot be read."""

        def read(path: str) -> bytes | None:
            return Path(path).read_bytes() if path else None

        return grpc.ssl_channel_credentials(
            read(self.ca_file), read(self.key_file), read(self.cert_file)
        )

    def options(self) -> list[tuple[str, str]]:
        return [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []

    def metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.token}")] if self.token else []


class Client:
    """``with Client("127.0.0.1:50051") as c: c.query("gbdfl", "get_person", {"iin": ...})``

    ``metadata`` is sent with every call (a consent: ``x-regbus-consent-code``)."""

    def __init__(
        self,
        target: str,
        timeout: float = 15.0,
        *,
        credentials: Credentials | None = None,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        credentials = credentials or Credentials()
        if credentials.tls:
            self.channel = grpc.secure_channel(
                target, credentials.channel_credentials(), options=credentials.options()
            )
        else:
            self.channel = grpc.insecure_channel(target)
        self.stub = bus_pb2_grpc.RegistryBusStub(self.channel)
        self.timeout = timeout
        self.target = target
        self.metadata = (*credentials.metadata(), *metadata)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.channel.close()

    def query(
        self,
        registry: str,
        operation: str,
        params: Mapping[str, str],
        context: bus_pb2.RequestContext | None = None,
    ) -> bus_pb2.QueryResponse:
        request = bus_pb2.QueryRequest(
            registry=registry, operation=operation, params=params, context=context
        )
        try:
            response: bus_pb2.QueryResponse = self.stub.Query(
                request, timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise failure(exc) from exc
        return response

    def compose(
        self,
        profile: str,
        params: Mapping[str, str],
        context: bus_pb2.RequestContext | None = None,
    ) -> bus_pb2.ComposeResponse:
        request = bus_pb2.ComposeRequest(profile=profile, params=params, context=context)
        try:
            response: bus_pb2.ComposeResponse = self.stub.Compose(
                request, timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise failure(exc) from exc
        return response

    def catalogue(self) -> bus_pb2.ListRegistriesResponse:
        try:
            response: bus_pb2.ListRegistriesResponse = self.stub.ListRegistries(
                bus_pb2.ListRegistriesRequest(), timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise failure(exc) from exc
        return response

    def registries(self) -> list[bus_pb2.RegistryInfo]:
        try:
            response = self.stub.ListRegistries(
                bus_pb2.ListRegistriesRequest(), timeout=self.timeout, metadata=self.metadata
            )
        except grpc.RpcError as exc:
            raise failure(exc) from exc
        return list(response.registries)


def to_dict(message: Any) -> dict[str, Any]:
    """A protobuf message as JSON-ready data, with field names as in the .proto."""
    result: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return result
