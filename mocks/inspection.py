"""Mock technical inspection: REST/JSON under ``/inspection/api/v1``, its OpenAPI
document at ``/inspection/openapi.json``, errors as problem+json."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import echo_request_id, problem

API = "/api/v1"
PLATE = re.compile(r"^[0-9A-Z]{6,9}$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


class InspectionMock:
    id = "inspection"

    def __init__(self, population: Population) -> None:
        oldest_first = sorted(population.inspections, key=lambda row: row["inspected_on"])
        self.by_plate = {row["plate"]: row for row in oldest_first}  # the latest wins
        self.by_vin = {row["vin"]: row for row in oldest_first}
        self.openapi = (
            resources.files("regbus.adapters").joinpath("openapi/inspection.json").read_text()
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/openapi.json", self._openapi),
            web.get(f"{API}/certificates/latest", self._latest),
        ]

    def endpoint_path(self) -> str:
        return API

    def technical_error(self, request: web.Request) -> web.Response:
        return problem(500, "Internal Server Error", "inspection database error", "INTERNAL")

    def malformed(self, request: web.Request) -> web.Response:
        return web.Response(text='{"certificateNumber": ', content_type="application/json")

    def is_description(self, request: web.Request) -> bool:
        return request.path.endswith("/openapi.json")

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=self.openapi, content_type="application/json")

    async def _latest(self, request: web.Request) -> web.Response:
        plate, vin = request.query.get("plate"), request.query.get("vin")
        if bool(plate) == bool(vin):
            return problem(400, "Bad Request", "give exactly one of plate or vin", "BAD_QUERY")
        if plate is not None and not PLATE.match(plate):
            return problem(400, "Bad Request", f"malformed plate {plate!r}", "BAD_PLATE")
        if vin is not None and not VIN.match(vin):
            return problem(400, "Bad Request", f"malformed VIN {vin!r}", "BAD_VIN")
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
