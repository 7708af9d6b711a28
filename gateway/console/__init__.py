"""The store console at /console: a tablet web app for store staff, on the public GraphQL API.

Like GraphiQL (gateway/graphiql), its assets are built at install from the npm packages pinned in
`package.json` (`npm ci` here runs the build into `dist/`), are not in the repository, and are
served from the gateway itself: no CDN, so it works on a store network cut off from the internet.
The HTML is rendered here with a fresh nonce per page and a strict Content-Security-Policy: scripts
and styles load only with that nonce (or from the gateway's origin), the only connections are the
gateway's own `/graphql` over HTTP and websocket.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from gateway.transport import pages

PATH = "/console"
ASSETS_PATH = "/console-assets"
DIST = Path(__file__).parent / "dist"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Omnigate store console</title>
<link rel="stylesheet" href="{assets}/console.css" nonce="{nonce}">
</head>
<body>
<main id="console" data-endpoint="{endpoint}" data-subscriptions="{subscriptions}">Loading the console…</main>
<script src="{assets}/console.js" nonce="{nonce}"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Omnigate: the store console is not installed</title></head>
<body>
<h1>The store console's files are not installed</h1>
<p>The gateway serves the console from files built from npm packages, which are not part of the
repository. With Node.js 18 or later, from the repository's folder, run:</p>
<pre>npm ci --prefix gateway/console</pre>
<p>and reload this page.</p>
</body>
</html>
"""


def installed() -> bool:
    return (DIST / "console.js").is_file() and (DIST / "console.css").is_file()


def assets() -> StaticFiles:
    return StaticFiles(directory=DIST, check_dir=False)


def csp(nonce: str, websocket_origin: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            f"connect-src 'self' {websocket_origin}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


async def page(request: Request) -> HTMLResponse:
    if not installed():
        return HTMLResponse(_MISSING, status_code=200, headers={"Cache-Control": "no-store"})
    nonce, origin = pages.nonce(), pages.websocket_origin(request)
    body = _PAGE.format(
        nonce=nonce,
        assets=ASSETS_PATH,
        endpoint="/graphql",
        subscriptions=html.escape(f"{origin}/graphql"),
    )
    return pages.strict_page(body, csp(nonce, origin))
