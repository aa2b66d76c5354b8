"""What an adapter is: a declaration of a registry plus the code that maps it.

An adapter class declares ``spec`` (registry id, wire style, operations and
their parameters) and implements ``call``. It builds and parses messages only:
retries, breakers, bulkheads and metrics are applied around it by the bus.

Adapters register under the entry-point group ``regbus.adapters``::

    [project.entry-points."regbus.adapters"]
    gbdfl = "adapters.gbdfl:GbdflAdapter"
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from regbus.v1 import records_pb2

WireStyle = Literal["shep-soap", "xroad-soap", "soap", "rest"]
ParamKind = Literal["iin", "bin", "iin_or_bin", "plate", "vin", "text"]


@dataclass(frozen=True)
class Param:
    """One request parameter; ``kind`` selects the validation the bus applies."""

    name: str
    kind: ParamKind = "text"
    required: bool = True


@dataclass(frozen=True)
class Operation:
    """One operation of a registry.

    ``one_of`` lists parameters of which exactly one must be given (plate or
    VIN). A write is retried only when it carries ``idempotency_key``, a
    parameter the registry honours to recognise a repeated request.
    """

    name: str
    params: tuple[Param, ...]
    one_of: tuple[str, ...] = ()
    writes: bool = False
    idempotency_key: str | None = None

    @property
    def retry_safe(self) -> bool:
        return not self.writes or self.idempotency_key is not None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class AdapterSpec:
    """The declaration of a registry as the bus and its callers see it."""

    registry: str
    name: str
    protocol: WireStyle
    operations: tuple[Operation, ...]

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.operations if op.name == name), None)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one registry, from the configuration.

    ``options`` holds adapter-specific settings (a ШЭП sender id and password,
    an X-Road client identifier, ...). ``max_connections`` sizes the HTTP pool.
    """

    url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    max_connections: int = 20
    connect_timeout: float = 5.0


@dataclass(frozen=True)
class CallContext:
    """Who asks and why, passed to registries that want it (ШЭП, X-Road userId)."""

    request_id: str
    client_id: str = ""
    operator_id: str = ""
    purpose: str = ""
    case_number: str = ""


class Adapter(abc.ABC):
    """Base class of every registry adapter."""

    spec: ClassVar[AdapterSpec]

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    @abc.abstractmethod
    async def call(
        self, operation: str, params: Mapping[str, str], context: CallContext
    ) -> records_pb2.Record:
        """Run one operation and return its canonical record.

        ``params`` are already validated against the operation's declaration.
        Raise the errors of :mod:`adapters.errors`: ``SubjectNotFound`` for a
        business "not found", ``RegistryUnavailable``/``RegistryFault`` for
        technical failures (translated once, with ``raise ... from exc``).
        """

    async def aclose(self) -> None:
        """Release connections; called once when the bus stops."""
        return None
