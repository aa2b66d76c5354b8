"""Descriptions for people: one line per canonical record, the catalogue as a table."""

from __future__ import annotations

from collections.abc import Sequence

from regbus.adapters.mapping import content
from regbus.v1 import bus_pb2, records_pb2


def describe(record: records_pb2.Record) -> str:
    kind = record.WhichOneof("kind")
    if kind == "person":
        p = record.person
        born = f"{p.birth_date.year:04d}-{p.birth_date.month:02d}-{p.birth_date.day:02d}"
        extra = " (deceased)" if p.deceased else ""
        return f"{p.first_name} {p.patronymic} {p.last_name}, born {born}{extra}"
    if kind == "civil_acts":
        acts = record.civil_acts.acts
        kinds = ", ".join(
            records_pb2.CivilActType.Name(a.type).removeprefix("CIVIL_ACT_TYPE_").lower()
            + (f" ({a.role})" if a.role else "")
            for a in acts
        )
        return f"{len(acts)} civil act(s): {kinds}"
    if kind == "vehicle":
        v = record.vehicle
        return f"{v.plate} {v.make} {v.model} {v.year}, owner {v.owner_iin}"
    if kind == "vehicles":
        plates = ", ".join(v.plate for v in record.vehicles.vehicles)
        return f"{len(record.vehicles.vehicles)} vehicle(s): {plates}"
    if kind == "policies":
        policies = ", ".join(
            f"{p.plate} {records_pb2.PolicyStatus.Name(p.status).removeprefix('POLICY_STATUS_')}"
            for p in record.policies.policies
        )
        return f"{len(record.policies.policies)} insurance polic(ies): {policies}"
    if kind == "generic":
        return f"{record.type or 'record'} with {len(record.generic.fields)} field(s)"
    if kind == "extension":
        message = content(record)
        if message is None:
            return f"{record.type} (its proto is not loaded here)"
        return f"{record.type} with {len(message.ListFields())} field(s) set"
    return "empty record"


def registry_table(infos: Sequence[bus_pb2.RegistryInfo]) -> str:
    """The catalogue as a text table."""
    header = (
        "REGISTRY",
        "PROTOCOL",
        "BREAKER",
        "CALLS",
        "ERRORS",
        "P50 MS",
        "P99 MS",
        "OPERATIONS",
    )
    rows = [header]
    for info in infos:
        state = bus_pb2.BreakerState.Name(info.breaker).removeprefix("BREAKER_STATE_").lower()
        rows.append(
            (
                info.id,
                info.protocol,
                state,
                str(info.recent_calls),
                f"{info.error_rate * 100:.0f}%",
                f"{info.latency_p50_seconds * 1000:.0f}",
                f"{info.latency_p99_seconds * 1000:.0f}",
                ", ".join(op.name for op in info.operations),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
