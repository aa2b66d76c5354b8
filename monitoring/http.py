"""The bus's HTTP side: ``/metrics``, ``/healthz``, ``/readyz``, ``/status`` and, at ``/``,
a status wall: a tile per registry, coloured and named by its health, updated live.

The wall's state and history live in :mod:`regbus.monitoring.wall`, sampled by a
background task of this app; its page is plain HTML with the CSS and script of
``static/`` inlined, and polls ``/status?history=1`` every 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import math
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from regbus.monitoring.wall import HEALTHS, POINTS, UNKNOWN, Wall, request_counts

StatusSource = Callable[[], list[dict[str, Any]]]
WALL_KEY = web.AppKey("wall", Wall)


def build_app(
    registry: CollectorRegistry,
    status: StatusSource,
    *,
    worker: Mapping[str, Any] | None = None,
    readiness: Callable[[], tuple[bool, str]] | None = None,
) -> web.Application:
    """An aiohttp app over the bus's metrics and live registry status.

    ``/status`` rows carry the wall's fields too (``health``, ``health_since``,
    ``calls_1m``, ``failures_1m``, ``error_rate_1m``; with ``?history=1`` also 15 minutes
    of calls and the last state changes), with a ``summary`` of the whole bus.

    ``worker`` (index and pid) is given by a worker of ``regbus serve --workers N``:
    ``/metrics`` covers every worker, but ``/status`` and the page show the breakers and
    recent calls of the worker that answered, so they say which one it is.
    """
    note = (
        ""
        if worker is None
        else f"<p>worker {html.escape(str(worker.get('index')))}"
        f" (pid {html.escape(str(worker.get('pid')))}): registry state as this worker sees it;"
        " other workers keep their own (error rates count every worker's calls)</p>"
    )
    wall = Wall(status, lambda: request_counts(registry))

    async def metrics(request: web.Request) -> web.Response:
        # OpenMetrics for a scraper that asks for it (Accept), else the text format 0.0.4.
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(registry), headers={"Content-Type": content_type})

    async def healthz(request: web.Request) -> web.Response:
        # Answering at all means the process and its event loop are alive.
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        ready, why = readiness() if readiness is not None else (True, "serving")
        body = {"status": "ready" if ready else "not ready", "reason": why}
        return web.json_response(body, status=200 if ready else 503)

    async def status_json(request: web.Request) -> web.Response:
        await wall.sample()
        rows = status()
        history = request.query.get("history", "") not in ("", "0", "false", "no")
        body: dict[str, Any] = {
            "registries": wall.annotate(rows, history=history),
            "summary": wall.summary(),
        }
        if worker is not None:
            body["worker"] = dict(worker)
        if history:  # the wall's poll: compact
            return web.json_response(body, headers={"Cache-Control": "no-store"})
        return web.json_response(body, dumps=lambda o: json.dumps(o, indent=2))

    async def page(request: web.Request) -> web.Response:
        await wall.sample()
        rows = status()
        text = _page(wall.annotate(rows), wall.summary(), note)
        return web.Response(
            text=text, content_type="text/html", headers={"Cache-Control": "no-store"}
        )

    async def sampling(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(wall.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app = web.Application()
    app[WALL_KEY] = wall
    app.cleanup_ctx.append(sampling)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status_json)
    app.router.add_get("/", page)
    return app


@cache
def _static(name: str) -> str:
    return resources.files("regbus.monitoring").joinpath("static", name).read_text("utf-8")


_WORDS = {"up": "Up", "degraded": "Degraded", "down": "Down", "unknown": "Unknown"}
_GLYPHS = {"up": "\u2713", "degraded": "\u25b2", "down": "\u2715", "unknown": "?"}
_OVERALL = {"up": "All up", "degraded": "Degraded", "down": "All down", "unknown": "No calls yet"}


def _e(value: object) -> str:
    return html.escape(str(value))


def _clock(iso: object) -> tuple[str, str]:
    """(datetime attribute, text) of an ISO time, in UTC until the script shows local time."""
    if not isinstance(iso, str):
        return "", "\u2014"
    try:
        at = datetime.fromisoformat(iso).astimezone(UTC)
    except ValueError:
        return "", "\u2014"
    return iso, at.strftime("%H:%M:%S UTC")


def _breaker(row: Mapping[str, Any]) -> str:
    """The breaker where it says more than the tile's state (an up tile's is closed)."""
    breaker = str(row.get("breaker", ""))
    if breaker == "half_open":
        return "breaker half-open: probing \u00b7 "
    wait = float(row.get("retry_after_seconds") or 0)
    if breaker == "open":
        return (
            "breaker open"
            + (f", next probe in {math.ceil(wait)} s" if wait > 0 else "")
            + " \u00b7 "
        )
    return "" if row.get("health") in ("up", "unknown") else f"breaker {breaker} \u00b7 "


def _tile(row: Mapping[str, Any] | None) -> str:
    """One registry's tile; ``None`` gives the empty one the script copies for a new one.

    The script fills the same ``data-f`` fields on every update (``static/wall.js``).
    """
    row = row or {}
    registry = _e(row.get("id", ""))
    name = _e(row.get("name", ""))
    health = str(row.get("health", UNKNOWN))
    health = health if health in _WORDS else UNKNOWN
    since_attr, since_text = _clock(row.get("health_since"))
    rate = row.get("error_rate_1m")
    errors = "\u2014" if rate is None else f"{float(rate) * 100:.0f}%"
    calls = f"of {row['calls_1m']}" if row.get("calls_1m") else "no calls"
    p99 = f"{float(row.get('p99_ms', 0)):.0f} ms" if row.get("recent_calls") else "\u2014"
    ids = (
        f' id="tile-{registry}" data-registry="{registry}" aria-labelledby="name-{registry}"'
        if registry
        else ""
    )
    name_id = f' id="name-{registry}"' if registry else ""
    return (
        f'<article class="tile"{ids} data-state="{health}"'
        f' data-breaker="{_e(row.get("breaker", ""))}">'
        f'<h2 class="tile-id" data-f="id"{name_id}>{registry}</h2>'
        f'<p class="badge"><span data-f="glyph" aria-hidden="true">{_GLYPHS[health]}</span> '
        f'<span data-f="state">{_WORDS[health]}</span></p>'
        f'<p class="since">since <time data-f="since" datetime="{_e(since_attr)}">'
        f'{_e(since_text)}</time> <span data-f="age"></span></p>'
        f'<p class="tile-name" title="{name}"><span data-f="name">{name}</span> \u00b7 '
        f'<span data-f="protocol">{_e(row.get("protocol", ""))}</span></p>'
        '<dl class="figures">'
        f'<div><dt>errors 1 min</dt><dd><span data-f="errors">{errors}</span> '
        f'<small data-f="calls">{calls}</small></dd></div>'
        f'<div><dt>p99 5 min</dt><dd data-f="p99">{p99}</dd></div>'
        "</dl>"
        f'<svg class="spark" data-f="spark" data-points="{POINTS}" viewBox="0 0 {POINTS} 24"'
        ' preserveAspectRatio="none" role="img" aria-label="calls over the last 15 minutes">'
        "</svg>"
        f'<p class="foot"><span data-f="breaker">{_e(_breaker(row)) if row else ""}</span>'
        f'<span data-f="inflight">{_inflight(row)}</span>'
        '<span data-f="caption">15 min</span></p>'
        "</article>"
    )


def _inflight(row: Mapping[str, Any]) -> str:
    count = int(row.get("in_flight") or 0)
    return f"{count} in flight \u00b7 " if count else ""


def _page(rows: list[dict[str, Any]], summary: Mapping[str, Any], note: str = "") -> str:
    counts = "".join(
        f'<li><b id="n-{health}">{_e(summary.get(health, 0))}</b> {health}</li>'
        for health in HEALTHS
    )
    overall = str(summary.get("overall", UNKNOWN))
    overall = overall if overall in _OVERALL else UNKNOWN
    updated_attr, updated_text = _clock(summary.get("updated_at"))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>regbus: registry status</title>"
        f"<style>{_static('wall.css')}</style></head>"
        f'<body data-source="status?history=1" data-updated="{_e(updated_attr)}">'
        '<header class="top"><h1>regbus: registry status</h1>'
        f'<p id="overall" class="overall" data-state="{overall}">{_OVERALL[overall]}</p>'
        f'<ul class="counts" aria-label="registries by state">{counts}</ul>'
        f'<p class="updated">Updated <time id="updated" datetime="{_e(updated_attr)}">'
        f"{_e(updated_text)}</time></p></header>"
        + note.replace("<p>", '<p id="worker" class="note">')
        + '<div id="stale" class="stale" role="alert"></div>'
        '<div id="announce" class="sr-only" aria-live="polite"></div>'
        '<noscript><p class="note">Live updates need JavaScript: reload to refresh.</p></noscript>'
        '<main><section id="grid" class="grid" aria-label="registries">'
        + "".join(_tile(row) for row in rows)
        + "</section></main>"
        f'<template id="tile-template">{_tile(None)}</template>'
        '<p class="links"><a href="/metrics">/metrics</a> \u00b7 <a href="/status">/status</a>'
        " \u00b7 down = breaker open; degraded = breaker half-open, or \u2265 10% of the last"
        " minute\u2019s calls failed (registry failures and fail-fast, not answers such as"
        " not found); unknown = no calls yet; up = breaker closed and under 10% failed."
        " Sparklines: calls per 10 s, failed ones in red.</p>"
        f"<script>{_static('wall.js')}</script>"
        "</body></html>"
    )
