"""Resilience policies as data: one ``Policy`` per registry, read from TOML.

Every field has a default; a registry's ``[registries.ID.policy]`` table
overrides the ``[policy]`` defaults field by field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """tenacity retries with full-jitter exponential waits, for transient failures only."""

    attempts: int = 3
    backoff_initial: float = 0.1
    backoff_max: float = 2.0
    budget_ratio: float = 0.2  # retries stay under this share of the registry's calls...
    budget_reserve: int = 10  # ...beyond this many banked for quiet periods
    min_attempt: float = 0.05  # a retry starts only if this much of the deadline is left


@dataclass(frozen=True)
class BreakerPolicy:
    """One breaker per registry, judging calls (not attempts) by the registry's own failures.

    Opens after ``fail_max`` consecutive failed calls, or when, over the last
    ``window`` calls (no older than ``window_seconds``) and at least ``min_calls``
    of them, the failure rate reaches ``failure_rate`` or the share of successful
    calls slower than ``slow_call`` seconds reaches ``slow_rate``. After
    ``reset_timeout`` seconds it lets ``half_open_permits`` trial calls through.
    """

    fail_max: int = 5  # this many consecutive failed CALLS open it (low-traffic registries)
    window: int = 20  # sliding window: the last N call outcomes...
    window_seconds: float = 60.0  # ...no older than this (0 = count only)
    min_calls: int = 10  # no rate verdict before this many calls in the window
    failure_rate: float = 0.5  # open when failures / calls in window >= this
    slow_call: float = 2.0  # seconds; a successful call at least this slow is "slow"
    slow_rate: float = 0.8  # open when slow / calls in window >= this (with min_calls)
    reset_timeout: float = 15.0  # open -> half-open after this
    half_open_permits: int = 3  # trial calls let through in half-open

    def problems(self, where: str = "policy.breaker") -> list[str]:
        """What cannot work in these settings, one sentence each (empty when fine)."""
        out = []
        if self.fail_max < 1:
            out.append(f"{where}.fail_max must be >= 1")
        if self.window < 1:
            out.append(f"{where}.window must be >= 1")
        if not self.window_seconds >= 0:
            out.append(f"{where}.window_seconds must be >= 0 (0: count only)")
        if not 1 <= self.min_calls <= self.window:
            out.append(f"{where}.min_calls must be between 1 and window ({self.window})")
        if not 0 < self.failure_rate <= 1:
            out.append(f"{where}.failure_rate must be > 0 and <= 1")
        if not self.slow_call > 0:
            out.append(f"{where}.slow_call must be > 0 (inf: never slow)")
        if not 0 < self.slow_rate <= 1:
            out.append(f"{where}.slow_rate must be > 0 and <= 1")
        if not (self.reset_timeout > 0 and math.isfinite(self.reset_timeout)):
            out.append(f"{where}.reset_timeout must be > 0")
        if self.half_open_permits < 1:
            out.append(f"{where}.half_open_permits must be >= 1")
        return out


@dataclass(frozen=True)
class BulkheadPolicy:
    """At most ``max_concurrent`` calls in flight to the registry; others wait
    up to ``max_wait`` seconds for a slot, then fail fast. One client holds at most
    ``client_share`` of the slots, so it cannot starve the others."""

    max_concurrent: int = 20
    max_wait: float = 0.5
    client_share: float = 0.5  # one client (or one Compose) holds at most this share


@dataclass(frozen=True)
class Policy:
    """Everything the bus applies around one registry's calls."""

    timeout: float = 3.0  # per attempt, clamped to the caller's remaining deadline
    default_deadline: float = 10.0  # for callers that set no deadline
    deadline_reserve: float = 0.05  # kept back from the deadline to send the answer
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
        if self.deadline_reserve < 0:
            problems.append("policy.deadline_reserve must be >= 0")
        if not 0 <= self.retry.budget_ratio <= 1:
            problems.append("policy.retry.budget_ratio must be between 0 and 1")
        if self.retry.budget_reserve < 0 or self.retry.min_attempt < 0:
            problems.append("policy.retry budget_reserve and min_attempt must be >= 0")
        problems.extend(self.breaker.problems())
        if self.bulkhead.max_concurrent < 1:
            problems.append("policy.bulkhead.max_concurrent must be >= 1")
        if self.bulkhead.max_wait < 0:
            problems.append("policy.bulkhead.max_wait must be >= 0")
        if not 0 < self.bulkhead.client_share <= 1:
            problems.append("policy.bulkhead.client_share must be > 0 and <= 1")
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
