"""Mock ГБД ФЛ behind ШЭП SyncChannel: ``POST /gbdfl/SyncChannel``,
``GET /gbdfl/SyncChannel?wsdl``, and ``?xsd=gbdfl`` for the payload schema."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.payload import PayloadSchema
from regbus.mocks import shep
from regbus.mocks.population import Population
from regbus.mocks.soap import (
    SoapRequestError,
    description_response,
    envelope_response,
    fault_response,
    is_description,
    read_body,
    truncated_response,
)

PATH = "/SyncChannel"
SERVICE_ID = "GBDFL_PERSON_INFO"


class GbdflMock:
    """The state database of individuals, answering from the shared population."""

    id = "gbdfl"

    def __init__(self, population: Population) -> None:
        self.population = population
        self.payload = PayloadSchema("gbdfl.xsd")

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self._description), web.post(PATH, self._send_message)]

    def endpoint_path(self) -> str:
        return PATH

    def technical_error(self, request: web.Request) -> web.Response:
        error = shep.ShepError("SERVICE_ERROR", f"{SERVICE_ID}: internal error", "Server")
        return shep.error_response(error)

    def malformed(self, request: web.Request) -> web.Response:
        anyone = next(iter(self.population.persons))
        return truncated_response(shep.response(self._person_response(anyone)))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    async def _description(self, request: web.Request) -> web.Response:
        return description_response(request, "SyncChannel.wsdl", {"gbdfl": "gbdfl.xsd"})

    async def _send_message(self, request: web.Request) -> web.Response:
        try:
            message = shep.read_message(read_body(await request.read()))
            if message.service_id != SERVICE_ID:
                raise shep.ShepError("SERVICE_NOT_FOUND", f"no service {message.service_id!r}")
            if message.payload.tag != self.payload.qname("PersonRequest"):
                raise shep.ShepError("INVALID_REQUEST", f"{SERVICE_ID} expects PersonRequest")
        except SoapRequestError as exc:
            return fault_response("Client", str(exc))
        except shep.ShepError as exc:
            return shep.error_response(exc)
        try:
            self.payload.check(message.payload, "PersonRequest")
        except ValueError as exc:
            answer = self.payload.build(
                "PersonResponse", resultCode="INVALID_IIN", resultMessage=str(exc)
            )
        else:
            answer = self._person_response(self.payload.text(message.payload, "iin"))
        return envelope_response(shep.response(answer, message.message_id))

    def _person_response(self, iin: str) -> etree._Element:
        person = self.population.persons.get(iin)
        if person is None:
            return self.payload.build(
                "PersonResponse", resultCode="PERSON_NOT_FOUND", resultMessage="Person not found"
            )
        answer = self.payload.build("PersonResponse", resultCode="OK")
        answer.append(self._person(person))
        return answer

    def _person(self, person: dict[str, Any]) -> etree._Element:
        death = person.get("death_date", "")
        fields = {  # in the order of gbdfl.xsd; empty ones are left out
            "iin": person["iin"],
            "lastName": person["last_name"],
            "firstName": person["first_name"],
            "middleName": person.get("patronymic", ""),
            "gender": {"M": "MALE", "F": "FEMALE"}.get(person.get("sex", ""), "UNKNOWN"),
            "birthDate": person["birth_date"],
            "birthPlace": person.get("birth_place", ""),
            "citizenship": person.get("citizenship", ""),
            "lifeStatus": "DECEASED" if death else "ALIVE",
            "deathDate": death,
        }
        element = self.payload.build("person", **{k: v for k, v in fields.items() if v})
        number = person.get("document_number", "")
        if number:
            kind = "ID_CARD" if person.get("citizenship") == "KAZ" else "PASSPORT"
            document = etree.SubElement(element, self.payload.qname("identityDocument"))
            etree.SubElement(document, self.payload.qname("type")).text = kind
            etree.SubElement(document, self.payload.qname("number")).text = number
        return element
