"""What every REST mock registry answers with: the request id echoed, RFC 9457 problems."""

from __future__ import annotations

import json

from aiohttp import web


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
