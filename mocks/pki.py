"""Mock НУЦ certificate status: REST/JSON under ``/pki/api/v1``, its OpenAPI document at
``/pki/openapi.json``, errors as problem+json."""

from __future__ import annotations

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import RestMock, bad_fields, echo_request_id, problem

API = "/api/v1"


class PkiMock(RestMock):
    id = "pki"
    database = "certificate database"
    broken = '{"serial": "5F3A9C1E7B2D4086A1C3E5F7092B4D6E8A0C1E3F", "subject": '

    def __init__(self, population: Population) -> None:
        self.by_serial = population.certificates

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/certificates/{{serial}}", self._certificate)]

    async def _certificate(self, request: web.Request) -> web.Response:
        serial = request.match_info["serial"]
        if refused := bad_fields({"serial": serial}, serial=r"[0-9A-F]{40}"):
            return refused
        row = self.by_serial.get(serial)
        if row is None:
            return problem(404, "Not Found", f"no certificate {serial}", "UNKNOWN_SERIAL")
        body = {key: row[key] for key in ("serial", "kind", "valid_from", "valid_to", "status")}
        body["subject"] = {"iin": row["iin"]}
        return web.json_response(body, headers=echo_request_id(request))
