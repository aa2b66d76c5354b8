"""Mock technical inspection: REST/JSON under ``/inspection/api/v1``, its OpenAPI
document at ``/inspection/openapi.json``, errors as problem+json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import RestMock, echo_request_id, plate_or_vin, problem

API = "/api/v1"


class InspectionMock(RestMock):
    id = "inspection"
    database = "inspection database"
    broken = '{"certificateNumber": '

    def __init__(self, population: Population) -> None:
        oldest_first = sorted(population.inspections, key=lambda row: row["inspected_on"])
        self.by_plate = {row["plate"]: row for row in oldest_first}  # the latest wins
        self.by_vin = {row["vin"]: row for row in oldest_first}

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/certificates/latest", self._latest)]

    async def _latest(self, request: web.Request) -> web.Response:
        asked = plate_or_vin(request)
        if isinstance(asked, web.Response):
            return asked
        plate, vin = asked
        found = self.by_plate.get(plate) if plate else self.by_vin.get(vin or "")
        if found is None:
            key = f"plate {plate}" if plate else f"VIN {vin}"
            return problem(404, "Not Found", f"no inspection on record for {key}", "NOT_FOUND")
        return web.json_response(_certificate(found), headers=echo_request_id(request))


def _certificate(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "certificateNumber": row["certificate_number"],
        "vehicle": {"plate": row["plate"], "vin": row["vin"]},
        "inspectedOn": row["inspected_on"],
        "validUntil": row["valid_to"],
        "result": row["result"],
        "station": {"name": row["station"]},
        "status": row["status"].lower(),
    }
