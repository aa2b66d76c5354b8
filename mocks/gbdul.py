"""Mock ГБД ЮЛ behind ШЭП SyncChannel: ``POST /gbdul/SyncChannel`` (service
``GBDUL_ENTITY_INFO``), ``GET /gbdul/SyncChannel?wsdl`` and ``?xsd=gbdul`` for the payload
schema. Entities come from the shared population; each head's full name is the person's
"last first patronymic" from the population."""

from __future__ import annotations

from typing import Any

from lxml import etree

from regbus.mocks.population import Population
from regbus.mocks.shep import Handler, ShepMock


class GbdulMock(ShepMock):
    """The state database of legal entities, answering from the shared population."""

    id = "gbdul"
    service_id = "GBDUL_ENTITY_INFO"

    def __init__(self, population: Population) -> None:
        self.entities = population.entities
        self.persons = population.persons

    def handlers(self) -> dict[str, Handler]:
        return {"EntityRequest": self._entity, "EntityHeadsRequest": self._heads}

    def _entity(self, request: etree._Element) -> etree._Element:
        entity = self._find(request)
        if entity is None:
            return self._not_found("EntityRequest")
        answer = self.answer("EntityRequest", "OK")
        element = self.add(
            answer,
            "entity",
            bin=entity["bin"],
            name=entity["name"],
            legalForm=entity["legal_form"],
            registeredOn=entity["registered_on"],
            city=entity["city"],
            addressCode=entity.get("address_code"),
            activity=entity.get("activity"),
            status=entity["status"],
            liquidatedOn=entity.get("liquidated_on"),
        )
        self._add_heads(element, entity)
        return answer

    def _heads(self, request: etree._Element) -> etree._Element:
        entity = self._find(request)
        if entity is None:
            return self._not_found("EntityHeadsRequest")
        answer = self.answer("EntityHeadsRequest", "OK")
        self.add(answer, "bin").text = entity["bin"]
        self._add_heads(answer, entity)
        return answer

    def _find(self, request: etree._Element) -> dict[str, Any] | None:
        return self.entities.get(self.payload.text(request, "bin"))

    def _not_found(self, request: str) -> etree._Element:
        return self.answer(request, "ENTITY_NOT_FOUND", "Legal entity not found")

    def _add_heads(self, parent: etree._Element, entity: dict[str, Any]) -> None:
        heads = self.add(parent, "heads")
        for head in entity["heads"]:
            person = self.persons[head["iin"]]
            names = (person["last_name"], person["first_name"], person.get("patronymic"))
            self.add(
                heads,
                "head",
                iin=head["iin"],
                fullName=" ".join(n for n in names if n),
                position=head["position"],
                since=head["since"],
            )
