"""regbus: one gRPC contract in front of the state registries.

Everything installs under this one name: ``regbus.bus`` (server, CLI),
``regbus.adapters`` (registries and their wire styles), ``regbus.circuit``
(resilience), ``regbus.monitoring``, ``regbus.mocks`` and the generated
contract ``regbus.v1``.
"""

__version__ = "0.1.0"
