"""Mock ЕСБД compulsory motor insurance behind an X-Road 4.0 security server:
``POST /insurance/`` (``GetPolicy``), ``GET /insurance/?wsdl``, and
``?xsd=xroad`` / ``?xsd=identifiers`` for the X-Road schemas.

By plate it answers the current policy, or a Client fault coded
POLICY_NOT_FOUND; by IIN every policy the person holds, newest first (an
empty list for none). The security-server behaviour is :mod:`regbus.mocks.xroad`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.xroad import XRoadIdentity
from regbus.adapters.views import View
from regbus.mocks.population import Population, group
from regbus.mocks.soap import truncated_response
from regbus.mocks.xroad import ServiceFault, XRoadMock


class InsuranceMock(XRoadMock):
    """The unified insurance database, answering from the shared population."""

    id = "insurance"
    wsdl = "insurance.wsdl"
    provider = XRoadIdentity("KZ-TEST", "COM", "100140011111", "ESBD")

    def __init__(self, population: Population) -> None:
        super().__init__(population)
        vehicles = {v["plate"]: v for v in population.vehicles}
        self.policies = [
            _policy(row, vehicles[row["plate"]])
            for row in sorted(population.policies, key=lambda p: p["valid_from"], reverse=True)
        ]
        # Newest first within each: one lookup per call, not a scan of every policy.
        self.by_plate = group(self.policies, "plate")
        self.by_holder = group(self.policies, "holderIin")

    def answer(self, operation: str, request: View) -> etree._Element:
        plate, iin = request.text("plate"), request.text("iin")
        if iin:
            return self.reply("GetPolicyResponse", policy=self._held_by(iin))
        current = self.by_plate.get(plate, [])[:1]
        if not current:
            raise ServiceFault("POLICY_NOT_FOUND", f"no policy for plate {plate}")
        return self.reply("GetPolicyResponse", policy=current)

    def malformed(self, request: web.Request) -> web.Response:
        return truncated_response(self.reply("GetPolicyResponse", policy=self.policies[:1]))

    def _held_by(self, iin: str) -> list[dict[str, str]]:
        return self.by_holder.get(iin, [])


def _policy(row: dict[str, Any], vehicle: dict[str, Any]) -> dict[str, str]:
    """One policy's fields, in the order of the WSDL's ``Policy``."""
    return {
        "policyNumber": row["policy_number"],
        "insurer": row["insurer"],
        "plate": row["plate"],
        "vin": vehicle.get("vin", ""),
        "holderIin": vehicle["owner_iin"],
        "validFrom": row["valid_from"],
        "validTo": row["valid_to"],
        "status": row["status"],
    }
