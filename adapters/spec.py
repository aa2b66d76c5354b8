"""The declaration of a registry: what an integrator writes.

A registry is data: its id, wire style, sensitivity and operations; each
operation names its parameters (with the kind the bus checks), the call it
makes on the wire, and how the answer maps to a record, by paths::

    LAND = Registry(
        registry="land",
        name="Land cadastre (EGKN)",
        wire=Rest(openapi=files("kz_land") / "land.json"),
        operations=(
            Operation(
                "get_parcel",
                (Param("iin", IIN),),
                call="GET /parcels/{iin}",
                record=Into("generic", {"number": "cadastralNumber"}, type="kz.land.Parcel"),
                sample=Sample({"iin": "850314354052"}, unknown={"iin": "940512410508"}),
            ),
        ),
    )

and one entry point registers it: ``land = "kz_land.adapter:LAND"`` in the
``regbus.adapters`` group. The declaration is checked against the WSDL or
OpenAPI document when the adapter loads (:mod:`regbus.adapters.checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from regbus.adapters.kinds import TEXT, Kind

if TYPE_CHECKING:
    from regbus.adapters.views import View
    from regbus.v1 import records_pb2

WireStyle = Literal["shep-soap", "xroad-soap", "soap", "rest"]
Sensitivity = Literal["public", "personal", "medical", "restricted"]
# A service description: a file name in regbus's own adapters folders, a path,
# or a package resource (``importlib.resources.files("pkg") / "x.wsdl"``).
Description = str | Path | Traversable
Handler = Callable[["View", Mapping[str, str]], "records_pb2.Record"]


@dataclass(frozen=True)
class Param:
    """One request parameter; ``kind`` is checked by the bus before any call."""

    name: str
    kind: Kind = TEXT
    required: bool = True


@dataclass(frozen=True)
class Into:
    """How an answer becomes a record.

    ``kind`` is the field of ``regbus.v1.Record`` to fill (``person``,
    ``vehicles``, ...), ``generic`` (a Struct, named by ``type``) or
    ``extension``: the integrator's own message named by ``type``
    (``kg.land.v1.Parcel``; importing its ``_pb2`` module loads it), packed in
    an Any; with ``each`` it is a list message with one repeated field. ``fields``
    maps each record field to its source. A list record maps every item at
    ``each``; a single record maps the item at ``at`` (the answer itself when
    empty). Values are converted to the record field's type: dates from
    ``YYYY-MM-DD``, enums by value name (``MALE`` -> ``SEX_MALE``).
    """

    kind: str
    fields: Mapping[str, Source]
    each: str = ""
    at: str = ""
    type: str = ""


@dataclass(frozen=True)
class Nested:
    """A record field that is a message of its own, mapped by its own ``fields``:
    for a repeated field every item at ``each``; otherwise the node at ``at``
    (the same node when empty; left unset when ``at`` is absent from the answer)::

        "vaccinations": Nested({"vaccine": "name", "date": "givenOn"}, each="vaccination")
        "address": Nested({"code": "code", "city": "city"}, at="address")
    """

    fields: Mapping[str, Source]
    each: str = ""
    at: str = ""


# Where a record field comes from: a path into the answer ("a/b", "a.b"; a
# trailing "?" makes it optional), a function of the answer and the params, or
# ``Nested`` fields for a field that is a message of its own.
Source = str | Callable[["View", Mapping[str, str]], Any] | Nested


@dataclass(frozen=True)
class Status:
    """A result code inside the answer that tells business outcomes apart."""

    path: str
    ok: tuple[str, ...] = ("OK",)
    not_found: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    message: str = ""  # path of a text that explains the code


@dataclass(frozen=True)
class Faults:
    """Business meaning of SOAP faults: the code at ``code`` inside the fault's
    ``detail`` element named ``detail``."""

    detail: str
    code: str = "code"
    not_found: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sample:
    """Subjects for the contract suite: one the mock registry knows; one with a
    valid identifier that no registry knows (None where the operation answers
    an empty list instead of "not found"); and another known subject, whose
    answer must be refused when it comes back for ``known`` (see ``echo``)."""

    known: Mapping[str, str]
    unknown: Mapping[str, str] | None = None
    other: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Operation:
    """One operation of a registry.

    ``call`` is what it does on the wire: the SOAP operation (plain SOAP,
    X-Road), the payload element (ШЭП), or ``"GET /path/{param}"`` (REST;
    parameters not in the path go in the query). ``one_of`` lists parameters
    of which exactly one must be given. A write is retried only when it
    carries ``idempotency_key``, a parameter the registry honours to
    recognise a repeated request. ``echo`` maps a parameter to the record
    field that must repeat it (an answer about someone else is a fault).
    """

    name: str
    params: tuple[Param, ...]
    call: str = ""
    record: Into | None = None
    handler: Handler | None = None
    one_of: tuple[str, ...] = ()
    writes: bool = False
    idempotency_key: str | None = None
    status: Status | None = None
    echo: Mapping[str, str] = field(default_factory=dict)
    sample: Sample | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(self.params))
        names = [p.name for p in self.params]
        unknown = [n for n in (*self.one_of, *self.echo) if n not in names]
        if self.idempotency_key is not None and self.idempotency_key not in names:
            unknown.append(self.idempotency_key)
        if unknown:
            raise ValueError(f"operation {self.name}: {', '.join(unknown)} is not a parameter")

    @property
    def retry_safe(self) -> bool:
        return not self.writes or self.idempotency_key is not None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class Probe:
    """A cheap call that tells whether the registry answers: its health operation, or a
    read of a subject it knows. Any answer, "not found" included, means it is up."""

    operation: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shep:
    """ШЭП SyncChannel: ``service_id`` behind the gateway, payloads in ``payload`` (an XSD)."""

    service_id: str
    payload: Description
    protocol: WireStyle = "shep-soap"


@dataclass(frozen=True)
class Soap:
    """An agency's own SOAP 1.1 document/literal service."""

    wsdl: Description
    faults: Faults | None = None
    protocol: WireStyle = "soap"


@dataclass(frozen=True)
class XRoad:
    """SOAP through an X-Road 4.0 security server; identifiers come from the configuration."""

    wsdl: Description
    faults: Faults | None = None
    protocol: WireStyle = "xroad-soap"


@dataclass(frozen=True)
class Rest:
    """JSON over HTTP described by an OpenAPI 3 document."""

    openapi: Description
    protocol: WireStyle = "rest"


Wire = Shep | Soap | XRoad | Rest


@dataclass(frozen=True)
class Registry:
    """The declaration of a registry as the bus and its callers see it."""

    registry: str
    name: str
    operations: tuple[Operation, ...]
    wire: Wire | None = None
    protocol: WireStyle | Literal[""] = ""
    sensitivity: tuple[Sensitivity, ...] = ("personal",)
    # How the bus checks the registry when nobody calls it; by default the first read
    # operation's sample subject.
    probe: Probe | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operations", tuple(self.operations))
        if self.wire is not None:
            object.__setattr__(self, "protocol", self.wire.protocol)
        if not self.protocol:
            raise ValueError(f"registry {self.registry}: declare its wire (or protocol)")
        names = [op.name for op in self.operations]
        if len(set(names)) != len(names):
            raise ValueError(f"registry {self.registry}: an operation is declared twice")

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.operations if op.name == name), None)

    def probe_call(self) -> Probe | None:
        """The declared probe, or a read of the first read operation's sample subject."""
        if self.probe is not None:
            return self.probe
        for op in self.operations:
            if not op.writes and op.sample is not None:
                return Probe(op.name, dict(op.sample.known))
        return None
