"""Check a request against the adapter's declaration before any registry call."""

from __future__ import annotations

from collections.abc import Mapping

from regbus.adapters.errors import InvalidParameter, UnknownOperation
from regbus.adapters.spec import Operation, Registry

# No declared parameter needs more; anything larger is refused before it is read further.
MAX_PARAMS = 32
MAX_NAME_CHARS = 64
MAX_VALUE_CHARS = 1024


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
    _check_sizes(spec, operation, params)
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
