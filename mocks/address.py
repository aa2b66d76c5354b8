"""Mock address register (ГБД «Адресный регистр»): REST/JSON under
``/address/api/v1``, its OpenAPI document at ``/address/openapi.json``, errors as
problem+json."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import RestMock, bad_iin, echo_request_id, problem

API = "/api/v1"
CODE = re.compile(r"[0-9]{16}", re.ASCII)


class AddressMock(RestMock):
    id = "address"
    database = "address database"
    broken = '{"code": "0100000000012345", "region": '

    def __init__(self, population: Population) -> None:
        self.addresses = population.addresses
        self.registrations = population.registrations

    def api_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/registrations/{{iin}}", self._registration),
            web.get(f"{API}/addresses/{{code}}", self._address),
        ]

    async def _registration(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if refused := bad_iin(iin):
            return refused
        row = self.registrations.get(iin)
        if row is None:
            return problem(
                404, "Not Found", f"no residence registration for IIN {iin}", "NOT_FOUND"
            )
        body = {
            "iin": row["iin"],
            "kind": row["kind"],
            "registeredOn": row["registered_on"],
            "address": _address(self.addresses[row["address_code"]]),
        }
        if row.get("valid_to"):
            body["validTo"] = row["valid_to"]
        return web.json_response(body, headers=echo_request_id(request))

    async def _address(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        if not CODE.fullmatch(code):
            return problem(400, "Bad Request", f"malformed address code {code!r}", "BAD_CODE")
        row = self.addresses.get(code)
        if row is None:
            return problem(404, "Not Found", f"no address {code}", "NOT_FOUND")
        return web.json_response(_address(row), headers=echo_request_id(request))


def _address(row: dict[str, Any]) -> dict[str, Any]:
    body = {
        "code": row["code"],
        "regionCode": row["region_code"],
        "region": row["region"],
        "city": row["city"],
        "street": row["street"],
        "house": row["house"],
        "kind": row["kind"],
    }
    if row["flat"]:
        body["flat"] = row["flat"]
    return body
