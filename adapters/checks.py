"""Check a declaration against itself, the contract and its service description.

Run when a declared adapter loads; each problem names the registry, the
operation and what the document lacks, e.g.
``zags.list_acts: the WSDL has no operation ListActz (it has: ListActs)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from regbus.adapters.mapping import record_message
from regbus.adapters.spec import Into, Nested, Operation, Registry, Source


class DeclarationError(ValueError):
    """A declaration that cannot work; the message lists every problem."""


def raise_problems(registry: Registry, problems: list[str]) -> None:
    if problems:
        lines = "\n  ".join(problems)
        raise DeclarationError(f"registry {registry.registry} is declared wrongly:\n  {lines}")


def spec_problems(registry: Registry) -> Iterator[str]:
    """What is wrong with the declaration whatever the document says."""
    for op in registry.operations:
        where = f"{registry.registry}.{op.name}"
        if not op.call:
            yield f"{where}: no call (the operation on the wire)"
        if op.record is None and op.handler is None:
            yield f"{where}: neither a record mapping nor a handler"
        if op.record is not None:
            yield from (f"{where}: {p}" for p in _record_problems(op.record))
        if op.sample is not None:
            for subject in (op.sample.known, op.sample.unknown or {}):
                extra = set(subject) - {p.name for p in op.params}
                if extra:
                    yield f"{where}: sample gives {', '.join(sorted(extra))}, not parameters"


def _record_problems(into: Into) -> Iterator[str]:
    try:
        message = record_message(into)
    except ValueError as exc:
        yield str(exc)
        return
    if message is None:
        if not into.type:
            yield "a generic record needs its type name (Into(..., type='org.Name'))"
        return
    yield from _field_problems(message, into.fields)


def _field_problems(message: Any, fields: Mapping[str, Source]) -> Iterator[str]:
    for name, source in fields.items():
        field = message.fields_by_name.get(name)
        if field is None:
            known = ", ".join(message.fields_by_name)
            yield f"record {message.full_name} has no field {name!r} (it has: {known})"
        elif isinstance(source, Nested):
            if field.message_type is None:
                yield f"{message.full_name}.{name} is not a message; Nested cannot fill it"
            elif bool(source.each) != field.is_repeated:
                yield f"{message.full_name}.{name}: Nested needs each= exactly when it repeats"
            else:
                yield from _field_problems(field.message_type, source.fields)


def paths(into: Into | Nested, base: str = "") -> Iterator[str]:
    """Every answer path ``into`` reads, relative to the answer (``each``/``at`` prefixed)."""
    base = "/".join(p for p in (base, into.each or into.at) if p)
    for source in into.fields.values():
        if isinstance(source, Nested):
            yield from paths(source, base)
        elif isinstance(source, str):
            path = source.rstrip("?")
            yield f"{base}/{path}" if base else path


# --- XML schemas as zeep reads them -------------------------------------------------


def xsd_path_problem(element: Any, path: str) -> str | None:
    """Why ``path`` (``a/b``, ``a/@attr``) leads nowhere below zeep ``element``, or None."""
    node = element
    for step in path.split("/"):
        local = step.rsplit("}", 1)[-1]
        if local in ("", "."):
            continue
        if local == "..":
            return None  # upwards paths are not checked
        if local.startswith("@"):
            names = {n for n, _ in getattr(node.type, "attributes", [])}
            return None if local[1:] in names else f"{path}: {node.name} has no attribute {local}"
        children = dict(getattr(node.type, "elements", None) or [])
        if local not in children:
            known = ", ".join(children) or "no child elements"
            return f"{path}: {node.name} has no element {local} (it has: {known})"
        node = children[local]
    return None


def xsd_problems(op: Operation, where: str, request: Any, reply: Any) -> Iterator[str]:
    """Parameters and record paths of ``op`` against zeep's request and reply elements."""
    for param in op.params:
        problem = xsd_path_problem(request, param.name)
        if problem:
            yield f"{where}: parameter {param.name} is not in the request ({problem})"
    if op.record is not None:
        for path in paths(op.record):
            problem = xsd_path_problem(reply, path)
            if problem:
                yield f"{where}: the answer has no {problem}"


# --- OpenAPI 3 documents -------------------------------------------------------------


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = doc
        for key in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[key]
        node = target
    return node


def json_path_problem(doc: Mapping[str, Any], schema: Any, path: str) -> str | None:
    """Why dotted ``path`` leads nowhere in JSON ``schema`` (lists step into items)."""
    node = _resolve(doc, schema)
    for key in [k for k in path.replace("/", ".").split(".") if k not in ("", ".")]:
        while isinstance(node, Mapping) and node.get("type") == "array":
            node = _resolve(doc, node.get("items", {}))
        props = node.get("properties", {}) if isinstance(node, Mapping) else {}
        if key not in props:
            return f"{path}: no property {key} (there are: {', '.join(props) or 'none'})"
        node = _resolve(doc, props[key])
    return None


def openapi_problems(doc: Mapping[str, Any], op: Operation, where: str) -> Iterator[str]:
    """``op.call`` (``GET /path/{x}``), its parameters and record paths against ``doc``."""
    method, _, template = op.call.partition(" ")
    operation = _resolve(doc, doc.get("paths", {}).get(template, {})).get(method.lower())
    if operation is None:
        known = ", ".join(
            f"{m.upper()} {p}" for p, item in doc.get("paths", {}).items() for m in item
        )
        yield f"{where}: the OpenAPI document has no {op.call} (it has: {known})"
        return
    listed = [_resolve(doc, p) for p in [*doc["paths"][template].get("parameters", []),
                                         *operation.get("parameters", [])]]  # fmt: skip
    declared = {p.get("name") for p in listed if p.get("in") != "header"}
    body = _json_content(doc, operation.get("requestBody", {}))
    declared |= set(_resolve(doc, body or {}).get("properties", {}))
    key = op.idempotency_key
    if key is not None and method == "POST":
        declared.add(key)
        if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in listed):
            yield f"{where}: {op.call} documents no Idempotency-Key header for {key}"
    for param in op.params:
        if param.name not in declared:
            yield f"{where}: parameter {param.name} is not a parameter of {op.call}"
    answers = operation.get("responses", {})
    schema = _json_content(doc, answers.get("200") or answers.get("201") or {})
    if op.record is not None:
        if schema is None:
            yield f"{where}: {op.call} documents no JSON answer for HTTP 200 or 201"
            return
        for path in paths(op.record):
            problem = json_path_problem(doc, schema, path)
            if problem:
                yield f"{where}: the answer has no {problem}"


def _json_content(doc: Mapping[str, Any], node: Any) -> Any:
    """The ``application/json`` schema of a response or request body, or None."""
    return _resolve(doc, node).get("content", {}).get("application/json", {}).get("schema")
