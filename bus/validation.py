"""Check a request against the adapter's declaration before any registry call."""

from __future__ import annotations

from collections.abc import Mapping

from regbus.adapters.errors import InvalidParameter, UnknownOperation
from regbus.adapters.spec import Operation, Registry


def validate(spec: Registry, operation: str, params: Mapping[str, str]) -> Operation:
    """Return the operation, or raise ``InvalidRequest`` naming the bad field."""
    op = spec.operation(operation)
    if op is None:
        known = ", ".join(o.name for o in spec.operations)
        raise UnknownOperation(
            f"registry {spec.registry!r} has no operation {operation!r} (it has: {known})",
            registry=spec.registry,
            operation=operation,
        )
    for name in params:
        if op.param(name) is None:
            known = ", ".join(p.name for p in op.params)
            raise InvalidParameter(
                f"{spec.registry}.{operation} takes no parameter {name!r} (it takes: {known})",
                field=name,
                reason="UNEXPECTED_PARAMETER",
                registry=spec.registry,
                operation=operation,
            )
    for param in op.params:
        value = params.get(param.name, "")
        if not value:
            if param.required and param.name not in op.one_of:
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
            names = " or ".join(op.one_of)
            raise InvalidParameter(
                f"{spec.registry}.{operation} needs exactly one of {names}, got {len(given)}",
                field=op.one_of[0],
                reason="MISSING_PARAMETER" if not given else "CONFLICTING_PARAMETERS",
                registry=spec.registry,
                operation=operation,
            )
    return op
