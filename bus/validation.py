"""Check a request against the adapter's declaration before any registry call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from regbus.adapters.errors import InvalidParameter, UnknownOperation
from regbus.adapters.spec import Operation, Param, Registry

# No declared parameter needs more; anything larger is refused before it is read further.
MAX_PARAMS = 32
MAX_NAME_CHARS = 64
MAX_VALUE_CHARS = 1024


def validate(spec: Registry, operation: str, params: Mapping[str, str]) -> Operation:
    """Return the operation, or raise ``InvalidRequest`` naming the bad field."""
    plan = _operations(spec).get(operation)
    if plan is None:
        known = ", ".join(o.name for o in spec.operations)
        raise UnknownOperation(
            f"registry {spec.registry!r} has no operation {operation!r} (it has: {known})",
            registry=spec.registry,
            operation=operation,
        )
    op = plan.op
    if len(params) > MAX_PARAMS:
        _check_sizes(spec, operation, params)
    for name, value in params.items():
        if len(name) > MAX_NAME_CHARS or len(value) > MAX_VALUE_CHARS:
            _check_sizes(spec, operation, params)  # raises for the first one too long
    names = plan.names
    for name in params:
        if name not in names:
            known = ", ".join(p.name for p in op.params)
            raise InvalidParameter(
                f"{spec.registry}.{operation} takes no parameter {name!r} (it takes: {known})",
                field=name,
                reason="UNEXPECTED_PARAMETER",
                registry=spec.registry,
                operation=operation,
            )
    for param, needed in plan.checks:
        value = params.get(param.name, "")
        if not value:
            if needed:
                raise InvalidParameter(
                    f"{spec.registry}.{operation} needs parameter {param.name!r}",
                    field=param.name,
                    reason="MISSING_PARAMETER",
                    registry=spec.registry,
                    operation=operation,
                )
            continue
        problem = param.kind.problem(value)
        if problem is not None:
            raise InvalidParameter(
                problem,
                field=param.name,
                reason=param.kind.reason,
                registry=spec.registry,
                operation=operation,
            )
    if op.one_of:
        given = [name for name in op.one_of if params.get(name)]
        if len(given) != 1:
            names_text = " or ".join(op.one_of)
            raise InvalidParameter(
                f"{spec.registry}.{operation} needs exactly one of {names_text}, got {len(given)}",
                field=op.one_of[0],
                reason="MISSING_PARAMETER" if not given else "CONFLICTING_PARAMETERS",
                registry=spec.registry,
                operation=operation,
            )
    return op


@dataclass(frozen=True, slots=True)
class _Checks:
    """One operation's checks, worked out once per declaration."""

    op: Operation
    names: frozenset[str]  # the parameters it takes
    checks: tuple[tuple[Param, bool], ...]  # each parameter, and whether it must be given


# id of a declaration -> the declaration (kept alive, so the id stays its own) and the
# checks of each of its operations by name.
_PLANS: dict[int, tuple[Registry, dict[str, _Checks]]] = {}
_PLANS_LIMIT = 1024  # declarations are few; this only bounds a process making many


def _operations(spec: Registry) -> dict[str, _Checks]:
    cached = _PLANS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    plans: dict[str, _Checks] = {}
    for op in spec.operations:
        if op.name not in plans:  # the first of a name, as Registry.operation finds it
            plans[op.name] = _Checks(
                op,
                frozenset(p.name for p in op.params),
                tuple((p, p.required and p.name not in op.one_of) for p in op.params),
            )
    if len(_PLANS) >= _PLANS_LIMIT:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, plans)
    return plans


def _check_sizes(spec: Registry, operation: str, params: Mapping[str, str]) -> None:
    where = {"registry": spec.registry, "operation": operation}
    if len(params) > MAX_PARAMS:
        raise InvalidParameter(
            f"{spec.registry}.{operation} got {len(params)} parameters; at most {MAX_PARAMS}",
            field="",
            reason="TOO_MANY_PARAMETERS",
            **where,
        )
    for name, value in params.items():
        if len(name) > MAX_NAME_CHARS:
            raise InvalidParameter(
                f"a parameter name of {len(name)} characters; at most {MAX_NAME_CHARS}",
                field=name[:MAX_NAME_CHARS],
                reason="PARAMETER_TOO_LONG",
                **where,
            )
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidParameter(
                f"parameter {name!r} is {len(value)} characters long; at most {MAX_VALUE_CHARS}",
                field=name,
                reason="PARAMETER_TOO_LONG",
                **where,
            )
