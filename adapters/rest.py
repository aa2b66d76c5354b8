"""Shared machinery for REST/JSON registries: one client, errors translated once.

    api = RestClient(endpoint, registry="vehicles")
    body = await api.get_json("vehicles", "get_vehicle", params={"plate": "123ABC01"}, context=ctx)

HTTP 404 with a problem body is a business "not found"; 400/403/409/422 are
refusals; 5xx and transport failures are technical; bodies that are not the
JSON expected are malformed answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from regbus.adapters.base import CallContext, Endpoint
from regbus.adapters.errors import RegistryFault, RegistryRejected, SubjectNotFound
from regbus.adapters.http import make_client, require_http_url, status_error, transport_error

REFUSALS = frozenset({400, 403, 409, 422})


class RestClient:
    """JSON over HTTP to one registry's API, relative to ``endpoint.url``."""

    def __init__(self, endpoint: Endpoint, *, registry: str) -> None:
        self.registry = registry
        self.base_url = require_http_url(endpoint.url, registry).rstrip("/") + "/"
        self._client = make_client(endpoint, base_url=self.base_url)

    async def get_json(
        self,
        path: str,
        operation: str,
        *,
        context: CallContext,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` and return the decoded JSON body, or raise a registry error."""
        try:
            response = await self._client.get(
                path, params=dict(params or {}), headers={"X-Request-ID": context.request_id}
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.registry, operation) from exc
        return self._decode(response, operation)

    def _decode(self, response: httpx.Response, operation: str) -> Any:
        where: dict[str, Any] = {"registry": self.registry, "operation": operation}
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError as exc:
                raise RegistryFault("malformed answer: the body is not JSON", **where) from exc
        problem = _problem(response)
        detail = str(problem.get("detail") or problem.get("title") or response.reason_phrase)
        if status == 404 and problem:
            raise SubjectNotFound(detail, **where)
        if status in REFUSALS:
            code = problem.get("code", "")
            raise RegistryRejected(
                f"registry refused the request: {code} {detail}".strip(), **where
            )
        raise status_error(status, response.reason_phrase, self.registry, operation)

    def malformed(self, why: str, operation: str) -> RegistryFault:
        return RegistryFault(
            f"malformed answer: {why}", registry=self.registry, operation=operation
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _problem(response: httpx.Response) -> dict[str, Any]:
    """The RFC 9457 problem body, or an empty dict when there is none."""
    if "json" not in response.headers.get("content-type", ""):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
