"""Mock GBD RN real-estate register: plain SOAP 1.1 ``POST /realestate/RealEstateService``
(``ListProperty``, ``ListEncumbrances``), ``GET /realestate/RealEstateService?wsdl``.

Answers from the population's properties and encumbrances: by owner every property
(oldest acquisition first) or every encumbrance on them, an empty list for an owner
holding nothing; by cadastral number the property's encumbrances, or a Client fault
coded ``PROPERTY_NOT_FOUND`` for a number the register does not hold.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from regbus.adapters.views import XmlView
from regbus.mocks.population import Population, group
from regbus.mocks.soap import Content, Handler, ServiceFault, SoapMock


class RealEstateMock(SoapMock):
    """The real-estate register, answering from the shared population."""

    id = "realestate"
    path = "/RealEstateService"

    def __init__(self, population: Population) -> None:
        super().__init__()
        self.properties = population.properties
        self.encumbrances = group(population.encumbrances, "cadastral_number")
        rows = sorted(self.properties.values(), key=lambda row: row["acquired_on"])
        self.owned = group(rows, "owner")

    def handlers(self) -> dict[str, Handler]:
        return {
            "ListPropertyRequest": self._property,
            "ListEncumbrancesRequest": self._encumbrances,
        }

    def _property(self, request: XmlView) -> etree._Element:
        owned = self.owned.get(request.text("owner"), [])
        return self.reply("ListPropertyResponse", property=[self._unit(row) for row in owned])

    def _encumbrances(self, request: XmlView) -> etree._Element:
        # The schema's choice: exactly one of them.
        number, owner = request.text("cadastral_number"), request.text("owner")
        if number and number not in self.properties:
            raise ServiceFault("PROPERTY_NOT_FOUND", f"no property {number} in the register")
        numbers = [number] if number else [p["cadastral_number"] for p in self.owned.get(owner, [])]
        found = [_encumbrance(row) for n in numbers for row in self.encumbrances.get(n, [])]
        return self.reply("ListEncumbrancesResponse", encumbrance=found)

    def _unit(self, row: dict[str, Any]) -> dict[str, Content]:
        """One property's fields, in the order of the WSDL's ``Property``."""
        return {
            "cadastralNumber": row["cadastral_number"],
            "kind": row["kind"],
            "addressCode": row["address_code"],
            "area": str(row["area"]),
            "rooms": str(row["rooms"]),
            "owner": row["owner"],
            "acquiredOn": row["acquired_on"],
            "parcel": row.get("parcel", ""),
            "encumbered": "true" if row["cadastral_number"] in self.encumbrances else "false",
        }


def _encumbrance(row: dict[str, Any]) -> dict[str, Content]:
    return {
        "encumbranceNumber": row["encumbrance_number"],
        "cadastralNumber": row["cadastral_number"],
        "kind": row["kind"],
        "holder": row["holder"],
        "holderBin": row["holder_bin"],
        "registeredOn": row["registered_on"],
        "until": row.get("until", ""),
    }
