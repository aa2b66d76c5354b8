"""Shared machinery for REST/JSON registries: one transport, errors translated once.

    api = RestClient(endpoint, registry="vehicles")
    body = await api.get_json("vehicles", "get_vehicle", params={"plate": "123ABC01"}, context=ctx)

HTTP 404 with a problem body is a business "not found"; 400/403/409/422 are
refusals; 429, 5xx and transport failures are technical; bodies that are not
the JSON expected are malformed answers. The registry's own words (a problem's
``detail``, a body) go to the error's ``detail``; its ``message`` names at most
the problem's ``code``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import yarl

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegistryFault, RegistryRejected, SubjectNotFound
from regbus.adapters.http import (
    DETAIL_LIMIT,
    Answer,
    HttpTransport,
    answer_error,
    clip,
    require_http_url,
    snippet,
)

REFUSALS = frozenset({400, 403, 409, 422})
_JSON = {"Accept": "application/json"}
# What ``quote(text, safe="")`` leaves as it is: RFC 3986's unreserved characters.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def quote_value(text: str) -> str:
    """``quote(text, safe="")``, at once for text that needs no escaping (most values)."""
    if type(text) is str and _UNRESERVED.fullmatch(text):
        return text
    return quote(text, safe="")


def _query_part(text: str) -> str:
    if type(text) is str and _UNRESERVED.fullmatch(text):
        return text
    return quote(text if isinstance(text, bytes) else str(text), safe="")


def query_string(params: Mapping[str, str]) -> str:
    """``urlencode(params, quote_via=quote)``."""
    return "&".join([_query_part(k) + "=" + _query_part(v) for k, v in params.items()])


class RestClient:
    """JSON over HTTP to one registry's API, relative to ``endpoint.url``.

    ``http`` replaces the transport (tests answer from a script).
    """

    def __init__(
        self, endpoint: Endpoint, *, registry: str, http: HttpTransport | None = None
    ) -> None:
        self.registry = registry
        self.base_url = require_http_url(endpoint.url, registry).rstrip("/") + "/"
        self._http = http or HttpTransport(endpoint, registry=registry)

    async def get_json(
        self,
        path: str,
        operation: str,
        *,
        context: CallContext,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` and return the decoded JSON body, or raise a registry error."""
        url = self.base_url + path.lstrip("/")
        if params:
            url += "?" + query_string(params)
        answer = await self._http.request(
            "GET",
            # Encoded here once: yarl would parse and re-encode it on every call.
            yarl.URL(url, encoded=True),
            operation,
            headers={**_JSON, "X-Request-ID": context.request_id},
        )
        return self._decode(answer, operation)

    async def post_json(
        self,
        path: str,
        operation: str,
        body: Mapping[str, str],
        *,
        context: CallContext,
        idempotency_key: str | None = None,
    ) -> Any:
        """POST ``body`` as JSON to ``path`` and return the decoded answer (200 or 201).

        ``idempotency_key`` goes in the ``Idempotency-Key`` header: a registry that
        honours it answers a repeat with the first answer and changes nothing.
        """
        headers = {
            **_JSON,
            "Content-Type": "application/json",
            "X-Request-ID": context.request_id,
        }
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        answer = await self._http.request(
            "POST",
            yarl.URL(self.base_url + path.lstrip("/"), encoded=True),
            operation,
            headers=headers,
            data=json.dumps(body, ensure_ascii=False).encode(),
        )
        return self._decode(answer, operation)

    def _decode(self, answer: Answer, operation: str) -> Any:
        status = answer.status
        if status in (200, 201):
            try:
                return json.loads(answer.body)
            except (ValueError, RecursionError) as exc:
                raise RegistryFault(
                    "malformed answer: the body is not JSON",
                    registry=self.registry,
                    operation=operation,
                    detail=snippet(answer.body),
                ) from exc
        problem = _problem(answer)
        detail = clip(
            str(problem.get("detail") or problem.get("title") or snippet(answer.body)),
            DETAIL_LIMIT,
        )
        where: dict[str, Any] = {
            "registry": self.registry,
            "operation": operation,
            "detail": detail,
        }
        code = clip(str(problem.get("code") or ""))
        if status == 404 and problem:
            known = f" ({code})" if code else ""
            raise SubjectNotFound(f"the registry does not know the subject{known}", **where)
        if status in REFUSALS:
            why = f"code {code}" if code else f"HTTP {status} {answer.phrase}".rstrip()
            raise RegistryRejected(f"the registry refused the request ({why})", **where)
        raise answer_error(answer, self.registry, operation, detail=detail)

    def malformed(self, why: str, operation: str) -> RegistryFault:
        return RegistryFault(
            f"malformed answer: {clip(why)}",
            registry=self.registry,
            operation=operation,
            detail=why,
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _problem(answer: Answer) -> dict[str, Any]:
    """The RFC 9457 problem body, or an empty dict when there is none."""
    if "json" not in answer.headers.get("Content-Type", ""):
        return {}
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}
