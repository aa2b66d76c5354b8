"""Mock migration police register: REST/JSON under ``/migration/api/v1``, its OpenAPI
document at ``/migration/openapi.json``, errors as problem+json.

Registrations start as the population's (numbered here in order of registration) and new
ones live in this mock only; the registry's today is the population's (``people.AS_OF``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from regbus.mocks.people import AS_OF
from regbus.mocks.population import Population, Row
from regbus.mocks.rest import Idempotent, RestMock, bad_fields, echo_request_id, problem

API = "/api/v1"
TODAY = AS_OF.isoformat()
IIN = r"[0-9]{12}"
NEW = {  # what a registration request gives, and the form of each
    "iin": IIN,
    "document_number": r"[0-9A-Z][0-9A-Z ]{3,18}[0-9A-Z]",
    "citizenship": r"[A-Z]{3}",
    "address_code": r"[0-9]{16}",
    "purpose": r"work|study|family|business|private",
    "valid_to": r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])",
}


class MigrationMock(RestMock):
    id = "migration"
    database = "migration database"
    broken = '{"registration_number": '

    def __init__(self, population: Population) -> None:
        self.persons = population.persons
        self.addresses = population.addresses
        self.registrations: list[Row] = []  # every one, oldest first
        self.by_iin: dict[str, Row] = {}  # the person's latest
        self.by_document: dict[str, Row] = {}  # the latest made with the document
        for row in sorted(population.migration.values(), key=lambda r: r["registered_on"]):
            self._add(dict(row))
        self.once = Idempotent()

    def api_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/registrations", self._registration),
            web.post(f"{API}/registrations", self._register),
        ]

    def _add(self, row: Row) -> Row:
        number = len(self.registrations) + 1
        row["registration_number"] = f"TR-{row['registered_on'][:4]}-{number:06d}"
        self.registrations.append(row)
        self.by_iin[row["iin"]] = self.by_document[row["document_number"]] = row
        return row

    async def _registration(self, request: web.Request) -> web.Response:
        iin, document = request.query.get("iin"), request.query.get("document_number")
        if bool(iin) == bool(document):
            return problem(
                400, "Bad Request", "give exactly one of iin or document_number", "BAD_QUERY"
            )
        if iin and (refused := bad_fields({"iin": iin}, iin=IIN)):
            return refused
        found = self.by_iin.get(iin) if iin else self.by_document.get(document or "")
        if found is None:
            return problem(404, "Not Found", "no registration on record", "NOT_REGISTERED")
        return web.json_response(_registration(found), headers=echo_request_id(request))

    async def _register(self, request: web.Request) -> web.Response:
        return await self.once(request, self._new)

    def _new(self, body: dict[str, str]) -> web.Response:
        if refused := bad_fields(body, **NEW):
            return refused
        iin, document = body["iin"], body["document_number"]
        person = self.persons.get(iin)
        if person is None:
            return problem(404, "Not Found", f"no person with IIN {iin}", "UNKNOWN_PERSON")
        if person["citizenship"] == "KAZ":
            return problem(422, "Unprocessable Content", f"{iin} is a citizen", "NOT_A_FOREIGNER")
        if body["valid_to"] <= TODAY:
            return problem(422, "Unprocessable Content", "valid_to is past", "VALID_TO_IN_PAST")
        if body["address_code"] not in self.addresses:
            return problem(422, "Unprocessable Content", "no such address", "UNKNOWN_ADDRESS")
        holder = self.by_document.get(document)
        if holder is not None and holder["iin"] != iin:
            detail = f"document {document} is another person's"
            return problem(409, "Conflict", detail, "DOCUMENT_OF_ANOTHER_PERSON")
        current = self.by_iin.get(iin)
        if current is not None and _status(current) == "ACTIVE":
            if all(current[name] == body[name] for name in NEW):
                return web.json_response(_registration(current))  # nothing to change
            current["status"] = "REPLACED"
        asked = {name: body[name] for name in NEW}
        row = self._add(asked | {"registered_on": TODAY, "status": "ACTIVE"})
        return web.json_response(_registration(row), status=201)


def _status(row: Row) -> str:
    expired = row["status"] == "ACTIVE" and row["valid_to"] < TODAY
    return "EXPIRED" if expired else str(row["status"])


def _registration(row: Row) -> dict[str, Any]:
    return {
        "registration_number": row["registration_number"],
        "foreigner": {
            "iin": row["iin"],
            "citizenship": row["citizenship"],
            "document_number": row["document_number"],
        },
        "purpose": row["purpose"],
        "address_code": row["address_code"],
        "registered_on": row["registered_on"],
        "valid_to": row["valid_to"],
        "status": _status(row),
    }
