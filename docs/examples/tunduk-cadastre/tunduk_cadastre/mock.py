"""The land cadastre's mock registry behind a mock X-Road security server."""

import json
from importlib.resources import files

from lxml import etree

from regbus.kit import View, XRoadIdentity, XRoadMock, not_found
from regbus.mocks.population import Population


class CadastreMock(XRoadMock):
    id = "cadastre"
    wsdl = files("tunduk_cadastre") / "cadastre.wsdl"
    provider = XRoadIdentity("KG-TEST", "GOV", "70000001", "cadastre")

    def __init__(self, population: Population) -> None:
        super().__init__(population)
        self.parcels = json.loads((files("tunduk_cadastre") / "parcels.json").read_text())

    def answer(self, operation: str, request: View) -> etree._Element:
        if operation == "ListParcels":
            owned = [p for p in self.parcels if p["ownerIin"] == request.text("iin")]
            return self.reply("ListParcelsResponse", parcel=owned)
        number = request.text("number")
        found = [p for p in self.parcels if p["number"] == number]
        if not found:
            not_found(f"no parcel {number}", code="PARCEL_NOT_FOUND")
        return self.reply("GetParcelResponse", parcel=found[0])
