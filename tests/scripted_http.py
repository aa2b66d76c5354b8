"""An ``HttpTransport`` whose answers come from a script instead of a network.

    http = ScriptedHttp(lambda sent: reply(200, b"{}", "application/json"))
    client = RestClient(endpoint, registry="land", http=http)
    ... http.sent[0].headers["X-Request-ID"]

Only the exchange is scripted: failures still become registry errors as on the
wire (a handler may raise aiohttp's exceptions to show it). ``http_get`` and
``http_post`` talk to a mock registry directly, as a test client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from regbus.adapters.base import Endpoint
from regbus.adapters.http import Answer, HttpTransport


@dataclass(frozen=True)
class Sent:
    """One request as the adapter made it."""

    method: str
    url: str
    headers: CIMultiDictProxy[str]
    content: bytes


Handler = Callable[[Sent], Answer]


def reply(
    status: int = 200,
    content: bytes | str = b"",
    content_type: str = "text/xml; charset=utf-8",
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """An answer as the transport would read it off the wire."""
    body = content.encode() if isinstance(content, str) else content
    found = CIMultiDict({"Content-Type": content_type, **(headers or {})})
    return Answer(status, "", CIMultiDictProxy(found), body)


class ScriptedHttp(HttpTransport):
    """Answers every request with ``handler(sent)``; keeps what was sent in ``sent``."""

    def __init__(self, handler: Handler, *, registry: str = "scripted") -> None:
        super().__init__(Endpoint("http://scripted.test/"), registry=registry)
        self.handler = handler
        self.sent: list[Sent] = []

    async def exchange(
        self,
        method: str,
        url: str | URL,
        operation: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        data: bytes | None,
    ) -> Answer:
        full = str(URL(url).update_query(params)) if params else str(url)
        sent = Sent(method, full, CIMultiDictProxy(CIMultiDict(headers or {})), data or b"")
        self.sent.append(sent)
        return self.handler(sent)


@dataclass(frozen=True)
class Fetched:
    """An answer of :func:`http_get` or :func:`http_post`, for tests talking to a mock."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


async def http_get(url: str) -> Fetched:
    return await _fetch("GET", url, None, None)


async def http_post(
    url: str, content: bytes | str, headers: Mapping[str, str] | None = None
) -> Fetched:
    return await _fetch("POST", url, content, headers)


async def _fetch(
    method: str, url: str, content: bytes | str | None, headers: Mapping[str, str] | None
) -> Fetched:
    data = content.encode() if isinstance(content, str) else content
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=data, headers=headers) as answer,
    ):
        return Fetched(answer.status, answer.headers, await answer.read())
