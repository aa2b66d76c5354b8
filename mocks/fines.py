"""Mock ЕРАП e-fines: REST/JSON under ``/fines/api/v1``, its OpenAPI document at
``/fines/openapi.json``, errors as problem+json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.population import Population, group
from regbus.mocks.rest import RestMock, bad_iin, bad_plate, echo_request_id, problem

API = "/api/v1"


class FinesMock(RestMock):
    id = "fines"
    database = "offence database"
    broken = '{"items": [{"number": '

    def __init__(self, population: Population) -> None:
        newest = sorted(population.fines, key=lambda f: f["issued_on"], reverse=True)
        self.by_iin = group(newest, "iin")
        self.by_plate = group([f for f in newest if f["plate"]], "plate")

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/fines", self._fines)]

    async def _fines(self, request: web.Request) -> web.Response:
        iin, plate = request.query.get("iin"), request.query.get("plate")
        if bool(iin) == bool(plate):
            return problem(400, "Bad Request", "give exactly one of iin or plate", "BAD_QUERY")
        if refused := bad_iin(iin):
            return refused
        if refused := bad_plate(plate):
            return refused
        rows = self.by_iin.get(iin, []) if iin else self.by_plate.get(plate or "", [])
        return web.json_response(
            {"items": [_fine(f) for f in rows]}, headers=echo_request_id(request)
        )


def _fine(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "number": row["fine_number"],
        "offender": {"iin": row["iin"]},
        "article": row["article"],
        "description": row["description"],
        "amount": row["amount"],
        "currency": "KZT",
        "issuedOn": row["issued_on"],
        "paid": row["status"] == "PAID",
    }
    if row["plate"]:
        body["plate"] = row["plate"]
    if row.get("paid_on"):
        body["paidOn"] = row["paid_on"]
    return body
