"""Mock МВД driver licences: REST/JSON under ``/licences/api/v1``, its OpenAPI
document at ``/licences/openapi.json``, errors as problem+json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import RestMock, bad_iin, echo_request_id, problem

API = "/api/v1"


class LicencesMock(RestMock):
    id = "licences"
    database = "licence database"
    broken = '{"iin": "850314354052", "number": '

    def __init__(self, population: Population) -> None:
        self.by_iin = population.licences

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/licences/{{iin}}", self._licence)]

    async def _licence(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if refused := bad_iin(iin):
            return refused
        found = self.by_iin.get(iin)
        if found is None:
            return problem(404, "Not Found", f"no driver licence for IIN {iin}", "NOT_FOUND")
        return web.json_response(_licence(found), headers=echo_request_id(request))


def _licence(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "iin": row["iin"],
        "number": row["number"],
        "categories": row["categories"],
        "status": row["status"].lower(),
        "issuedOn": row["issued_on"],
        "validTo": row["valid_to"],
    }
    if row.get("revoked_on"):
        body["revokedOn"] = row["revoked_on"]
        body["revocationReason"] = row.get("revocation_reason", "")
    return body
