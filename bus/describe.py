"""Descriptions for people: one line per canonical record, the catalogue as a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format

from regbus.adapters.mapping import content
from regbus.v1 import bus_pb2, records_pb2


def day(d: records_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else "-"


def word(enum: Any, value: int) -> str:
    """An enum value's name without its prefix: ``LICENCE_STATUS_REVOKED`` -> ``revoked``."""
    return str(enum.Name(value)).split("_STATUS_")[-1].split("_TYPE_")[-1].lower()


def _person(p: records_pb2.Person) -> str:
    extra = " (deceased)" if p.deceased else ""
    return f"{p.first_name} {p.patronymic} {p.last_name}, born {day(p.birth_date)}{extra}"


def _acts(r: records_pb2.CivilActList) -> str:
    kinds = ", ".join(
        word(records_pb2.CivilActType, a.type) + (f" ({a.role})" if a.role else "") for a in r.acts
    )
    return f"{len(r.acts)} civil act(s): {kinds}"


def _policies(r: records_pb2.InsurancePolicyList) -> str:
    each = ", ".join(
        f"{p.plate} {word(records_pb2.PolicyStatus, p.status)} to {day(p.valid_to)}"
        for p in r.policies
    )
    return f"{len(r.policies)} insurance polic(ies): {each}" if r.policies else "no policy"


def _licence(r: records_pb2.DriverLicence) -> str:
    status = word(records_pb2.LicenceStatus, r.status)
    since = f" since {day(r.revoked_on)}" if r.revoked_on.year else ""
    return f"licence {r.number} {','.join(r.categories)}: {status}{since}"


def _fines(r: records_pb2.FineList) -> str:
    if not r.fines:
        return "no fines"
    unpaid = [f for f in r.fines if f.status == records_pb2.FINE_STATUS_UNPAID]
    owed = sum(f.amount for f in unpaid)
    return f"{len(r.fines)} fine(s), {len(unpaid)} unpaid ({owed:,} KZT)"


def _inspection(r: records_pb2.Inspection) -> str:
    status = word(records_pb2.InspectionStatus, r.status)
    return f"inspection {r.plate}: {status}, valid to {day(r.valid_to)}"


def _register(r: records_pb2.RegisterCheck) -> str:
    if not r.registered:
        return f"not on the {r.register} register"
    if not r.HasField("registered_on"):  # a purpose that may not see since when
        return f"ON the {r.register} register"
    return f"ON the {r.register} register since {day(r.registered_on)}"


def _entity(r: records_pb2.LegalEntity) -> str:
    status = word(records_pb2.EntityStatus, r.status)
    return f"{r.legal_form} {r.name!r}, {r.city}, {status}, {len(r.heads)} head(s)"


def _address(a: records_pb2.Address) -> str:
    flat = f", flat {a.flat}" if a.flat else ""
    return f"{a.city}, {a.street} {a.house}{flat}"


def _registration(r: records_pb2.ResidenceRegistration) -> str:
    kind = word(records_pb2.RegistrationKind, r.kind).split("_")[-1]
    return f"{kind} registration at {_address(r.address)} since {day(r.registered_on)}"


def _properties(r: records_pb2.PropertyList) -> str:
    each = ", ".join(
        f"{p.kind} {p.area:g} m2" + (" (encumbered)" if p.encumbered else "") for p in r.properties
    )
    return f"{len(r.properties)} propert(ies): {each}" if r.properties else "no property"


def _criminal(r: records_pb2.CriminalRecord) -> str:
    return f"{len(r.convictions)} conviction(s)" if r.has_record else "no criminal record"


def _tax(r: records_pb2.TaxDebt) -> str:
    return f"tax debt {r.total:,} KZT ({len(r.items)} item(s))" if r.total else "no tax debt"


def _pension(r: records_pb2.PensionAccount) -> str:
    return f"pension balance {r.balance:,} KZT, {len(r.contributions)} contribution(s)"


def _benefits(r: records_pb2.BenefitList) -> str:
    kinds = ", ".join(
        f"{b.kind.lower()} {word(records_pb2.BenefitStatus, b.status)}" for b in r.benefits
    )
    return f"{len(r.benefits)} benefit(s): {kinds}" if r.benefits else "no benefits"


def _queue(r: records_pb2.QueueEntry) -> str:
    status = word(records_pb2.QueueStatus, r.status)
    where = f" at position {r.position}" if r.position else ""
    return f"kindergarten queue in {r.city}: {status}{where}"


DESCRIBE: dict[str, Callable[[Any], str]] = {
    "person": _person,
    "civil_acts": _acts,
    "civil_act": lambda a: (
        f"act {a.act_number} ({word(records_pb2.CivilActType, a.type)})"
        f" registered {day(a.registered_on)}"
    ),
    "vehicle": lambda v: f"{v.plate} {v.make} {v.model} {v.year}, owner {v.owner_iin}",
    "vehicles": lambda r: (
        f"{len(r.vehicles)} vehicle(s): " + ", ".join(v.plate for v in r.vehicles)
    ),
    "policies": _policies,
    "licence": _licence,
    "fines": _fines,
    "inspection": _inspection,
    "iin_assignment": lambda r: f"IIN {r.iin} for act {r.birth_act_number}",
    "entity": _entity,
    "entity_heads": lambda r: (
        ", ".join(f"{h.position} {h.full_name}" for h in r.heads) or "no heads"
    ),
    "address": _address,
    "registration": _registration,
    "properties": _properties,
    "encumbrances": lambda r: (
        f"{len(r.encumbrances)} encumbrance(s): "
        + ", ".join(e.kind.lower() for e in r.encumbrances)
    ),
    "parcels": lambda r: f"{len(r.parcels)} parcel(s)",
    "register_check": _register,
    "health": lambda r: (
        f"attached to {r.clinic}, {len(r.vaccinations)} vaccination(s)"
        + (f", disability group {r.disability_group}" if r.disability_group else "")
    ),
    "criminal_record": _criminal,
    "migration": lambda r: (
        f"{r.citizenship} citizen, registered to {day(r.valid_to)} ({r.status.lower()})"
    ),
    "tax_debt": _tax,
    "pension": _pension,
    "benefits": _benefits,
    "benefit": lambda b: (
        f"{b.kind.lower()} benefit {b.amount:,} KZT ({word(records_pb2.BenefitStatus, b.status)})"
    ),
    "queue_entry": _queue,
    "phone": lambda r: f"phone {r.phone_masked} ({r.operator})" if r.has_phone else "no phone",
    "code_sent": lambda r: f"code {r.code_id} sent to {r.phone_masked}",
    "code_check": lambda r: (
        "code verified" if r.verified else f"code wrong, {r.attempts_left} attempt(s) left"
    ),
    "certificate": lambda r: (
        f"{r.kind.lower()} certificate of {r.iin}:"
        f" {word(records_pb2.CertificateStatus, r.status)} to {day(r.valid_to)}"
    ),
}


def describe(record: records_pb2.Record) -> str:
    """One line a person reads: the record's facts that matter."""
    kind = record.WhichOneof("kind")
    if kind is None:
        return "empty record"
    if kind == "generic":
        return f"{record.type or 'record'} with {len(record.generic.fields)} field(s)"
    if kind == "extension":
        message = content(record)
        if message is None:
            return f"{record.type} (its proto is not loaded here)"
        return f"{record.type} with {len(message.ListFields())} field(s) set"
    summary = DESCRIBE.get(kind)
    return summary(getattr(record, kind)) if summary else kind


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _params(params: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(params.items()))


def compose_table(response: bus_pb2.ComposeResponse) -> str:
    """A Compose answer as a table: one row per part, what it said or why it failed."""
    rows: list[tuple[str, ...]] = [("STEP", "REGISTRY", "OPERATION", "PARAMS", "STATUS", "ANSWER")]
    for part in response.parts:
        if part.WhichOneof("result") == "response":
            status, answer = "ok", describe(part.response.record)
        else:
            error = part.error
            status = error.reason or "failed"
            answer = error.message + (" (a retry may help)" if error.retryable else "")
        rows.append(
            (part.step or "-", part.registry, part.operation, _params(part.params), status, answer)
        )
    return _table(rows)


def compose_records(response: bus_pb2.ComposeResponse) -> str:
    """Every answered part's record, field by field."""
    blocks = []
    for part in response.parts:
        if part.WhichOneof("result") != "response":
            continue
        message = content(part.response.record)
        title = f"{part.step or part.registry} ({part.registry}.{part.operation}"
        title += f" {_params(part.params)})" if part.params else ")"
        fields = (
            json_format.MessageToDict(message, preserving_proto_field_name=True) if message else {}
        )
        blocks.append("\n".join([title + ":", *_lines(fields, "  ")]))
    return "\n\n".join(blocks)


def _lines(value: Any, indent: str) -> list[str]:
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict) and set(item) <= {"year", "month", "day"}:
            item = f"{item.get('year', 0):04d}-{item.get('month', 0):02d}-{item.get('day', 0):02d}"
        if isinstance(item, dict):
            lines += [f"{indent}{key}:", *_lines(item, indent + "  ")]
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            lines.append(f"{indent}{key}:")
            for entry in item:
                first, *rest = _lines(entry, indent + "    ")
                lines += [f"{indent}  - {first.strip()}", *rest]
        elif isinstance(item, list):
            lines.append(f"{indent}{key}: {', '.join(str(x) for x in item)}")
        else:
            lines.append(f"{indent}{key}: {item}")
    return lines


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
        "SENSITIVITY",
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
                ",".join(info.sensitivity) or "-",
                ", ".join(op.name + ("*" if op.writes else "") for op in info.operations),
            )
        )
    return _table(rows)


def profile_table(profiles: Sequence[bus_pb2.ProfileInfo]) -> str:
    """The Compose profiles: their keys and steps (``registry.operation``)."""
    rows: list[tuple[str, ...]] = [("PROFILE", "KEYS", "STEPS")]
    for profile in profiles:
        steps = ", ".join(f"{s.registry}.{s.operation}" for s in profile.steps)
        rows.append((profile.name, " or ".join(profile.keys), steps))
    return _table(rows)
