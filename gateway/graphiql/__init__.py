"""GraphiQL served by the gateway itself, offline and under a strict Content-Security-Policy.

The assets are built from the npm packages pinned in `package.json` (`npm ci` here runs the
build into `dist/`); they are third-party files and not in the repository. Without them the
page says how to get them instead of failing. The HTML is rendered here, never served from the
static mount, so it always carries its CSP and a fresh nonce.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from gateway.transport import pages

ASSETS_PATH = "/graphiql-assets"
DIST = Path(__file__).parent / "dist"
HERE = Path(__file__).parent

EXAMPLE = """# Omnigate: one GraphQL schema for the catalog, stock by store, and more.
{
  products(first: 3) {
    nodes { title variants { sku quantityAvailable } }
  }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csp-nonce" content="{nonce}">
<title>Omnigate GraphiQL</title>
<link rel="stylesheet" href="{assets}/graphiql.css">
<link rel="stylesheet" href="{assets}/page.css">
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}" data-subscriptions="{subscriptions}"
  data-query="{query}">Loading GraphiQL…</div>
<script src="{assets}/nonce.js"></script>
<script src="{assets}/graphiql.js"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Omnigate: GraphiQL is not installed</title></head>
<body>
<h1>GraphiQL's files are not installed</h1>
<p>The gateway serves GraphiQL from files built from npm packages, which are not part of the
repository. With Node.js 18 or later, from the repository's folder, run:</p>
<pre>npm ci --prefix gateway/graphiql</pre>
<p>and reload this page. The API works without them: POST GraphQL requests to
<code>{endpoint}</code> with <code>Content-Type: application/json</code>.</p>
</body>
</html>
"""


def installed() -> bool:
    return (DIST / "graphiql.js").is_file() and (DIST / "graphiql.css").is_file()


def assets() -> StaticFiles:
    return StaticFiles(directory=DIST, check_dir=False)


def csp(nonce: str, websocket_origin: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src 'self' {websocket_origin}",
            "worker-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def page(request: Request) -> HTMLResponse:
    endpoint = request.url.path
    if not installed():
        return HTMLResponse(_MISSING.format(endpoint=html.escape(endpoint)), status_code=200)
    nonce, origin = pages.nonce(), pages.websocket_origin(request)
    body = _PAGE.format(
        nonce=nonce,
        assets=ASSETS_PATH,
        endpoint=html.escape(endpoint),
        subscriptions=html.escape(origin + endpoint),
        query=html.escape(EXAMPLE),
    )
    return pages.strict_page(body, csp(nonce, origin))
