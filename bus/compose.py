"""Running a Compose: a profile's steps (or the parts a caller listed) in parallel where
they do not depend on each other, inside the caller's deadline.

    run = ComposeRun(profile, {"iin": "771130308916"}, query)
    parts = await run.within(budget)      # one Part per call, in step order

``query(registry, operation, params, budget)`` answers one call; identical calls
in one Compose run once. A late or failing part never costs the others: it
carries its error, naming its registry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from regbus.adapters.errors import DeadlineExhausted, DependencyFailed, RegbusError
from regbus.adapters.mapping import content
from regbus.bus.profiles import Profile, Source, Step
from regbus.bus.router import Answer

Query = Callable[[str, str, Mapping[str, str], "float | None"], Awaitable[Answer]]
Key = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass
class Call:
    params: dict[str, str]
    task: asyncio.Future[Answer]


@dataclass
class StepRun:
    """What became of one step."""

    step: Step
    calls: list[Call] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    skipped: bool = False  # every source was a request key the caller did not give
    error: RegbusError | None = None  # not asked: a step it needs failed
    waiting_for: str = ""

    def answers(self) -> list[Answer]:
        return [
            c.task.result()
            for c in self.calls
            if c.task.done() and not c.task.cancelled() and c.task.exception() is None
        ]

    def failure(self) -> RegbusError | None:
        """Why the step gave nothing to depend on: its own error or its first call's."""
        if self.error is not None:
            return self.error
        for call in self.calls:
            if call.task.done() and not call.task.cancelled():
                error = call.task.exception()
                if isinstance(error, RegbusError):
                    return error
        return None


_MISSING = object()


class ComposeRun:
    def __init__(self, profile: Profile, keys: Mapping[str, str], query: Query) -> None:
        self.profile = profile
        self.keys = dict(keys)
        self._query = query
        self._calls: dict[Key, asyncio.Future[Answer]] = {}
        self.runs = {step.name: StepRun(step) for step in profile.steps}
        self._deadline: float | None = None

    async def within(self, budget: float | None) -> list[StepRun]:
        """Run every step; at ``budget`` seconds stop waiting and cancel what is left."""
        self._deadline = None if budget is None else time.monotonic() + budget
        tasks = [asyncio.ensure_future(self._run(run)) for run in self.runs.values()]
        try:
            await asyncio.wait(tasks, timeout=budget)
        finally:
            # No-op for finished ones; the caller may have gone away.
            for task in tasks:
                task.cancel()
            for call in self._calls.values():
                call.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a bug: let it surface
        return list(self.runs.values())

    async def _run(self, run: StepRun) -> None:
        try:
            params = await self._resolve(run)
            if params is None:
                return
            fan = [name for name, value in params.items() if isinstance(value, list)]
            rows: list[dict[str, str]]
            if fan:
                (name,) = fan
                fixed = {k: v for k, v in params.items() if k != name}
                rows = [{**fixed, name: value} for value in dict.fromkeys(params[name])]
            else:
                rows = [params]
            run.calls = [Call(row, self._call(run.step, row)) for row in rows]
            if run.calls:
                await asyncio.wait([c.task for c in run.calls])
        finally:
            run.finished.set()

    def _call(self, step: Step, params: dict[str, str]) -> asyncio.Future[Answer]:
        key = (step.registry, step.operation, tuple(sorted(params.items())))
        task = self._calls.get(key)
        if task is None:
            left = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
            task = self._calls[key] = asyncio.ensure_future(
                self._query(step.registry, step.operation, params, left)
            )
        return task

    async def _resolve(self, run: StepRun) -> dict[str, Any] | None:
        """The step's parameters (a list for the one it runs once per item of), or None
        when it is skipped or not asked (``run.skipped`` / ``run.error`` say which)."""
        step = run.step
        resolved: dict[str, Any] = {}
        failed: tuple[str, RegbusError] | None = None
        for param, alternatives in self.profile.step_sources(step).items():
            value: Any = _MISSING
            for source in alternatives:
                value = await self._value(run, source)
                if isinstance(value, _Failed):
                    failed = failed or (value.step, value.error)
                    value = _MISSING
                    continue
                if value is not _MISSING:
                    break
            if value is _MISSING:
                if failed is not None:
                    need, error = failed
                    which = self.runs[need].step
                    run.error = DependencyFailed(
                        f"not asked: it needs step {need} ({which.registry}.{which.operation}),"
                        f" which failed with {error.reason}",
                        retryable=error.retryable,
                        registry=step.registry,
                        operation=step.operation,
                    )
                else:
                    run.skipped = True
                return None
            resolved[param] = value
        return resolved

    async def _value(self, run: StepRun, source: Source) -> Any:
        if source.literal:
            return source.text
        if not source.path:
            return self.keys.get(source.name) or _MISSING
        earlier = self.runs[source.step]
        run.waiting_for = source.step
        await earlier.finished.wait()
        run.waiting_for = ""
        answers = earlier.answers()
        if not answers:
            error = earlier.failure()
            return _Failed(source.step, error) if error is not None else _MISSING
        # The whole record: a later step may need a field the caller's purpose does not see.
        records = [a.full if a.full is not None else a.record for a in answers]
        values = [v for record in records for v in _extract(content(record), source.path)]
        if source.fans_out:
            return values
        return values[0] if values else _MISSING


@dataclass(frozen=True)
class _Failed:
    step: str
    error: RegbusError


def _extract(message: Message | None, path: tuple[str, ...]) -> list[str]:
    """The values at ``path`` in a record's message (``vehicles[]`` walks a list)."""
    nodes: list[Any] = [message] if message is not None else []
    for part in path:
        name = part.removesuffix("[]")
        step: list[Any] = []
        for node in nodes:
            if not isinstance(node, Message) or name not in node.DESCRIPTOR.fields_by_name:
                continue
            value = getattr(node, name)
            if part.endswith("[]"):
                step.extend(value)
            else:
                step.append(value)
        nodes = step
    return [_text(v) for v in nodes if _text(v)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    return ""


def late(step: Step, waiting_for: str) -> DeadlineExhausted:
    why = f" (it was waiting for step {waiting_for})" if waiting_for else ""
    return DeadlineExhausted(
        f"no answer before the caller's deadline{why}; a longer deadline may help",
        registry=step.registry,
        operation=step.operation,
    )
