"""Mock e-Akimat kindergarten queue: REST/JSON under ``/kindergarten/api/v1``, its
OpenAPI document at ``/kindergarten/openapi.json``, errors as problem+json.

The queues start as the population's (places already counted there); children queued
here join the end of their city's queue in this mock only, on the registry's today
(``people.AS_OF``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from regbus.mocks.people import AS_OF, REGIONS
from regbus.mocks.population import Population, Row
from regbus.mocks.rest import Idempotent, RestMock, bad_fields, echo_request_id, problem

API = "/api/v1"
IIN = r"[0-9]{12}"
CITIES = frozenset(region.city for region in REGIONS)
SIX_YEARS_AGO = AS_OF.replace(year=AS_OF.year - 6).isoformat()


class KindergartenMock(RestMock):
    id = "kindergarten"
    database = "queue database"
    broken = '{"child_iin": "261005565684", "position": '

    def __init__(self, population: Population) -> None:
        self.persons = population.persons
        self.entries: dict[str, Row] = dict(population.kindergarten)  # rows are not changed
        self.waiting = Counter(r["city"] for r in self.entries.values() if r["status"] == "WAITING")
        self.once = Idempotent()

    def api_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/queue/{{child_iin}}", self._entry),
            web.post(f"{API}/queue", self._enqueue),
        ]

    async def _entry(self, request: web.Request) -> web.Response:
        iin = request.match_info["child_iin"]
        if refused := bad_fields({"child_iin": iin}, child_iin=IIN):
            return refused
        found = self.entries.get(iin)
        if found is None:
            return problem(404, "Not Found", f"child {iin} is not in a queue", "NOT_QUEUED")
        return web.json_response(_entry(found), headers=echo_request_id(request))

    async def _enqueue(self, request: web.Request) -> web.Response:
        return await self.once(request, self._add)

    def _add(self, body: dict[str, str]) -> web.Response:
        if refused := bad_fields(body, child_iin=IIN, city=r"[A-Za-z -]+"):
            return refused
        iin, city = body["child_iin"], body["city"]
        child = self.persons.get(iin)
        if child is None:
            return problem(404, "Not Found", f"no child with IIN {iin}", "UNKNOWN_CHILD")
        if city not in CITIES:
            return problem(422, "Unprocessable Content", f"no queue in {city}", "UNKNOWN_CITY")
        if child["birth_date"] <= SIX_YEARS_AGO:
            return problem(422, "Unprocessable Content", "six or older", "NOT_PRESCHOOL_AGE")
        held = self.entries.get(iin)
        if held is not None:
            code = "ALREADY_ENROLLED" if held["status"] == "ENROLLED" else "ALREADY_QUEUED"
            return problem(409, "Conflict", f"child {iin} is in the {held['city']} queue", code)
        self.waiting[city] += 1
        row: Row = {"child_iin": iin, "city": city, "queued_on": AS_OF.isoformat()}
        row |= {"status": "WAITING", "position": self.waiting[city]}
        self.entries[iin] = row
        return web.json_response(_entry(row), status=201)


def _entry(row: Row) -> dict[str, Any]:
    body = {key: row[key] for key in ("child_iin", "city", "queued_on", "status", "position")}
    if row.get("kindergarten"):
        body["kindergarten"] = row["kindergarten"]
    return body
