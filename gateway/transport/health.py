"""The gateway's plain HTTP pages: `/healthz` (alive), `/readyz` (ready, with each upstream's state)
and `/` (where the API is)."""

from __future__ import annotations

import logging
import os

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from gateway.settings import Settings
from gateway.upstreams.report import upstream_report

log = logging.getLogger("omnigate")


async def healthz(_request: Request) -> Response:
    # Which process answered: behind one port (`omnigate serve --workers N`), each is its own.
    return JSONResponse({"status": "ok", "process": os.getpid()})


def _home_links(settings: Settings) -> dict[str, str]:
    links = {"graphql": "/graphql"}
    if settings.serves_graphiql:
        links["graphiql"] = "/graphql"  # a browser's GET of /graphql opens GraphiQL
    links["health"] = "/healthz"
    return links


async def home(request: Request) -> Response:
    """`/`: where the API is. A small page for a browser, JSON for anything else."""
    settings: Settings = request.app.state.gateway.settings
    links = _home_links(settings)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"name": "Omnigate", **links})
    api = links["graphql"]
    items = [f'<li>GraphQL API: <a href="{api}">{api}</a> (POST, or GET for queries)</li>']
    if "graphiql" in links:
        items.append(f'<li>GraphiQL, to explore the schema and run queries: <a href="{links["graphiql"]}">'
                     f"{links['graphiql']}</a></li>")  # fmt: skip
    items.append(f'<li>Health: <a href="{links["health"]}">{links["health"]}</a></li>')
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Omnigate</title></head>'
        f"<body><h1>Omnigate</h1><p>A GraphQL commerce gateway.</p><ul>{''.join(items)}</ul></body></html>"
    )
    return HTMLResponse(page)


async def readyz(request: Request) -> Response:
    """Ready while the gateway's own database answers. Each upstream is reported (circuit, last
    success and failure, each feed's sync lag) but never fails readiness: with the ERP down the
    gateway still serves its read model, with warnings, and taking it out of rotation would
    turn a degraded shop into a closed one."""
    gateway = request.app.state.gateway
    upstreams = upstream_report(gateway.upstreams, gateway.freshness)
    degraded = any(
        not u.get("available", True) or any(f["stale"] for f in u["feeds"].values())
        for u in upstreams.values()
    )
    try:
        await gateway.store.ping()
    except Exception as exc:  # any failure means "do not send traffic here"
        log.warning("not ready: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "upstreams": upstreams}, status_code=503
        )
    status = "degraded" if degraded else "ok"
    return JSONResponse({"status": status, "database": "ok", "upstreams": upstreams})
