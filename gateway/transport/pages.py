"""What the gateway's own web pages (GraphiQL, the store console) share: a fresh nonce per page,
the websocket origin their subscriptions connect to, and the headers every such page carries."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse


def nonce() -> str:
    return secrets.token_urlsafe(16)


def websocket_origin(request: Request) -> str:
    """This gateway's origin for websockets, as the browser reached it."""
    scheme = "wss" if request.url.scheme == "https" else "ws"
    return f"{scheme}://{request.url.netloc}"


def strict_page(body: str, content_security_policy: str) -> HTMLResponse:
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
