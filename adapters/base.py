"""What an adapter is: a declaration of a registry plus the code that runs it.

Most adapters are only a declaration (:class:`regbus.adapters.spec.Registry`),
turned into an adapter by :mod:`regbus.adapters.declared`. A registry that a
declaration cannot describe subclasses ``Adapter``, sets ``spec`` and
implements ``call``. Either way it builds and parses messages only: retries,
breakers, bulkheads and metrics are applied around it by the bus.

Adapters register under the entry-point group ``regbus.adapters``, naming a
declaration or an ``Adapter`` class::

    [project.entry-points."regbus.adapters"]
    gbdfl = "regbus.adapters.gbdfl:GBDFL"
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from regbus.adapters.spec import Registry
from regbus.v1 import records_pb2

# The default answer size limit of a registry: 4 MiB.
DEFAULT_MAX_ANSWER_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one registry, from the configuration.

    ``options`` holds adapter-specific settings (a ШЭП sender id and password,
    an X-Road client identifier, ...). ``max_connections`` sizes the HTTP pool;
    ``max_answer_bytes`` is the largest answer body read from the registry (a
    larger one is cut off unread: ``AnswerTooLarge``). ``on_answer``, set by the
    bus and not by the configuration, is called with the size of every answer body
    the HTTP transport reads (``regbus_answer_bytes``).
    """

    url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    max_connections: int = 20
    connect_timeout: float = 5.0
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    on_answer: Callable[[int], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CallContext:
    """Who asks and why, passed to registries that want it (ШЭП, X-Road userId).

    ``client_id`` is the caller as the bus identified it (certificate, token or the local
    client), never what a request says. ``consent`` is the person's consent the caller
    sent (``regbus.bus.consent.Proof``), checked by the bus for calls that need it.
    """

    request_id: str
    client_id: str = ""
    operator_id: str = ""
    purpose: str = ""
    case_number: str = ""
    consent: object = field(default=None, compare=False, repr=False)


class Adapter(abc.ABC):
    """Base class of every registry adapter."""

    spec: ClassVar[Registry]

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
