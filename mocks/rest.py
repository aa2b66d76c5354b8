"""What every REST mock registry shares: its OpenAPI document served beside the API, the
request id echoed, RFC 9457 problems, the checks of plate and VIN queries, and writes
answered once per ``Idempotency-Key`` (``Idempotent``).

    class FinesMock(RestMock):
        id = "fines"
        database = "offence database"       # named in technical errors
        broken = '{"items": [{"number": '   # the start of an unreadable answer

        def api_routes(self) -> list[web.RouteDef]:
            return [web.get(f"{self.api}/fines", self._fines)]
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from aiohttp import web

IIN = re.compile(r"[0-9]{12}", re.ASCII)
PLATE = re.compile(r"^[0-9A-Z]{6,9}$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def echo_request_id(request: web.Request) -> dict[str, str]:
    """Headers that repeat the caller's ``X-Request-ID``, as real registries do."""
    request_id = request.headers.get("X-Request-ID")
    return {"X-Request-ID": request_id} if request_id else {}


def problem(status: int, title: str, detail: str, code: str) -> web.Response:
    """An ``application/problem+json`` answer with the registry's own error code."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/problem+json"
    )


def bad_iin(iin: str | None) -> web.Response | None:
    """A 400 for an IIN given but not 12 digits, else None."""
    if iin is not None and not IIN.fullmatch(iin):
        return problem(400, "Bad Request", f"malformed IIN {iin!r}", "BAD_IIN")
    return None


def bad_plate(plate: str | None) -> web.Response | None:
    """A 400 for a plate given but malformed, else None."""
    if plate is not None and not PLATE.match(plate):
        return problem(400, "Bad Request", f"malformed plate {plate!r}", "BAD_PLATE")
    return None


def plate_or_vin(request: web.Request) -> tuple[str | None, str | None] | web.Response:
    """The query's plate or VIN (exactly one, well formed), or the 400 that says why not."""
    plate, vin = request.query.get("plate"), request.query.get("vin")
    if bool(plate) == bool(vin):
        return problem(400, "Bad Request", "give exactly one of plate or vin", "BAD_QUERY")
    if vin is not None and not VIN.match(vin):
        return problem(400, "Bad Request", f"malformed VIN {vin!r}", "BAD_VIN")
    return bad_plate(plate) or (plate, vin)


def bad_fields(values: Mapping[str, str], **forms: str) -> web.Response | None:
    """A 400 naming the first of ``forms`` (field name -> regex) missing or malformed."""
    for name, form in forms.items():
        if not re.fullmatch(form, values.get(name, ""), re.ASCII):
            return problem(400, "Bad Request", f"missing or malformed {name}", "BAD_REQUEST")
    return None


@dataclass(frozen=True)
class _Answer:
    asked: tuple[str, dict[str, str]]  # the path and body that got it
    status: int
    body: bytes
    content_type: str


class Idempotent:
    """A mock registry's writes, each answered once per ``Idempotency-Key``::

        self.once = Idempotent()
        async def _enqueue(self, request):
            return await self.once(request, self._add)   # _add(body) -> web.Response

    The body is a JSON object of strings. A repeat with the same key and the same path
    and body gets the first answer again (``Idempotent-Replayed: true``) and ``write``
    does not run; the same key with another request is a 422 problem
    (IDEMPOTENCY_KEY_REUSED); no key is a 400. Refusals are remembered like successes;
    5xx answers are not. ``write`` runs without awaiting, so concurrent repeats see it
    done.
    """

    def __init__(self) -> None:
        self._answers: dict[str, _Answer] = {}

    async def __call__(
        self, request: web.Request, write: Callable[[dict[str, str]], web.Response]
    ) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            return problem(400, "Bad Request", "no Idempotency-Key header", "NO_IDEMPOTENCY_KEY")
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return problem(
                400, "Bad Request", "the body is not a JSON object of strings", "BAD_BODY"
            )
        asked = (request.path, body)
        seen = self._answers.get(key)
        if seen is not None:
            if seen.asked != asked:
                detail = f"Idempotency-Key {key} was used for another request"
                return problem(422, "Unprocessable Content", detail, "IDEMPOTENCY_KEY_REUSED")
            return web.Response(
                body=seen.body,
                status=seen.status,
                content_type=seen.content_type,
                headers={**echo_request_id(request), "Idempotent-Replayed": "true"},
            )
        answer = write(body)
        if answer.status < 500 and isinstance(answer.body, bytes):
            self._answers[key] = _Answer(asked, answer.status, answer.body, answer.content_type)
        answer.headers.update(echo_request_id(request))
        return answer


class RestMock:
    """The part of a REST mock registry that is the same for all of them."""

    id: ClassVar[str]
    api: ClassVar[str] = "/api/v1"
    database: ClassVar[str] = "registry database"
    broken: ClassVar[str]

    def api_routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/openapi.json", self._openapi), *self.api_routes()]

    def endpoint_path(self) -> str:
        return self.api

    def technical_error(self, request: web.Request) -> web.Response:
        return problem(500, "Internal Server Error", f"{self.database} error", "INTERNAL")

    def malformed(self, request: web.Request) -> web.Response:
        return web.Response(text=self.broken, content_type="application/json")

    def is_description(self, request: web.Request) -> bool:
        return request.path.endswith("/openapi.json")

    @functools.cached_property
    def openapi(self) -> str:
        """The registry's OpenAPI document, as the adapter declares against it."""
        return resources.files("regbus.adapters").joinpath(f"openapi/{self.id}.json").read_text()

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=self.openapi, content_type="application/json")
