"""Mock ЕГКН land cadastre: REST/JSON under ``/land/api/v1``, its OpenAPI document at
``/land/openapi.json``, errors as problem+json."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from regbus.mocks.population import Population, group
from regbus.mocks.rest import RestMock, echo_request_id, problem

API = "/api/v1"
CADASTRAL = re.compile(r"[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{3}", re.ASCII)
OWNER = re.compile(r"[0-9]{12}", re.ASCII)


class LandMock(RestMock):
    id = "land"
    database = "cadastre database"
    broken = '{"items": [{"cadastralNumber": '

    def __init__(self, population: Population) -> None:
        self.persons = population.persons  # an owner who is not a person is an entity
        self.parcels = population.parcels
        oldest_first = sorted(self.parcels.values(), key=lambda row: row["acquired_on"])
        self.by_owner = group(oldest_first, "owner")

    def api_routes(self) -> list[web.RouteDef]:
        return [web.get(f"{API}/parcels", self._parcels)]

    async def _parcels(self, request: web.Request) -> web.Response:
        number, owner = request.query.get("cadastral_number"), request.query.get("owner")
        if bool(number) == bool(owner):
            detail = "give exactly one of cadastral_number or owner"
            return problem(400, "Bad Request", detail, "BAD_QUERY")
        if owner:
            if not OWNER.fullmatch(owner):
                return problem(400, "Bad Request", f"malformed IIN or BIN {owner!r}", "BAD_OWNER")
            rows = self.by_owner.get(owner, [])
        elif not CADASTRAL.fullmatch(number or ""):
            detail = f"malformed cadastral number {number!r}"
            return problem(400, "Bad Request", detail, "BAD_CADASTRAL_NUMBER")
        elif (found := self.parcels.get(number or "")) is None:
            return problem(404, "Not Found", f"no parcel {number}", "NOT_FOUND")
        else:
            rows = [found]
        items = [_parcel(row, row["owner"] in self.persons) for row in rows]
        return web.json_response({"items": items}, headers=echo_request_id(request))


def _parcel(row: dict[str, Any], person: bool) -> dict[str, Any]:
    return {
        "cadastralNumber": row["cadastral_number"],
        "purpose": row["purpose"],
        "areaHa": row["area_ha"],
        "region": row["region"],
        "owner": {"id": row["owner"], "type": "person" if person else "entity"},
        "acquiredOn": row["acquired_on"],
    }
