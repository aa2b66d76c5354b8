"""The registry reference (``docs/registries.md``), written from the declarations:
``regbus registries --markdown`` prints it for whatever adapters are installed."""

from __future__ import annotations

from collections.abc import Mapping

from regbus.adapters.mapping import record_message
from regbus.adapters.spec import Operation, Registry, Rest, Shep, Soap, XRoad

WIRES = {
    "shep-soap": "ШЭП SyncChannel SOAP",
    "xroad-soap": "X-Road 4.0 SOAP",
    "soap": "SOAP 1.1 (own WSDL)",
    "rest": "REST/JSON (OpenAPI)",
}


def markdown(specs: Mapping[str, Registry]) -> str:
    """Every registry: wire style, sensitivity, operations with parameters, a sample call."""
    lines = [
        "# Registries",
        "",
        "Every registry the bus serves, from its declaration (`regbus registries --markdown`",
        "writes this page). Each answers through one contract: `Query(registry, operation,",
        "params)`. Restricted registries answer yes/no facts, never a diagnosis. Writes (`*`)",
        "take an idempotency key: a repeat with the same key answers the first result and",
        "changes nothing.",
        "",
        "| registry | name | wire | sensitivity | operations |",
        "|---|---|---|---|---|",
    ]
    for rid, spec in sorted(specs.items()):
        ops = ", ".join(f"`{op.name}`" + ("*" if op.writes else "") for op in spec.operations)
        lines.append(
            f"| [`{rid}`](#{rid}) | {spec.name} | {WIRES.get(spec.protocol, spec.protocol)}"
            f" | {', '.join(spec.sensitivity)} | {ops} |"
        )
    for rid, spec in sorted(specs.items()):
        lines += ["", f"## {rid}", "", f"{spec.name}. {_wire(spec)}", ""]
        lines.append(f"Sensitivity: {', '.join(spec.sensitivity)}.")
        lines += ["", "| operation | parameters | record |", "|---|---|---|"]
        for op in spec.operations:
            lines.append(
                f"| `{op.name}`{' (write)' if op.writes else ''} | {_params(op)} | {_record(op)} |"
            )
        samples = [op for op in spec.operations if op.sample is not None]
        if samples:
            lines += ["", "```sh"]
            for op in samples:
                assert op.sample is not None
                given = " ".join(f"{k}={v}" for k, v in op.sample.known.items())
                lines.append(f"regbus call {rid} {op.name} {given}")
            lines.append("```")
    return "\n".join(lines) + "\n"


def _wire(spec: Registry) -> str:
    wire = spec.wire
    style = WIRES.get(spec.protocol, spec.protocol)
    if isinstance(wire, Shep):
        return f"{style}, service `{wire.service_id}`."
    if isinstance(wire, Soap | XRoad):
        return f"{style}, WSDL `{_name(wire.wsdl)}`."
    if isinstance(wire, Rest):
        return f"{style}, `{_name(wire.openapi)}`."
    return f"{style}."


def _name(description: object) -> str:
    return str(getattr(description, "name", description))


def _params(op: Operation) -> str:
    shown = []
    for param in op.params:
        text = f"`{param.name}` ({param.kind.name})"
        if param.name == op.idempotency_key:
            text += ", idempotency key"
        elif not param.required and param.name not in op.one_of:
            text += ", optional"
        shown.append(text)
    text = "; ".join(shown)
    if op.one_of:
        text += f"; exactly one of {' or '.join(f'`{n}`' for n in op.one_of)}"
    return text


def _record(op: Operation) -> str:
    if op.record is None:
        return "(handler)"
    if op.record.kind == "generic":
        return f"`{op.record.type}` (generic)"
    message = record_message(op.record)
    name = message.full_name if message is not None else op.record.kind
    return f"`{op.record.kind}`: `{name}`" + (" list" if op.record.each else "")
