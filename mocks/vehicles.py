"""Mock МВД vehicle registration: REST/JSON under ``/vehicles/api/v1``, its OpenAPI
document at ``/vehicles/openapi.json``, errors as problem+json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.population import Population, group
from regbus.mocks.rest import RestMock, bad_iin, echo_request_id, plate_or_vin, problem

API = "/api/v1"


class VehiclesMock(RestMock):
    id = "vehicles"
    broken = '{"plate": "123ABC01", "vin": '

    def __init__(self, population: Population) -> None:
        self.by_plate = {v["plate"]: v for v in population.vehicles}
        self.by_vin = {v["vin"]: v for v in population.vehicles}
        self.by_owner = group(population.vehicles, "owner_iin")

    def api_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/vehicles", self._vehicle),
            web.get(f"{API}/owners/{{iin}}/vehicles", self._by_owner),
        ]

    async def _vehicle(self, request: web.Request) -> web.Response:
        asked = plate_or_vin(request)
        if isinstance(asked, web.Response):
            return asked
        plate, vin = asked
        found = self.by_plate.get(plate) if plate else self.by_vin.get(vin or "")
        if found is None:
            key = f"plate {plate}" if plate else f"VIN {vin}"
            return problem(404, "Not Found", f"no vehicle with {key}", "VEHICLE_NOT_FOUND")
        return web.json_response(_vehicle(found), headers=echo_request_id(request))

    async def _by_owner(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if refused := bad_iin(iin):
            return refused
        items = [_vehicle(v) for v in self.by_owner.get(iin, ())]
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
