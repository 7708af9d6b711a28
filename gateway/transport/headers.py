"""Request header limits: 431 before the application runs (plain ASGI, the outermost middleware).

uvicorn with httptools (what `omnigate serve` runs) sets no limit of its own on a request's
headers: one 32 MB header or 100,000 small ones reach the app. (uvicorn's h11 parser refuses an
incomplete header block past `h11_max_incomplete_event_size`, 16 KiB, with a 400.) The server
has read such a request by the time this runs; what this saves is everything after it:
authentication, CORS, the request id, the GraphQL view. A reverse proxy in front (nginx's
`large_client_header_buffers`, 4 x 8 KiB by default) is what keeps them off the process at all.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send


class HeaderLimits:
    def __init__(self, app: ASGIApp, max_bytes: int = 32 * 1024, max_count: int = 100) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            # Counted as on the wire: "name: value\r\n".
            if len(headers) > self.max_count or sum(len(k) + len(v) + 4 for k, v in headers) > self.max_bytes:
                await self._refuse(scope, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before the handshake: a 403
            return
        message = (
            f"The request's headers are over the limit ({self.max_count} headers, "
            f"{self.max_bytes} bytes in all)."
        )
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": body})
