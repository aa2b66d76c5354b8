"""The HTTP client every adapter uses, and the one place httpx errors become
registry errors.

    client = make_client(endpoint)
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        raise transport_error(exc, "vehicles", "get_vehicle") from exc
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from regbus.adapters.base import Endpoint
from regbus.adapters.errors import RegbusError, RegistryFault, RegistryTimeout, RegistryUnavailable

# The bus bounds every attempt itself (circuit/); httpx's read timeout only
# guards against a connection the bus somehow forgot.
_READ_CEILING = 120.0


def require_http_url(url: str, registry: str) -> str:
    """The endpoint URL, or a clear ``ValueError`` if it is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{registry}: endpoint url must be an http(s) URL, got {url!r}")
    return url


def make_client(endpoint: Endpoint, **kwargs: object) -> httpx.AsyncClient:
    """An async client sized for one registry: pool limits and connect timeout."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(_READ_CEILING, connect=endpoint.connect_timeout),
        limits=httpx.Limits(
            max_connections=endpoint.max_connections,
            max_keepalive_connections=endpoint.max_connections,
        ),
        **kwargs,  # type: ignore[arg-type]
    )


def transport_error(exc: httpx.HTTPError, registry: str, operation: str) -> RegbusError:
    """Translate an httpx exception into the registry error a caller understands."""
    if isinstance(exc, httpx.TimeoutException):
        return RegistryTimeout(
            f"no answer in time ({type(exc).__name__})", registry=registry, operation=operation
        )
    if isinstance(exc, httpx.ConnectError | httpx.RemoteProtocolError | httpx.ReadError):
        return RegistryUnavailable(
            f"cannot reach the registry: {exc or type(exc).__name__}",
            registry=registry,
            operation=operation,
        )
    if isinstance(exc, httpx.HTTPStatusError):
        return status_error(
            exc.response.status_code, exc.response.reason_phrase, registry, operation
        )
    return RegistryFault(
        f"HTTP failure: {exc or type(exc).__name__}", registry=registry, operation=operation
    )


def status_error(status: int, phrase: str, registry: str, operation: str) -> RegbusError:
    """The error for an HTTP status that carries no business meaning."""
    text = f"registry answered HTTP {status} {phrase}".rstrip()
    if status in (502, 503, 504):
        return RegistryUnavailable(text, registry=registry, operation=operation)
    return RegistryFault(text, registry=registry, operation=operation)
