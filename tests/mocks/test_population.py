"""The one population every mock registry shares: seeded and reproducible, consistent across
registries, with the demo subjects of the registry catalogue exactly as it gives them, and
chosen on the command line with ``regbus mocks --population N --seed S``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from regbus.adapters.identifiers import bin_problem, iin_problem, plate_problem, vin_problem
from regbus.bus.config import load_config
from regbus.mocks.people import AS_OF
from regbus.mocks.population import (
    DEFAULT_SEED,
    DEFAULT_SIZE,
    KEYS,
    MAX_SIZE,
    UNKNOWN_IIN,
    Population,
    group,
)
from tests.test_cli import regbus

ARMAN = "850314354052"
AIGERIM = "920721425717"
ALIKHAN = "261005565684"
DAUREN = "771130308916"
GULNARA = "690214412868"
BOLAT = "550601388798"
NATALYA = "881225416427"
ZHANSAYA = "010101660915"
DEMO = {ARMAN, AIGERIM, ALIKHAN, DAUREN, GULNARA, BOLAT, NATALYA, ZHANSAYA}
DALA = "150540001233"
TODAY = AS_OF.isoformat()
CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


@pytest.fixture(scope="module")
def population() -> Population:
    """The default population, as every mock serves it."""
    return Population.load()


@pytest.fixture(scope="module", params=["demo only", "default"])
def any_population(request: pytest.FixtureRequest) -> Population:
    return Population.generate(size=0) if request.param == "demo only" else Population.load()


def rows(population: Population, name: str) -> list[dict[str, Any]]:
    collection = getattr(population, name)
    return list(collection.values()) if isinstance(collection, dict) else list(collection)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def alive(population: Population, iin: str) -> bool:
    person = population.persons.get(iin)
    return person is not None and "death_date" not in person


def adult_on(person: dict[str, Any], day: str) -> bool:
    born = date.fromisoformat(person["birth_date"])
    return date.fromisoformat(day) >= born.replace(year=born.year + 18, day=min(born.day, 28))


# Seed and size -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_population() -> None:
    assert Population.generate(400, seed=7) == Population.generate(400, seed=7)


def test_another_seed_gives_another_population() -> None:
    first, second = Population.generate(400, seed=7), Population.generate(400, seed=8)
    assert set(first.persons) & set(second.persons) == DEMO
    assert {v["plate"] for v in first.vehicles} != {v["plate"] for v in second.vehicles}


@pytest.mark.parametrize("size", [0, 1, 2, 37, 500])
def test_the_size_counts_the_generated_people_beside_the_demo_subjects(size: int) -> None:
    population = Population.generate(size, seed=3)
    assert len(population.persons) == size + len(DEMO)
    assert set(population.persons) >= DEMO


def test_the_default_population_is_loaded_once_and_shared(population: Population) -> None:
    assert len(population.persons) == DEFAULT_SIZE + len(DEMO)
    assert Population.load() is population
    assert Population.generate(DEFAULT_SIZE, DEFAULT_SEED) == population


def test_only_the_demo_subjects_with_size_0() -> None:
    demo = Population.demo()
    assert set(demo.persons) == DEMO
    assert set(demo.entities) == {DALA}


@pytest.mark.parametrize("size", [-1, MAX_SIZE + 1, 1.5, True, "10"])
def test_a_bad_size_is_refused(size: Any) -> None:
    with pytest.raises(ValueError, match=f"from 0 to {MAX_SIZE:,}"):
        Population.generate(size)


def test_a_copy_changes_on_its_own() -> None:
    original = Population.generate(30, seed=1)
    copy = original.copy()
    assert copy == original
    copy.persons[ARMAN]["last_name"] = "Changed"
    copy.civil_acts.append({"act_number": "BR-2026-9999999"})
    copy.licences[ARMAN]["categories"].append("D")
    copy.kindergarten.clear()
    assert original.persons[ARMAN]["last_name"] == "Akhmetov"
    assert len(original.civil_acts) == len(copy.civil_acts) - 1
    assert original.licences[ARMAN]["categories"] == ["B", "C"]
    assert original.kindergarten


# Identifiers -------------------------------------------------------------------------------


def test_every_iin_is_valid_and_agrees_with_sex_and_birth_date(population: Population) -> None:
    for iin, person in population.persons.items():
        assert person["iin"] == iin
        assert iin_problem(iin) is None, iin
        born = date.fromisoformat(person["birth_date"])
        assert iin[:6] == born.strftime("%y%m%d"), iin
        assert CENTURY[iin[6]] == born.year // 100 * 100, iin
        assert person["sex"] == ("M" if int(iin[6]) % 2 else "F"), iin
        assert born <= AS_OF
        assert person.get("death_date", TODAY) > person["birth_date"]


def test_identifiers_are_unique_and_well_formed(population: Population) -> None:
    def unique(values: list[str]) -> list[str]:
        assert len(values) == len(set(values))
        return values

    for plate in unique([v["plate"] for v in population.vehicles]):
        assert plate_problem(plate) is None
    for vin in unique([v["vin"] for v in population.vehicles]):
        assert vin_problem(vin) is None
    for entity in population.entities:
        assert bin_problem(entity) is None
    unique([a["act_number"] for a in population.civil_acts])
    unique([p["policy_number"] for p in population.policies])
    unique([f["fine_number"] for f in population.fines])
    unique([b["benefit_number"] for b in population.benefits])
    unique([e["encumbrance_number"] for e in population.encumbrances])
    unique([i["certificate_number"] for i in population.inspections])
    unique([x["number"] for x in population.licences.values()])
    unique([x["phone"] for x in population.phones.values()])
    unique([p["document_number"] for p in population.persons.values() if p["document_number"]])
    for name, key in KEYS.items():  # keyed collections lost no row to a repeated key
        assert all(row[key] == k for k, row in getattr(population, name).items()), name


def test_the_never_issued_subjects_are_unknown(population: Population) -> None:
    assert iin_problem(UNKNOWN_IIN) is None  # a valid IIN...
    everything = set(strings([rows(population, f.name) for f in fields(population)]))
    assert UNKNOWN_IIN not in everything  # ...that no registry knows
    assert not any("ZZZ" in v["plate"] for v in population.vehicles)


# Agreement across registries -----------------------------------------------------------------


def test_civil_acts_name_people_who_exist(population: Population) -> None:
    persons = population.persons
    for act in population.civil_acts:
        named = [act.get("subject_iin"), act.get("father_iin"), act.get("mother_iin")]
        named += act.get("spouse_iins", [])
        assert all(iin in persons for iin in named if iin), act
        assert act["registered_on"] <= TODAY
        for iin in filter(None, named):
            if act["type"] != "death":  # nothing is registered for the dead after death
                assert act["registered_on"] <= persons[iin].get("death_date", TODAY), act


def test_children_have_both_parents_older_and_named_after_the_father(
    population: Population,
) -> None:
    persons = population.persons
    families = 0
    for act in population.civil_acts:
        if act["type"] != "birth" or act["subject_iin"] in DEMO:
            continue
        child = persons[act["subject_iin"]]
        assert act["registered_on"] >= child["birth_date"]
        if "father_iin" not in act:
            continue
        families += 1
        father, mother = persons[act["father_iin"]], persons[act["mother_iin"]]
        assert (father["sex"], mother["sex"]) == ("M", "F")
        for parent in (father, mother):
            assert adult_on(parent, child["birth_date"]), (parent, child)
            assert parent.get("death_date", TODAY) >= child["birth_date"]
        stem = father["first_name"].rstrip("y")
        assert child["patronymic"].startswith(stem), (child, father)
        assert child["patronymic"].endswith(("uly", "kyzy", "ich", "na"))
        assert child["last_name"].rstrip("a") == father["last_name"].rstrip("a")
    assert families > DEFAULT_SIZE / 10


def test_marriages_are_of_adults_of_both_sexes_and_divorces_follow_them(
    population: Population,
) -> None:
    persons = population.persons
    married: dict[tuple[str, ...], str] = {}
    for act in sorted(population.civil_acts, key=lambda a: a["registered_on"]):
        if act["type"] in ("marriage", "divorce"):
            couple = tuple(act["spouse_iins"])
            assert sorted(persons[iin]["sex"] for iin in couple) == ["F", "M"]
            assert all(adult_on(persons[iin], act["registered_on"]) for iin in couple)
            if act["type"] == "marriage":
                married[couple] = act["registered_on"]
            else:
                assert married[couple] <= act["registered_on"]
    kinds = {a["type"] for a in population.civil_acts}
    assert kinds == {"birth", "marriage", "divorce", "name_change", "death"}


def test_the_dead_have_a_death_act_and_hold_nothing(population: Population) -> None:
    dead = {iin for iin, p in population.persons.items() if "death_date" in p}
    acts = group((a for a in population.civil_acts if a["type"] == "death"), "subject_iin")
    assert set(acts) == dead and dead
    for iin in dead:
        (act,) = acts[iin]
        assert act["registered_on"] >= population.persons[iin]["death_date"]
    for name in ("registrations", "licences", "phones", "health", "occupations", "pension"):
        assert not dead & set(getattr(population, name)), name
    assert not dead & {v["owner_iin"] for v in population.vehicles}
    assert not dead & {c["iin"] for c in population.certificates.values()}
    assert not dead & {b["iin"] for b in population.benefits}


def test_everyone_a_registry_names_exists(population: Population) -> None:
    def known(key: str) -> bool:
        return alive(population, key) or key in population.entities

    assert all(alive(population, v["owner_iin"]) for v in population.vehicles)
    plates = {v["plate"]: v for v in population.vehicles}
    assert all(p["plate"] in plates for p in population.policies)
    for inspection in population.inspections:
        assert plates[inspection["plate"]]["vin"] == inspection["vin"]
    for fine in population.fines:
        assert fine["iin"] in population.persons
        if fine["plate"]:  # a fine with a plate goes to the vehicle's owner
            assert plates[fine["plate"]]["owner_iin"] == fine["iin"]
    for entity in population.entities.values():
        for head in entity["heads"]:
            assert alive(population, head["iin"])
            assert adult_on(population.persons[head["iin"]], head["since"])
    for row in population.properties.values():
        assert known(row["owner"]) and row["address_code"] in population.addresses
        assert "parcel" not in row or row["parcel"] in population.parcels
    assert all(known(p["owner"]) for p in population.parcels.values())
    for encumbrance in population.encumbrances:
        assert encumbrance["cadastral_number"] in population.properties
        holder = encumbrance["holder_bin"]
        assert holder == "" or holder in population.entities
    for debt in population.tax_debts.values():
        assert known(debt["taxpayer"])
        assert debt["total"] == sum(item["amount"] for item in debt["items"]) > 0
    for pension in population.pension.values():
        agents = {c["agent"] for c in pension["contributions"]}
        assert agents <= {pension["iin"], *population.entities}
    for occupation in population.occupations.values():
        assert occupation.get("employer_bin", DALA) in population.entities
    for benefit in population.benefits:
        assert alive(population, benefit["iin"])
        assert benefit.get("child_iin", ARMAN) in population.persons
    for name in ("registrations", "migration"):
        for row in getattr(population, name).values():
            assert alive(population, row["iin"]) and row["address_code"] in population.addresses
    for name in ("licences", "phones", "health", "narcology", "psychiatry", "criminal_records"):
        assert all(alive(population, iin) for iin in getattr(population, name)), name
    assert all(alive(population, c["iin"]) for c in population.certificates.values())
    assert all(alive(population, iin) for iin in population.kindergarten)
    foreigners = {i for i, p in population.persons.items() if p["citizenship"] != "KAZ"}
    assert set(population.migration) == foreigners


def test_statuses_agree_with_the_dates(population: Population) -> None:
    for licence in population.licences.values():
        if licence["status"] == "VALID":
            assert licence["valid_to"] >= TODAY
        elif licence["status"] == "EXPIRED":
            assert licence["valid_to"] < TODAY
        else:
            assert licence["status"] == "REVOKED" and licence["revoked_on"] <= TODAY
    for row in [*population.policies, *population.inspections]:
        if row["status"] == "VALID":
            assert row["valid_to"] >= TODAY
        else:
            assert row["valid_to"] < TODAY
    vehicles = {v["plate"]: v for v in population.vehicles}
    for plate, policies in group(population.policies, "plate").items():
        assert all(p["valid_from"] >= vehicles[plate]["registered_on"] for p in policies)
    queues = group(
        (k for k in population.kindergarten.values() if k["status"] == "WAITING"), "city"
    )
    for queue in queues.values():
        ordered = sorted(queue, key=lambda k: (k["queued_on"], k["child_iin"]))
        assert [k["position"] for k in ordered] == list(range(1, len(queue) + 1))


def test_every_registry_has_generated_subjects(population: Population) -> None:
    demo = Population.demo()
    for f in fields(population):
        assert len(rows(population, f.name)) > len(rows(demo, f.name)), f.name


# The demo subjects ---------------------------------------------------------------------------


def test_the_demo_subjects_come_first_as_given_and_no_generated_row_names_them(
    population: Population,
) -> None:
    demo = Population.demo()
    identifiers = DEMO | {DALA, *demo.addresses, *demo.properties}
    identifiers |= {v[key] for v in demo.vehicles for key in ("plate", "vin")}
    for f in fields(population):
        given, found = rows(demo, f.name), rows(population, f.name)
        first = found[: len(given)]
        if f.name == "kindergarten":  # the place in the queue counts the others too
            first = [{**r, "position": 0} for r in first]
            given = [{**r, "position": 0} for r in given]
        assert first == given, f.name
        for row in found[len(given) :]:
            assert not identifiers & set(strings(row)), (f.name, row)


def test_the_demo_people(any_population: Population) -> None:
    persons = any_population.persons

    def who(iin: str) -> tuple[str, ...]:
        p = persons[iin]
        fields = ("first_name", "patronymic", "last_name", "sex", "birth_date")
        return tuple(p[f] for f in fields)

    assert who(ARMAN) == ("Arman", "Serikuly", "Akhmetov", "M", "1985-03-14")
    assert who(AIGERIM) == ("Aigerim", "Nurlankyzy", "Bekova", "F", "1992-07-21")
    assert who(ALIKHAN) == ("Alikhan", "Armanuly", "Akhmetov", "M", "2026-10-05")
    assert who(DAUREN) == ("Dauren", "Maratuly", "Zhaksylykov", "M", "1977-11-30")
    assert who(GULNARA) == ("Gulnara", "Kairatkyzy", "Omarova", "F", "1969-02-14")
    assert who(BOLAT) == ("Bolat", "Yerlanuly", "Sadykov", "M", "1955-06-01")
    assert who(NATALYA) == ("Natalya", "Ivanovna", "Petrova", "F", "1988-12-25")
    assert who(ZHANSAYA) == ("Zhansaya", "Bolatkyzy", "Nurpeisova", "F", "2001-01-01")
    places = {iin: persons[iin]["birth_place"] for iin in (ARMAN, AIGERIM, DAUREN, GULNARA)}
    assert places == {ARMAN: "Astana", AIGERIM: "Astana", DAUREN: "Karaganda", GULNARA: "Almaty"}
    assert persons[ZHANSAYA]["birth_place"] == "Shymkent"
    assert persons[NATALYA]["citizenship"] == "RUS"
    assert persons[BOLAT]["death_date"] == "2025-02-11"
    assert [iin for iin, p in persons.items() if "death_date" in p and iin in DEMO] == [BOLAT]


def test_the_demo_civil_acts(any_population: Population) -> None:
    acts = {a["act_number"]: a for a in any_population.civil_acts}
    mine = {a["act_number"] for a in any_population.civil_acts if ARMAN in strings(a)}
    assert mine == {"BR-1985-0023311", "MR-2019-0004521", "BR-2026-0011742"}
    assert acts["MR-2019-0004521"]["spouse_iins"] == [ARMAN, AIGERIM]
    son = acts["BR-2026-0011742"]
    assert (son["subject_iin"], son["father_iin"], son["mother_iin"]) == (ALIKHAN, ARMAN, AIGERIM)
    death = acts["DT-2025-0002198"]
    assert (death["type"], death["subject_iin"], death["registered_on"]) == (
        "death",
        BOLAT,
        "2025-02-11",
    )
    assert acts["BR-2001-0000117"]["subject_iin"] == ZHANSAYA
    assert not any(DAUREN in strings(a) for a in any_population.civil_acts)  # in no act


def test_the_demo_vehicles_insurance_and_inspection(any_population: Population) -> None:
    vehicles = {v["plate"]: v for v in any_population.vehicles}
    assert vehicles["123ABC01"] == {
        "plate": "123ABC01",
        "vin": "XW8ZZZ61ZKG012345",
        "make": "Toyota",
        "model": "Camry",
        "year": 2019,
        "colour": "white",
        "owner_iin": ARMAN,
        "registered_on": "2019-05-22",
        "status": "registered",
    }
    assert (vehicles["777KZA09"]["owner_iin"], vehicles["777KZA09"]["vin"]) == (
        DAUREN,
        "JTMHV05J604098765",
    )
    assert vehicles["505OMR02"]["owner_iin"] == GULNARA
    policies = group(any_population.policies, "plate")
    newest = {plate: max(p, key=lambda x: x["valid_from"]) for plate, p in policies.items()}
    assert (newest["123ABC01"]["policy_number"], newest["123ABC01"]["status"]) == (
        "OGPO-2026-00412233",
        "VALID",
    )
    assert newest["777KZA09"]["status"] == "EXPIRED"
    assert [p["policy_number"] for p in policies["123ABC01"]] == [
        "OGPO-2026-00412233",
        "OGPO-2025-00388120",
    ]
    inspections = group(any_population.inspections, "plate")
    assert [i["status"] for i in inspections["123ABC01"]] == ["VALID"]
    assert [i["status"] for i in inspections["777KZA09"]] == ["EXPIRED"]


def test_the_demo_facts_of_each_registry(any_population: Population) -> None:
    p = any_population
    assert p.licences[ARMAN]["categories"] == ["B", "C"]
    assert p.licences[ARMAN]["status"] == "VALID"
    assert p.licences[DAUREN]["status"] == "REVOKED"
    fines = group(p.fines, "iin")
    assert [f["status"] for f in fines[ARMAN]] == ["UNPAID", "UNPAID"]
    dala = p.entities[DALA]
    assert (dala["legal_form"], dala["name"], dala["city"]) == ("TOO", "Dala Logistics", "Astana")
    assert dala["heads"][0]["iin"] == ARMAN and dala["heads"][0]["position"] == "director"
    assert [(b["kind"], b["child_iin"]) for b in p.benefits if b["iin"] == AIGERIM] == [
        ("BIRTH", ALIKHAN)
    ]
    assert p.kindergarten[ALIKHAN]["status"] == "WAITING"
    assert p.kindergarten[ALIKHAN]["position"] >= 1
    assert DAUREN in p.narcology and DAUREN in p.criminal_records
    assert ARMAN not in p.narcology and ARMAN not in p.criminal_records
    (apartment,) = [x for x in p.properties.values() if x["owner"] == GULNARA]
    assert apartment["kind"] == "apartment"
    assert apartment["cadastral_number"] in group(p.encumbrances, "cadastral_number")
    assert p.tax_debts[GULNARA]["total"] > 0
    assert p.pension[GULNARA]["contributions"]
    temporary = p.registrations[NATALYA]
    assert temporary["kind"] == "TEMPORARY"
    assert p.addresses[temporary["address_code"]]["city"] == "Almaty"
    assert p.migration[NATALYA]["citizenship"] == "RUS"
    assert p.occupations[ZHANSAYA]["status"] == "STUDENT"
    assert p.phones[ZHANSAYA]["status"] == "ACTIVE"
    assert BOLAT not in p.registrations and BOLAT not in p.phones


# The command line ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(*args: str, ready: str) -> AsyncIterator[list[str]]:
    """A long-running ``regbus`` command, once it has logged ``ready``; stopped as Ctrl-C does."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "regbus.bus.cli",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any(ready in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, "exited before it was ready:\n" + "".join(lines)
            lines.append(line.decode())
        yield lines
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_mocks_serve_the_population_chosen_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "regbus.toml"
    chosen = Population.generate(50, seed=7)
    other = Population.generate(50, seed=8)
    generated = [v for v in chosen.vehicles if v["owner_iin"] not in DEMO]
    absent = [v for v in other.vehicles if v["plate"] not in {x["plate"] for x in chosen.vehicles}]
    assert generated and absent
    args = ("mocks", "--port", "0", "--population", "50", "--seed", "7")
    async with running(*args, "--write-config", str(config), ready="change one with") as lines:
        assert any("population: 58 people, 50 of them generated from seed 7" in x for x in lines)
        url = load_config(config).registries["vehicles"].endpoint.url
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            found = await client.get("/vehicles", params={"plate": generated[0]["plate"]})
            assert found.status_code == 200
            assert found.json()["owner"]["iin"] == generated[0]["owner_iin"]
            assert found.json()["vin"] == generated[0]["vin"]
            owner = generated[0]["owner_iin"]
            owned = await client.get(f"/owners/{owner}/vehicles")
            assert {v["plate"] for v in owned.json()["items"]} == {
                v["plate"] for v in chosen.vehicles if v["owner_iin"] == owner
            }
            demo = await client.get("/vehicles", params={"plate": "123ABC01"})
            assert demo.json()["owner"]["iin"] == ARMAN
            missing = await client.get("/vehicles", params={"plate": absent[0]["plate"]})
            assert missing.status_code == 404


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--population", "-1"), "argument --population: must be a whole number of people"),
        (("--population", str(MAX_SIZE + 1)), f"from 0 to {MAX_SIZE} (0: only the demo"),
        (("--population", "many"), "got 'many'"),
        (("--seed", "x"), "argument --seed: must be a whole number, got 'x'"),
    ],
)
async def test_mocks_refuse_a_bad_population_or_seed(args: tuple[str, ...], message: str) -> None:
    code, _, err = await regbus("mocks", "--port", "0", *args)
    assert code == 2
    assert message in err
