"""The synthetic population every mock registry shares.

It is the demo subjects of the registry catalogue, with exactly their facts
(``mocks/data/demo_subjects.json``), and beside them a seeded generated population
(``regbus.mocks.people``) that never names them::

    Population.load()                      # the default: 10,000 generated people (seed 2026)
    Population.generate(size=50, seed=7)   # 50 generated people
    Population.generate(size=0)            # only the demo subjects

``size`` counts the generated people; the demo subjects come on top. The same size and
seed give the same population. ``940512410508`` is never issued, nor a plate with the
letters ZZZ (``999ZZZ01``). Statuses (valid, expired) are as of ``people.AS_OF``.

Collections are plain dicts and lists of rows (dicts); dates are ``YYYY-MM-DD``, amounts
whole tenge. Keyed ones are dicts by the key given; the others are lists, and
``group(rows, key)`` indexes them (fines by ``iin`` or ``plate``, say).

Each collection, the registry that reads it, its key, and the fields of a row (``?``: only
where it applies):

- persons (gbdfl), by IIN: iin, last_name, first_name, patronymic, sex (M/F), birth_date,
  birth_place, citizenship, document_number ("" for children), death_date?
- civil_acts (zags), a list: act_number, type (birth, marriage, divorce, name_change,
  death), registered_on, office, and who: subject_iin (a birth adds father_iin and
  mother_iin where known; a name change previous_last_name and new_last_name) or
  spouse_iins
- vehicles (vehicles), a list; plate and vin are unique: plate, vin, make, model, year,
  colour, owner_iin, registered_on, status (registered, wanted)
- policies (insurance), a list, by plate: plate, policy_number, insurer, valid_from,
  valid_to, status (VALID, EXPIRED, TERMINATED)
- addresses (address), by code (16 digits): code, region_code (as on plates), region, city,
  street, house, flat, kind (apartment, house, office)
- registrations (address), by IIN: iin, address_code, kind (PERMANENT, TEMPORARY),
  registered_on, valid_to?
- migration (migration), by IIN, foreigners: iin, citizenship, document_number, purpose,
  address_code, registered_on, valid_to, status
- licences (licences), by IIN: iin, number, categories, issued_on, valid_to, status (VALID,
  EXPIRED, REVOKED), revoked_on?, revocation_reason?
- fines (fines), a list, by iin or plate: fine_number, iin, plate ("" for none), article,
  description, amount, issued_on, status (UNPAID, PAID), paid_on?
- inspections (inspection), a list, by plate or vin: certificate_number, plate, vin,
  inspected_on, valid_to, result, station, status (VALID, EXPIRED)
- properties (realestate), by cadastral number: cadastral_number, kind (apartment, house,
  commercial), address_code, area, rooms, owner (IIN or BIN), acquired_on, parcel?
- parcels (land), by cadastral number: cadastral_number, purpose, area_ha, region, owner
  (IIN or BIN), acquired_on
- encumbrances (realestate), a list, by cadastral_number: encumbrance_number,
  cadastral_number, kind (MORTGAGE, ARREST), holder, holder_bin ("" for a state body),
  registered_on, until?
- entities (gbdul), by BIN: bin, name, legal_form (TOO, AO, KH), registered_on, city,
  address_code, activity, status (ACTIVE, LIQUIDATED), heads [{iin, position, since}],
  liquidated_on?
- tax_debts (tax), by IIN or BIN, debtors only: taxpayer, total, items [{tax, amount,
  due_date}]
- pension (pension), by IIN: iin, balance, contributions [{period (YYYY-MM), amount, agent
  (the employer's BIN, or the person's own IIN)}]
- benefits (benefits), a list, by iin: benefit_number, iin, kind (BIRTH, CHILD_CARE,
  LARGE_FAMILY, DISABILITY, BASIC_PENSION), amount, assigned_on, status (PAID, ACTIVE,
  ENDED), child_iin?, until?
- kindergarten (kindergarten), by the child's IIN: child_iin, city, queued_on, status
  (WAITING, ENROLLED), position (in the city's queue; 0 once enrolled), kindergarten?
- phones (mobile), by IIN: iin, phone (+77XXXXXXXXX), operator, registered_on, status
- certificates (pki), by serial: serial (40 hex digits), iin, kind (SIGN, AUTH),
  valid_from, valid_to, status (VALID, EXPIRED, REVOKED)
- health (health), by IIN: iin, clinic, attached_on, disability_group ("" or I, II, III),
  vaccinations [{vaccine, date}]
- narcology, psychiatry (the registers of those names), by IIN, present = registered: iin,
  registered_on, dispensary
- criminal_records (criminal), by IIN: iin, convictions [{article, description,
  convicted_on, court, sentence}]
- occupations (pension agents, students), by IIN: iin, status (EMPLOYED, SELF_EMPLOYED,
  STUDENT, PUPIL, RETIRED, UNEMPLOYED), employer_bin?, position?, institution?

A population is read-only for the mocks that share it: ``load()`` generates the default
once per process and gives every caller the same one. A mock that takes writes keeps them
in its own state, or works on ``population.copy()``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any

from regbus.mocks import people

Row = dict[str, Any]

DEFAULT_SIZE = 10_000
DEFAULT_SEED = 2026
MAX_SIZE = 1_000_000
DEMO_FILE = "data/demo_subjects.json"
UNKNOWN_IIN = people.NEVER_ISSUED_IIN


@dataclass(frozen=True)
class Population:
    persons: dict[str, Row]  # by IIN
    civil_acts: list[Row]
    vehicles: list[Row]
    policies: list[Row] = field(default_factory=list)  # motor insurance, per plate
    addresses: dict[str, Row] = field(default_factory=dict)
    registrations: dict[str, Row] = field(default_factory=dict)
    migration: dict[str, Row] = field(default_factory=dict)
    licences: dict[str, Row] = field(default_factory=dict)
    fines: list[Row] = field(default_factory=list)
    inspections: list[Row] = field(default_factory=list)
    properties: dict[str, Row] = field(default_factory=dict)
    parcels: dict[str, Row] = field(default_factory=dict)
    encumbrances: list[Row] = field(default_factory=list)
    entities: dict[str, Row] = field(default_factory=dict)
    tax_debts: dict[str, Row] = field(default_factory=dict)
    pension: dict[str, Row] = field(default_factory=dict)
    benefits: list[Row] = field(default_factory=list)
    kindergarten: dict[str, Row] = field(default_factory=dict)
    phones: dict[str, Row] = field(default_factory=dict)
    certificates: dict[str, Row] = field(default_factory=dict)
    health: dict[str, Row] = field(default_factory=dict)
    narcology: dict[str, Row] = field(default_factory=dict)
    psychiatry: dict[str, Row] = field(default_factory=dict)
    criminal_records: dict[str, Row] = field(default_factory=dict)
    occupations: dict[str, Row] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Population:
        """The default population: ``DEFAULT_SIZE`` people generated from ``DEFAULT_SEED``
        and the demo subjects. Generated once per process and shared: do not change it."""
        return _default()

    @classmethod
    def generate(cls, size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> Population:
        """``size`` generated people (0 to ``MAX_SIZE``) beside the demo subjects."""
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
            raise ValueError(
                f"population size must be a whole number from 0 to {MAX_SIZE:,}, got {size!r}"
            )
        demo = _demo_rows()
        generated = people.generate(size, seed, reserved=_strings(demo))
        rows = {f.name: demo.get(f.name, []) + generated.get(f.name, []) for f in fields(cls)}
        people.queue_positions(rows["kindergarten"])
        births = {p["iin"]: p["birth_date"] for p in rows["persons"]}
        for row in rows["health"]:
            row["vaccinations"] = people.vaccinations(births[row["iin"]])
        collections: dict[str, Any] = {name: _keyed(name, found) for name, found in rows.items()}
        return cls(**collections)

    @classmethod
    def demo(cls) -> Population:
        """Only the demo subjects."""
        return cls.generate(size=0)

    def copy(self) -> Population:
        """A copy whose collections, rows and the lists in them can change on their own."""
        copied: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                copied[f.name] = {key: _copy_row(row) for key, row in value.items()}
            else:
                copied[f.name] = [_copy_row(row) for row in value]
        return type(self)(**copied)


# The key of every collection kept as a dict; the others are lists.
KEYS = {
    "persons": "iin",
    "addresses": "code",
    "registrations": "iin",
    "migration": "iin",
    "licences": "iin",
    "properties": "cadastral_number",
    "parcels": "cadastral_number",
    "entities": "bin",
    "tax_debts": "taxpayer",
    "pension": "iin",
    "kindergarten": "child_iin",
    "phones": "iin",
    "certificates": "serial",
    "health": "iin",
    "narcology": "iin",
    "psychiatry": "iin",
    "criminal_records": "iin",
    "occupations": "iin",
}


def group(rows: Iterable[Row], key: str) -> dict[str, list[Row]]:
    """Rows by the value of ``key``, in their order: ``group(population.fines, "plate")``."""
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row[key], []).append(row)
    return found


@functools.cache
def _default() -> Population:
    return Population.generate(DEFAULT_SIZE, DEFAULT_SEED)


def _demo_rows() -> dict[str, list[Row]]:
    text = resources.files("regbus.mocks").joinpath(DEMO_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return {name: rows for name, rows in data.items() if isinstance(rows, list)}


def _keyed(name: str, rows: list[Row]) -> dict[str, Row] | list[Row]:
    key = KEYS.get(name)
    if key is None:
        return rows
    keyed = {row[key]: row for row in rows}
    if len(keyed) != len(rows):
        raise ValueError(f"population: two {name} rows share a {key}")
    return keyed


def _strings(value: Any) -> Iterator[str]:
    """Every string in the demo subjects' facts: identifiers the generator must not issue."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _copy_row(row: Row) -> Row:
    return {
        key: [dict(x) if isinstance(x, dict) else x for x in value]
        if isinstance(value, list)
        else value
        for key, value in row.items()
    }
