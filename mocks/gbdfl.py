"""Mock ГБД ФЛ behind ШЭП SyncChannel: ``POST /gbdfl/SyncChannel``,
``GET /gbdfl/SyncChannel?wsdl``, and ``?xsd=gbdfl`` for the payload schema."""

from __future__ import annotations

from typing import Any

from lxml import etree

from regbus.mocks.population import Population
from regbus.mocks.shep import Handler, ShepMock

REQUEST = "PersonRequest"


class GbdflMock(ShepMock):
    """The state database of individuals, answering from the shared population."""

    id = "gbdfl"
    service_id = "GBDFL_PERSON_INFO"
    invalid_code = "INVALID_IIN"

    def __init__(self, population: Population) -> None:
        self.population = population

    def handlers(self) -> dict[str, Handler]:
        return {REQUEST: self._person_request}

    def _person_request(self, request: etree._Element) -> etree._Element:
        person = self.population.persons.get(self.payload.text(request, "iin"))
        if person is None:
            return self.answer(REQUEST, "PERSON_NOT_FOUND", "Person not found")
        answer = self.answer(REQUEST, "OK")
        self._person(answer, person)
        return answer

    def _person(self, answer: etree._Element, person: dict[str, Any]) -> None:
        death = person.get("death_date", "")
        element = self.add(  # in the order of gbdfl.xsd; empty ones are left out
            answer,
            "person",
            iin=person["iin"],
            lastName=person["last_name"],
            firstName=person["first_name"],
            middleName=person.get("patronymic", ""),
            gender={"M": "MALE", "F": "FEMALE"}.get(person.get("sex", ""), "UNKNOWN"),
            birthDate=person["birth_date"],
            birthPlace=person.get("birth_place", ""),
            citizenship=person.get("citizenship", ""),
            lifeStatus="DECEASED" if death else "ALIVE",
            deathDate=death,
        )
        number = person.get("document_number", "")
        if number:
            kind = "ID_CARD" if person.get("citizenship") == "KAZ" else "PASSPORT"
            self.add(element, "identityDocument", type=kind, number=number)
