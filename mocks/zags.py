"""Mock ИС ЗАГС: plain SOAP 1.1 ``POST /zags/CivilActService`` (``ListActs``,
``RegisterBirth``), ``GET /zags/CivilActService?wsdl``.

A person named in no act is unknown here: a Client fault whose ``ServiceFault``
code is ``PERSON_NOT_FOUND``, as the agency's service answers.

``RegisterBirth`` numbers a new birth act (``BR-YYYY-NNNNNNN``, the year of
registration, after the highest number of that year) registered today by the
civil registry office of the birth place (else the mother's city). The acts it
registers are this mock's own: ``ListActs`` of either parent lists them after
the population's. One birth, one act: the same child (mother, birth date, first
name; the population's children by their birth acts) is refused under a new key
(``BIRTH_ALREADY_REGISTERED``); the same key with other data is refused too.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from lxml import etree

from regbus.adapters.views import XmlView
from regbus.mocks.population import Population
from regbus.mocks.soap import (
    Handler,
    Numbering,
    ServiceFault,
    SoapMock,
    truncated_response,
)

CHILD = ("last_name", "first_name", "patronymic", "sex", "birth_date", "birth_place")
PARENT_SEX = {"mother_iin": "F", "father_iin": "M"}


class ZagsMock(SoapMock):
    """The civil status acts registry: the shared population's acts and its own births."""

    id = "zags"
    path = "/CivilActService"

    def __init__(self, population: Population) -> None:
        super().__init__()
        self.population = population
        # The acts naming each person, in register order: one lookup per call, not a scan.
        self._acts: dict[str, list[dict[str, Any]]] = {}
        for act in population.civil_acts:
            for iin in _people(act):
                self._acts.setdefault(iin, []).append(act)
        self.births = {_birth(a, population) for a in population.civil_acts if a["type"] == "birth"}
        self.numbers = Numbering("BR", (act["act_number"] for act in population.civil_acts))
        self.registered: list[dict[str, Any]] = []  # the births registered here, in order

    def handlers(self) -> dict[str, Handler]:
        return {"ListActsRequest": self._list_acts, "RegisterBirthRequest": self._register}

    def malformed(self, request: web.Request) -> web.Response:
        anyone = next(iter(self.population.persons))
        return truncated_response(self._acts_response(anyone))

    def _list_acts(self, request: XmlView) -> etree._Element:
        iin = request.text("iin")
        if iin not in self._acts:
            raise ServiceFault("PERSON_NOT_FOUND", f"no civil acts name IIN {iin}")
        return self._acts_response(iin)

    def _acts_response(self, iin: str) -> etree._Element:
        answer = self.schema.build("ListActsResponse")
        for act in self._acts.get(iin, ()):
            answer.append(self._act(act))
        return answer

    def _register(self, request: XmlView) -> etree._Element:
        return self.once(request, lambda: self._new_birth(request))

    def _new_birth(self, request: XmlView) -> etree._Element:
        asked = {name: request.text(name) for name in (*PARENT_SEX, *CHILD)}
        persons = self.population.persons
        for role, sex in PARENT_SEX.items():
            iin = asked[role]
            if iin and iin not in persons:
                raise ServiceFault("PERSON_NOT_FOUND", f"no person with IIN {iin} ({role})")
            if iin and persons[iin]["sex"] != sex:
                raise ServiceFault("PARENT_MISMATCH", f"{iin} cannot be the {role[:6]}")
        today, born = self.today(), _day(asked["birth_date"])
        if born > today:
            raise ServiceFault("BIRTH_DATE_IN_FUTURE", f"birth date {born} is in the future")
        birth = (asked["mother_iin"], asked["birth_date"], asked["first_name"])
        if birth in self.births:
            raise ServiceFault(
                "BIRTH_ALREADY_REGISTERED", f"{asked['first_name']} born {birth[1]} is registered"
            )
        act = {
            "act_number": self.numbers.issue(today.year),
            "type": "birth",
            "registered_on": today.isoformat(),
            "office": f"{self._city(asked)} city civil registry office",
            "child": {_camel(name): asked[name] for name in CHILD},
        }
        act |= {role: asked[role] for role in PARENT_SEX if asked[role]}
        self.births.add(birth)
        self.registered.append(act)
        for iin in _people(act):
            self._acts.setdefault(iin, []).append(act)
        answer = self.schema.build("RegisterBirthResponse")
        answer.append(self._act(act))
        return answer

    def _city(self, asked: dict[str, str]) -> str:
        """Where the birth is registered: its place, else the mother's home city."""
        if asked["birth_place"]:
            return asked["birth_place"]
        population, mother = self.population, asked["mother_iin"]
        home = population.registrations.get(mother, {}).get("address_code", "")
        address = population.addresses.get(home)
        return str(address["city"] if address else population.persons[mother]["birth_place"])

    def _act(self, act: dict[str, Any]) -> etree._Element:
        element = self.reply(
            "act",
            actNumber=act["act_number"],
            actType=act["type"].upper(),
            registrationDate=act["registered_on"],
            registryOffice=act["office"],
            child=act.get("child", ""),
        )
        for iin, role in _people(act).items():
            participant = etree.SubElement(element, self.schema.qname("participant"))
            etree.SubElement(participant, self.schema.qname("iin")).text = iin
            etree.SubElement(participant, self.schema.qname("role")).text = role
        return element


def _people(act: dict[str, Any]) -> dict[str, str]:
    """Everyone an act names, IIN -> the registry's role, subject first."""
    subject_role = {"birth": "CHILD", "death": "DECEASED"}.get(act["type"], "PERSON")
    people = {act["subject_iin"]: subject_role} if act.get("subject_iin") else {}
    for key, role in (("father_iin", "FATHER"), ("mother_iin", "MOTHER")):
        if act.get(key):
            people[act[key]] = role
    for spouse in act.get("spouse_iins", ()):
        people[spouse] = "SPOUSE"
    return people


def _birth(act: dict[str, Any], population: Population) -> tuple[str, str, str]:
    """Who a population birth act registered: (mother, birth date, first name)."""
    child = population.persons.get(act.get("subject_iin", ""), {})
    return act.get("mother_iin", ""), child.get("birth_date", ""), child.get("first_name", "")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceFault("INVALID_REQUEST", f"birth date {text!r} is not YYYY-MM-DD") from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
