"""Mock МВД vehicle registration: REST/JSON under ``/vehicles/api/v1``, its OpenAPI
document at ``/vehicles/openapi.json``, errors as problem+json."""

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


class VehiclesMock:
    id = "vehicles"

    def __init__(self, population: Population) -> None:
        self.by_plate = {v["plate"]: v for v in population.vehicles}
        self.by_vin = {v["vin"]: v for v in population.vehicles}
        self.openapi = (
            resources.files("regbus.adapters").joinpath("openapi/vehicles.json").read_text()
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/openapi.json", self._openapi),
            web.get(f"{API}/vehicles", self._vehicle),
            web.get(f"{API}/owners/{{iin}}/vehicles", self._by_owner),
        ]

    def endpoint_path(self) -> str:
        return API

    def technical_error(self, request: web.Request) -> web.Response:
        return problem(500, "Internal Server Error", "registry database error", "INTERNAL")

    def malformed(self, request: web.Request) -> web.Response:
        return web.Response(text='{"plate": "123ABC01", "vin": ', content_type="application/json")

    def is_description(self, request: web.Request) -> bool:
        return request.path.endswith("/openapi.json")

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=self.openapi, content_type="application/json")

    async def _vehicle(self, request: web.Request) -> web.Response:
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
            return problem(404, "Not Found", f"no vehicle with {key}", "VEHICLE_NOT_FOUND")
        return web.json_response(_vehicle(found), headers=echo_request_id(request))

    async def _by_owner(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if not iin.isdigit() or len(iin) != 12:
            return problem(400, "Bad Request", f"malformed IIN {iin!r}", "BAD_IIN")
        items = [_vehicle(v) for v in self.by_plate.values() if v["owner_iin"] == iin]
        return web.json_response({"items": items}, headers=echo_request_id(request))


def _vehicle(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "plate": row["plate"],
        "vin": row["vin"],
        "make": row["make"],
        "model": row["model"],
        "year": row["year"],
        "colour": row["colour"],
        "owner": {"iin": row["owner_iin"]},
        "registeredOn": row["registered_on"],
        "status": row["status"],
    }
