"""Mock БМГ mobile citizens database: REST/JSON under ``/mobile/api/v1``, its OpenAPI
document at ``/mobile/openapi.json``, errors as problem+json.

Codes are "texted" into ``outbox`` (what tests read; the API never returns a code).
When the mock starts it has texted one code to the demo subject 850314354052 (the
adapter's sample for ``verify_code``). Expiry is by ``clock``, which tests may move on.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from regbus.mocks.population import Population
from regbus.mocks.rest import Idempotent, RestMock, bad_fields, echo_request_id, problem

API = "/api/v1"
IIN = r"[0-9]{12}"
CODE_LIFE = timedelta(minutes=5)
ATTEMPTS = 3
DEMO_IIN, DEMO_CODE_ID, DEMO_CODE = "850314354052", "5d0c6a1e-3b7f-4c29-9e81-2f4a6b8c0d17", "482913"


@dataclass(frozen=True)
class Sms:
    """A code as texted: to whom, and what."""

    phone: str
    code_id: str
    code: str


@dataclass
class _Code:
    iin: str
    code: str
    expires: datetime
    attempts_left: int = ATTEMPTS
    spent: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


class MobileMock(RestMock):
    id = "mobile"
    database = "subscriber database"
    broken = '{"iin": "010101660915", "has_phone": '

    def __init__(self, population: Population) -> None:
        self.persons = population.persons
        self.phones = {i: r for i, r in population.phones.items() if r["status"] == "ACTIVE"}
        self.clock: Callable[[], datetime] = _now
        self.outbox: list[Sms] = []  # every code texted, oldest first
        self.codes: dict[str, _Code] = {}
        self.latest: dict[str, _Code] = {}  # each person's newest code
        self.once = Idempotent()
        if DEMO_IIN in self.phones:
            self._text(DEMO_IIN, DEMO_CODE_ID, DEMO_CODE)

    def api_routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/subscribers/{{iin}}", self._status),
            web.post(f"{API}/codes", self._send),
            web.post(f"{API}/codes/{{code_id}}/check", self._check),
        ]

    async def _status(self, request: web.Request) -> web.Response:
        iin = request.match_info["iin"]
        if refused := bad_fields({"iin": iin}, iin=IIN):
            return refused
        if iin not in self.persons:
            return problem(404, "Not Found", f"no person with IIN {iin}", "UNKNOWN_PERSON")
        body: dict[str, Any] = {"iin": iin, "has_phone": iin in self.phones}
        if row := self.phones.get(iin):
            on_file = {"operator": row["operator"], "registered_on": row["registered_on"]}
            body["phone"] = {"masked": masked(row["phone"])} | on_file
        return web.json_response(body, headers=echo_request_id(request))

    async def _send(self, request: web.Request) -> web.Response:
        return await self.once(request, self._new_code)

    def _new_code(self, body: dict[str, str]) -> web.Response:
        if refused := bad_fields(body, iin=IIN):
            return refused
        iin = body["iin"]
        if iin not in self.persons:
            return problem(404, "Not Found", f"no person with IIN {iin}", "UNKNOWN_PERSON")
        if iin not in self.phones:
            return problem(409, "Conflict", f"no mobile number on file for {iin}", "NO_PHONE")
        code_id = str(uuid.uuid4())
        sent = self._text(iin, code_id, f"{secrets.randbelow(10**6):06d}")
        expires_at = sent.expires.isoformat(timespec="seconds").replace("+00:00", "Z")
        phone = masked(self.phones[iin]["phone"])
        answer = {"code_id": code_id, "iin": iin, "phone_masked": phone, "expires_at": expires_at}
        return web.json_response(answer, status=201)

    def _text(self, iin: str, code_id: str, code: str) -> _Code:
        if earlier := self.latest.get(iin):
            earlier.spent = True
        sent = self.codes[code_id] = self.latest[iin] = _Code(iin, code, self.clock() + CODE_LIFE)
        self.outbox.append(Sms(self.phones[iin]["phone"], code_id, code))
        return sent

    async def _check(self, request: web.Request) -> web.Response:
        code_id = request.match_info["code_id"]
        return await self.once(request, lambda body: self._verify(code_id, body))

    def _verify(self, code_id: str, body: dict[str, str]) -> web.Response:
        if refused := bad_fields(body, code=r"[0-9]{6}"):
            return refused
        sent = self.codes.get(code_id)
        if sent is None:
            return problem(404, "Not Found", f"no code {code_id}", "UNKNOWN_CODE")
        if sent.spent:
            detail = "the code was verified, ran out of attempts or was replaced"
            return problem(409, "Conflict", detail, "CODE_SPENT")
        if self.clock() >= sent.expires:
            return problem(422, "Unprocessable Content", "the code expired", "CODE_EXPIRED")
        verified = secrets.compare_digest(body["code"], sent.code)
        if not verified:
            sent.attempts_left -= 1
        sent.spent = verified or sent.attempts_left == 0
        answer = {"code_id": code_id, "iin": sent.iin, "verified": verified}
        return web.json_response(answer | {"attempts_left": sent.attempts_left})


def masked(phone: str) -> str:
    """``+77071234567`` as ``+7 707 *** ** 67``."""
    return f"{phone[:2]} {phone[2:5]} *** ** {phone[-2:]}"
