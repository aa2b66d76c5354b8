"""What an adapter author needs, in one import.

    from regbus.kit import IIN, Into, Operation, Param, Registry, Sample, Soap

Declarations (:mod:`regbus.adapters.spec`), parameter kinds
(:mod:`regbus.adapters.kinds`), answer views for mapping functions
(:mod:`regbus.adapters.views`), the error tree (:mod:`regbus.adapters.errors`)
and the mock kit (``XRoadMock``; :mod:`regbus.mocks.soap`, :mod:`regbus.mocks.server`). The
contract suite is :mod:`regbus.testing`.
"""

from regbus.adapters.base import Adapter, CallContext, Endpoint
from regbus.adapters.errors import (
    InvalidParameter,
    RegbusError,
    RegistryFault,
    RegistryRejected,
    RegistryTimeout,
    RegistryUnavailable,
    SubjectNotFound,
)
from regbus.adapters.kinds import (
    BIN,
    DATE,
    IIN,
    IIN_OR_BIN,
    KEY,
    PLATE,
    TEXT,
    VIN,
    Kind,
    custom,
    enum,
    pattern,
)
from regbus.adapters.soap.xroad import XRoadIdentity
from regbus.adapters.spec import (
    Faults,
    Into,
    Nested,
    Operation,
    Param,
    Registry,
    Rest,
    Sample,
    Shep,
    Soap,
    Status,
    XRoad,
)
from regbus.adapters.views import JsonView, View, XmlView
from regbus.mocks.xroad import ServiceFault, XRoadMock, not_found

__all__ = [
    "BIN",
    "DATE",
    "IIN",
    "IIN_OR_BIN",
    "KEY",
    "PLATE",
    "TEXT",
    "VIN",
    "Adapter",
    "CallContext",
    "Endpoint",
    "Faults",
    "Into",
    "InvalidParameter",
    "JsonView",
    "Kind",
    "Nested",
    "Operation",
    "Param",
    "RegbusError",
    "Registry",
    "RegistryFault",
    "RegistryRejected",
    "RegistryTimeout",
    "RegistryUnavailable",
    "Rest",
    "Sample",
    "ServiceFault",
    "Shep",
    "Soap",
    "Status",
    "SubjectNotFound",
    "View",
    "XRoad",
    "XRoadIdentity",
    "XRoadMock",
    "XmlView",
    "custom",
    "enum",
    "not_found",
    "pattern",
]
