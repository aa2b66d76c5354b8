"""Mock КПСиСУ criminal records: plain SOAP 1.1 ``POST /criminal/CriminalRecordService``
(``GetRecord``), ``GET /criminal/CriminalRecordService?wsdl``.

A person of the population with a row in its criminal records answers ``hasRecord``
true and the convictions; any other person ``hasRecord`` false; an IIN no person
holds is a Client fault coded ``PERSON_NOT_FOUND``.
"""

from __future__ import annotations

from lxml import etree

from regbus.adapters.views import XmlView
from regbus.mocks.population import Population
from regbus.mocks.soap import Handler, ServiceFault, SoapMock


class CriminalMock(SoapMock):
    """The criminal records service, answering from the shared population."""

    id = "criminal"
    path = "/CriminalRecordService"

    def __init__(self, population: Population) -> None:
        super().__init__()
        self.persons = population.persons
        self.records = population.criminal_records

    def handlers(self) -> dict[str, Handler]:
        return {"GetRecordRequest": self._record}

    def _record(self, request: XmlView) -> etree._Element:
        iin = request.text("iin")
        if iin not in self.persons:
            raise ServiceFault("PERSON_NOT_FOUND", f"no person with IIN {iin}")
        convictions = self.records.get(iin, {}).get("convictions", [])
        return self.reply(
            "GetRecordResponse",
            iin=iin,
            hasRecord="true" if convictions else "false",
            conviction=[
                {
                    "article": c["article"],
                    "description": c["description"],
                    "convictedOn": c["convicted_on"],
                    "court": c["court"],
                    "sentence": c["sentence"],
                }
                for c in convictions
            ],
        )
