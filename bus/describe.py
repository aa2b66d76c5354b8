"""One-line descriptions of canonical records, for the demo and logs."""

from __future__ import annotations

from regbus.v1 import records_pb2


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
    if kind == "generic":
        return f"record with {len(record.generic.fields)} field(s)"
    return "empty record"
