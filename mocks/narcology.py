"""Mock narcology register behind an X-Road 4.0 security server:
``POST /narcology/`` (``CheckRegistration``), ``GET /narcology/?wsdl``.

``DispensaryMock`` is both dispensary registers (this one and
:mod:`regbus.mocks.psychiatry`): it answers from the population collection named
like the register whether a person is on it, since when and at which dispensary,
and "no" for anyone else, known or not. It has no diagnoses to send.
"""

from __future__ import annotations

from aiohttp import web
from lxml import etree

from regbus.adapters.soap.xroad import XRoadIdentity
from regbus.adapters.views import View
from regbus.mocks.population import UNKNOWN_IIN, Population
from regbus.mocks.soap import truncated_response
from regbus.mocks.xroad import XRoadMock

# The national centre that keeps both registers; each is a subsystem of its own.
CENTRE = ("KZ-TEST", "GOV", "000000000011")


class DispensaryMock(XRoadMock):
    """A dispensary register; ``id`` names it and the population collection it reads."""

    wsdl = "dispensary.wsdl"

    def __init__(self, population: Population) -> None:
        super().__init__(population)
        self.registered: dict[str, dict[str, str]] = getattr(population, self.id)

    def answer(self, operation: str, request: View) -> etree._Element:
        return self._check(request.text("iin"))

    def malformed(self, request: web.Request) -> web.Response:
        return truncated_response(self._check(UNKNOWN_IIN))

    def _check(self, iin: str) -> etree._Element:
        row = self.registered.get(iin)
        on = {"registeredOn": row["registered_on"], "dispensary": row["dispensary"]} if row else {}
        return self.reply(
            "CheckRegistrationResponse",
            iin=iin,
            register=self.id,
            registered="true" if row else "false",
            **on,
        )


class NarcologyMock(DispensaryMock):
    id = "narcology"
    provider = XRoadIdentity(*CENTRE, "NARCOLOGY")
