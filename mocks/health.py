"""Mock e-health records: REST/JSON under ``/health/api/v1``, its OpenAPI document at
``/health/openapi.json``, errors as problem+json. It holds no diagnoses to send."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import RestMock, bad_iin, echo_request_id, problem

API = "/api/v1"


class HealthMock(RestMock):
    id = "health"
    database = "e-health database"
    broken = '{"iin": "850314354052", "attachment": {"clinic": '

    def __init__(self, population: Population) -> None:
        self.by_iin = population.health

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/patients/{{iin}}/summary", self._summary)]

    async def _summary(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if refused := bad_iin(iin):
            return refused
        found = self.by_iin.get(iin)
        if found is None:
            return problem(404, "Not Found", f"no e-health record for IIN {iin}", "NOT_FOUND")
        return web.json_response(_summary(found), headers=echo_request_id(request))


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iin": row["iin"],
        "attachment": {"clinic": row["clinic"], "attachedOn": row["attached_on"]},
        "vaccinations": [{"vaccine": v["vaccine"], "date": v["date"]} for v in row["vaccinations"]],
    }
    if row["disability_group"]:
        body["disabilityGroup"] = row["disability_group"]
    return body
