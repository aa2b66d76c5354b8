"""The HTTP transport every adapter uses (aiohttp), and the one place transport
failures become registry errors.

    http = HttpTransport(endpoint, registry="vehicles")
    answer = await http.request("GET", url, "get_vehicle", params={"plate": "123ABC01"})
    if answer.status != 200:
        raise answer_error(answer, "vehicles", "get_vehicle")

One ``aiohttp.ClientSession`` per transport (so per adapter), opened lazily
inside the running loop: a pool of ``endpoint.max_connections`` keep-alive
connections, the TCP connect bounded by ``endpoint.connect_timeout``. Every
answer is read as a stream and cut off at ``endpoint.max_answer_bytes``
(:class:`~regbus.adapters.errors.AnswerTooLarge`): a transport never holds more
than that limit of one answer. Connection failures, timeouts and broken answers
raise registry errors (``raise ... from exc``); any HTTP status comes back as an
:class:`Answer`, for the wire style to give it its meaning (:func:`answer_error`
for the statuses that carry none).
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import aiohttp
import yarl

from regbus.adapters.base import Endpoint
from regbus.adapters.errors import (
    AnswerTooLarge,
    RegbusError,
    RegistryFault,
    RegistryTimeout,
    RegistryUnavailable,
)

# The bus bounds every attempt itself (circuit/); this read timeout only guards
# against a connection the bus somehow forgot.
_READ_CEILING = 120.0
# A registry's Retry-After is believed up to this many seconds.
RETRY_AFTER_CAP = 60.0
# The most of a registry's own text that goes into an error message; into its detail.
MESSAGE_TEXT_LIMIT = 200
DETAIL_LIMIT = 1000
_STATUSES = frozenset(HTTPStatus)


def require_http_url(url: str, registry: str) -> str:
    """The endpoint URL, or a clear ``ValueError`` if it is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{registry}: endpoint url must be an http(s) URL, got {url!r}")
    return url


def require_answer_limit(limit: object, registry: str) -> int:
    """``max_answer_bytes``, or a ``ValueError`` naming the registry if it is not
    a whole number of bytes >= 1."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(
            f"{registry}: max_answer_bytes must be a whole number of bytes >= 1, got {limit!r}"
        )
    return limit


def clip(text: str, limit: int = MESSAGE_TEXT_LIMIT) -> str:
    """``text`` on one line and at most ``limit`` characters: what of a registry's
    own words may go into an error message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def snippet(body: bytes, limit: int = DETAIL_LIMIT) -> str:
    """The start of an answer body as text, for an error's ``detail``."""
    return clip(body[: limit * 4].decode("utf-8", "replace"), limit)


def size_text(size: int) -> str:
    """``4.0 MB``, ``512.0 KB`` or ``900 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read whole (and within the size limit).

    ``headers`` look names up case-insensitively.
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def phrase(self) -> str:
        """The standard reason phrase of the status ("" for a status HTTP does not define)."""
        return HTTPStatus(self.status).phrase if self.status in _STATUSES else ""


def parse_retry_after(
    value: str | None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    cap: float = RETRY_AFTER_CAP,
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date,
    at most ``cap``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now()).total_seconds()
    return min(max(seconds, 0.0), cap)


def status_error(
    status: int,
    phrase: str,
    registry: str,
    operation: str,
    *,
    retry_after: float | None = None,
    detail: str = "",
) -> RegbusError:
    """The error for an HTTP status that carries no business meaning: 502, 503,
    504 and 429 say the registry cannot answer now; anything else is a fault."""
    text = f"registry answered HTTP {status} {phrase}".rstrip()
    if status in (429, 502, 503, 504):
        return RegistryUnavailable(
            text, registry=registry, operation=operation, retry_after=retry_after, detail=detail
        )
    return RegistryFault(text, registry=registry, operation=operation, detail=detail)


def answer_error(
    answer: Answer, registry: str, operation: str, *, detail: str | None = None
) -> RegbusError:
    """:func:`status_error` for an answer: its ``Retry-After`` (on 429 and 503) and
    the start of its body as ``detail`` unless one is given."""
    retry_after = None
    if answer.status in (429, 503):
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
    return status_error(
        answer.status,
        answer.phrase,
        registry,
        operation,
        retry_after=retry_after,
        detail=snippet(answer.body) if detail is None else detail,
    )


def transport_error(exc: BaseException, registry: str, operation: str) -> RegbusError:
    """Translate an aiohttp (or socket) failure into the registry error a caller understands."""
    error: type[RegbusError] = RegistryUnavailable
    if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts
        stage = "connecting" if isinstance(exc, aiohttp.ConnectionTimeoutError) else "reading"
        error, text = RegistryTimeout, f"no answer in time ({stage} timed out)"
    elif isinstance(exc, aiohttp.ClientConnectorError):
        text = f"cannot reach the registry ({_connect_failure(exc)})"
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        text = "the registry closed the connection without answering"
    elif isinstance(exc, aiohttp.ClientPayloadError):
        text = "the connection broke in the middle of the answer"
    elif isinstance(exc, ConnectionResetError) or getattr(exc, "errno", None) == errno.ECONNRESET:
        text = "the registry reset the connection"
    elif isinstance(exc, aiohttp.InvalidURL):
        error, text = RegistryFault, "the registry's URL cannot be called"
    elif isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientResponseError | OSError):
        text = "the HTTP exchange with the registry failed"
    else:
        error, text = RegistryFault, "the HTTP exchange with the registry failed"
    translated = error(
        text,
        registry=registry,
        operation=operation,
        detail=clip(f"{type(exc).__name__}: {exc}", DETAIL_LIMIT),
    )
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        translated.delivered = False  # no connection: the request never left
    return translated


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "its host name does not resolve"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the TLS handshake failed"
    if exc.os_error.errno == errno.ECONNREFUSED:
        return "connection refused"
    return "cannot connect"


class HttpTransport:
    """HTTP to one registry: a pool of keep-alive connections, bounded answers,
    failures as registry errors."""

    def __init__(self, endpoint: Endpoint, *, registry: str) -> None:
        self.registry = registry
        self.max_answer_bytes = require_answer_limit(endpoint.max_answer_bytes, registry)
        self._max_connections = endpoint.max_connections
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=endpoint.connect_timeout, sock_read=_READ_CEILING
        )
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_answer = endpoint.on_answer

    def _open(self) -> aiohttp.ClientSession:
        """The session of the running loop, opened on first use."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._loop is not loop:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),  # registries keep no state in cookies
                raise_for_status=False,
            )
            self._session, self._loop = session, loop
        return session

    async def request(
        self,
        method: str,
        url: str | yarl.URL,
        operation: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> Answer:
        """One exchange; any status is an :class:`Answer`, failures are registry errors
        (``operation`` names the bus operation in them)."""
        try:
            answer = await self.exchange(
                method, url, operation, headers=headers, params=params, data=data
            )
        except RegbusError:
            raise
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise transport_error(exc, self.registry, operation) from exc
        if self._on_answer is not None:
            self._on_answer(len(answer.body))
        return answer

    async def exchange(
        self,
        method: str,
        url: str | yarl.URL,
        operation: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        data: bytes | None,
    ) -> Answer:
        """Send the request and read the answer within the size limit; aiohttp's
        exceptions pass through (:meth:`request` translates them)."""
        response = await self._open().request(
            method, url, params=params, data=data, headers=headers, allow_redirects=False
        )
        try:
            body = await self._read(response, operation)
        except BaseException:
            response.close()  # the connection is dropped, never drained
            raise
        response.release()
        return Answer(response.status, response.reason or "", response.headers, body)

    async def _read(self, response: aiohttp.ClientResponse, operation: str) -> bytes:
        limit = self.max_answer_bytes
        length = response.content_length
        if length is not None and length > limit:
            raise self._too_large(operation, f"Content-Length: {length}")
        content = response.content
        chunks: list[bytes] = []
        size = 0
        while chunk := await content.readany():
            size += len(chunk)
            if size > limit:
                raise self._too_large(operation, f"more than {limit} bytes arrived")
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self, operation: str, detail: str) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"answer larger than the {size_text(self.max_answer_bytes)} limit for this"
            " registry; cut off unread",
            registry=self.registry,
            operation=operation,
            detail=detail,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()
