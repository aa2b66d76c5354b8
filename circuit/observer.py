"""What the guards report, for metrics and health to observe."""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        """One attempt sent to the registry ended: ``ok``, ``not_found``, ``rejected``,
        ``timeout``, ``unavailable``, ``fault``, ``too_large``, ``deadline`` (cut short
        by the caller's deadline), ``refused`` or ``internal``."""

    def retry(self, registry: str, operation: str, reason: str) -> None:
        """A retry was scheduled after a failure with this reason."""

    def retry_budget_exhausted(self, registry: str) -> None:
        """A retry was skipped because the registry's retry budget is spent."""

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        """The breaker moved between ``closed``, ``open`` and ``half_open``."""

    def rejected(self, registry: str, reason: str) -> None:
        """A call failed fast: ``circuit_open``, ``bulkhead_full`` or ``deadline``."""

    def in_flight(self, registry: str, count: int) -> None:
        """The number of calls holding a bulkhead slot changed."""


class NullObserver:
    """Observes nothing."""

    def attempt(self, registry: str, operation: str, outcome: str, seconds: float) -> None:
        pass

    def retry(self, registry: str, operation: str, reason: str) -> None:
        pass

    def retry_budget_exhausted(self, registry: str) -> None:
        pass

    def breaker_transition(self, registry: str, old: str, new: str) -> None:
        pass

    def rejected(self, registry: str, reason: str) -> None:
        pass

    def in_flight(self, registry: str, count: int) -> None:
        pass
