"""Mock ИС ЗАГС: plain SOAP 1.1 ``POST /zags/CivilActService`` (``ListActs``),
``GET /zags/CivilActService?wsdl``.

A person named in no act is unknown here: a Client fault whose ``ServiceFault``
code is ``PERSON_NOT_FOUND``, as the agency's service answers.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.payload import PayloadSchema
from regbus.mocks.population import Population
from regbus.mocks.soap import (
    FaultCode,
    SoapRequestError,
    description_response,
    envelope_response,
    fault_response,
    is_description,
    read_body,
    truncated_response,
)

PATH = "/CivilActService"
WSDL = "zags.wsdl"


class ZagsMock:
    """The civil status acts registry, answering from the shared population."""

    id = "zags"

    def __init__(self, population: Population) -> None:
        self.population = population
        self.schema = PayloadSchema(WSDL)
        # The acts naming each person, in register order: one lookup per call, not a scan.
        self._acts: dict[str, list[dict[str, Any]]] = {}
        for act in population.civil_acts:
            for iin in _people(act):
                self._acts.setdefault(iin, []).append(act)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self._description), web.post(PATH, self._list_acts)]

    def endpoint_path(self) -> str:
        return PATH

    def technical_error(self, request: web.Request) -> web.Response:
        return self._fault("Server", "INTERNAL_ERROR", "civil registry database is unavailable")

    def malformed(self, request: web.Request) -> web.Response:
        anyone = next(iter(self.population.persons))
        return truncated_response(self._acts_response(anyone))

    def is_description(self, request: web.Request) -> bool:
        return is_description(request)

    async def _description(self, request: web.Request) -> web.Response:
        return description_response(request, WSDL, {})

    async def _list_acts(self, request: web.Request) -> web.Response:
        try:
            body = read_body(await request.read())
            self.schema.check(body, "ListActsRequest")
        except (SoapRequestError, ValueError) as exc:
            return self._fault("Client", "INVALID_REQUEST", str(exc))
        iin = self.schema.text(body, "iin")
        if iin not in self._acts:
            return self._fault("Client", "PERSON_NOT_FOUND", f"no civil acts name IIN {iin}")
        return envelope_response(self._acts_response(iin))

    def _acts_response(self, iin: str) -> etree._Element:
        answer = self.schema.build("ListActsResponse")
        for act in self._acts.get(iin, ()):
            answer.append(self._act(act))
        return answer

    def _act(self, act: dict[str, Any]) -> etree._Element:
        element = self.schema.build(
            "act",
            actNumber=act["act_number"],
            actType=act["type"].upper(),
            registrationDate=act["registered_on"],
            registryOffice=act["office"],
        )
        for iin, role in _people(act).items():
            participant = etree.SubElement(element, self.schema.qname("participant"))
            etree.SubElement(participant, self.schema.qname("iin")).text = iin
            etree.SubElement(participant, self.schema.qname("role")).text = role
        return element

    def _fault(self, code: FaultCode, service_code: str, message: str) -> web.Response:
        detail = self.schema.build("ServiceFault", code=service_code, message=message)
        return fault_response(code, message, detail)


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
