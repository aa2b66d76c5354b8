"""Resilience policies as data: one ``Policy`` per registry, read from TOML.

Every field has a default; a registry's ``[registries.ID.policy]`` table
overrides the ``[policy]`` defaults field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """tenacity retries with full-jitter exponential waits, for transient failures only."""

    attempts: int = 3
    backoff_initial: float = 0.1
    backoff_max: float = 2.0


@dataclass(frozen=True)
class BreakerPolicy:
    """One pybreaker breaker per registry.

    Opens after ``fail_max`` consecutive failures; after ``reset_timeout``
    seconds one probe call is let through (half-open).
    """

    fail_max: int = 5
    reset_timeout: float = 15.0


@dataclass(frozen=True)
class BulkheadPolicy:
    """At most ``max_concurrent`` calls in flight to the registry; others wait
    up to ``max_wait`` seconds for a slot, then fail fast."""

    max_concurrent: int = 20
    max_wait: float = 0.5


@dataclass(frozen=True)
class Policy:
    """Everything the bus applies around one registry's calls."""

    timeout: float = 3.0  # per attempt, clamped to the caller's remaining deadline
    default_deadline: float = 10.0  # for callers that set no deadline
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    bulkhead: BulkheadPolicy = BulkheadPolicy()

    def merged(self, table: Mapping[str, Any]) -> Policy:
        """Return a copy with the values of a TOML table applied.

        Unknown keys and values of the wrong type raise ``ValueError`` naming them.
        """
        changes: dict[str, Any] = {}
        sections = {"retry": self.retry, "breaker": self.breaker, "bulkhead": self.bulkhead}
        for key, value in table.items():
            if key in sections:
                if not isinstance(value, Mapping):
                    raise ValueError(f"policy.{key} must be a table")
                changes[key] = _apply(sections[key], value, f"policy.{key}")
            else:
                changes.update(_check(self, key, value, "policy"))
        return replace(self, **changes)

    def validate(self) -> None:
        """Raise ``ValueError`` for settings that cannot work."""
        problems = []
        if self.timeout <= 0:
            problems.append("policy.timeout must be > 0")
        if self.default_deadline <= 0:
            problems.append("policy.default_deadline must be > 0")
        if self.retry.attempts < 1:
            problems.append("policy.retry.attempts must be >= 1")
        if self.retry.backoff_initial < 0 or self.retry.backoff_max < 0:
            problems.append("policy.retry backoff values must be >= 0")
        if self.breaker.fail_max < 1:
            problems.append("policy.breaker.fail_max must be >= 1")
        if self.breaker.reset_timeout <= 0:
            problems.append("policy.breaker.reset_timeout must be > 0")
        if self.bulkhead.max_concurrent < 1:
            problems.append("policy.bulkhead.max_concurrent must be >= 1")
        if self.bulkhead.max_wait < 0:
            problems.append("policy.bulkhead.max_wait must be >= 0")
        if problems:
            raise ValueError("; ".join(problems))


def _check(obj: Any, key: str, value: Any, where: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(obj)}
    if key not in known:
        raise ValueError(f"unknown setting {where}.{key} (known: {', '.join(sorted(known))})")
    current = getattr(obj, key)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ValueError(f"{where}.{key} cannot be set")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}.{key} must be a number, got {value!r}")
    if isinstance(current, int) and not isinstance(current, bool) and type(current) is int:
        if not float(value).is_integer():
            raise ValueError(f"{where}.{key} must be a whole number, got {value!r}")
        return {key: int(value)}
    return {key: float(value)}


def _apply(obj: Any, table: Mapping[str, Any], where: str) -> Any:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        changes.update(_check(obj, key, value, where))
    return replace(obj, **changes)
