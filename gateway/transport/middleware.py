"""Plain ASGI middleware: a request id on every request, echoed in the response."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.running.logs import REQUEST_ID

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestId:
    """Trusts a caller's X-Request-Id only when it is a plain token (it ends up in logs)."""

    def __init__(self, app: ASGIApp, header: str = "x-request-id") -> None:
        self.app = app
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == self.header.encode()), "")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[self.header] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)  # every log line of this request carries it
        try:
            # A websocket's frames go straight out: they carry no headers, and a subscription's
            # fan-out writes thousands of them at once.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            REQUEST_ID.reset(token)


def client_address(scope: Scope) -> str | None:
    """The caller's address, as the server resolved it: the TCP peer, or what a proxy the
    operator trusts forwarded (`GATEWAY_FORWARDED_ALLOW_IPS`, applied by `omnigate serve`).
    Rate limits and sign-in throttling key anonymous callers by it."""
    client = scope.get("client")
    return client[0] if client else None


def request_id_of(conn: Any) -> str:
    return conn.scope.get("state", {}).get("request_id") or uuid.uuid4().hex
