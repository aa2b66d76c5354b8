"""The bus's HTTP side: ``/metrics``, ``/healthz``, ``/readyz``, ``/status`` and a status page."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

StatusSource = Callable[[], list[dict[str, Any]]]


def build_app(
    registry: CollectorRegistry,
    status: StatusSource,
    *,
    worker: Mapping[str, Any] | None = None,
) -> web.Application:
    """An aiohttp app over the bus's metrics and live registry status.

    ``worker`` (index and pid) is given by a worker of ``regbus serve --workers N``:
    ``/metrics`` covers every worker, but ``/status`` and the page show the breakers and
    recent calls of the worker that answered, so they say which one it is.
    """
    note = (
        ""
        if worker is None
        else f"<p>worker {html.escape(str(worker.get('index')))}"
        f" (pid {html.escape(str(worker.get('pid')))}): registry state as this worker sees it;"
        " other workers keep their own</p>"
    )

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        # The bus is ready while it can answer; an open breaker degrades one registry only.
        rows = status()
        return web.json_response({"status": "ready", "registries": len(rows)})

    async def status_json(request: web.Request) -> web.Response:
        body: dict[str, Any] = {"registries": status()}
        if worker is not None:
            body["worker"] = dict(worker)
        return web.json_response(body, dumps=lambda o: json.dumps(o, indent=2))

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=_page(status(), note), content_type="text/html")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status_json)
    app.router.add_get("/", page)
    return app


_COLOURS = {"closed": "#1a7f37", "half_open": "#9a6700", "open": "#cf222e"}


def _page(rows: list[dict[str, Any]], note: str = "") -> str:
    cells = []
    for row in rows:
        colour = _COLOURS.get(str(row["breaker"]), "#555")
        cells.append(
            "<tr>"
            f"<td>{html.escape(row['id'])}</td><td>{html.escape(row['name'])}</td>"
            f"<td>{html.escape(row['protocol'])}</td>"
            f"<td style='color:{colour};font-weight:bold'>{html.escape(row['breaker'])}</td>"
            f"<td>{html.escape(row['state_since'])}</td>"
            f"<td>{row['error_rate'] * 100:.0f}%</td><td>{row['p50_ms']:.0f}</td>"
            f"<td>{row['p99_ms']:.0f}</td><td>{row['recent_calls']}</td><td>{row['in_flight']}</td>"
            "</tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='5'>"
        "<title>regbus: registry status</title><style>body{font-family:sans-serif}"
        "td,th{padding:4px 10px;text-align:left}</style></head><body>"
        "<h1>regbus: registry status</h1><table><tr><th>registry</th><th>name</th>"
        "<th>protocol</th><th>breaker</th><th>since</th><th>errors</th><th>p50 ms</th>"
        "<th>p99 ms</th><th>recent calls</th><th>in flight</th></tr>"
        + "".join(cells)
        + "</table>"
        + note
        + "<p><a href='/metrics'>/metrics</a> · <a href='/status'>/status</a></p>"
        "</body></html>"
    )
