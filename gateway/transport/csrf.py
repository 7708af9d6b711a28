"""CSRF prevention: a browser may send a "simple" cross-site POST (form, text/plain) without asking
the server first, so a POST to the GraphQL endpoint must carry a JSON content type or a header
no simple request can have. GET runs queries only (mutations over GET are 405, see the view)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

SIMPLE_TYPES = (b"", b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data")
PREFLIGHT_HEADERS = (b"graphql-require-preflight", b"apollo-require-preflight", b"x-apollo-operation-name")


class CsrfPrevention:
    def __init__(self, app: ASGIApp, paths: Sequence[str] = ("/graphql",)) -> None:
        self.app = app
        self.paths = tuple(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            headers = dict(scope["headers"])
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media in SIMPLE_TYPES and not any(headers.get(h) for h in PREFLIGHT_HEADERS):
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    message = (
        "This request has no JSON content type and no GraphQL-Require-Preflight header, "
        "so it could come from a cross-site form; send Content-Type: application/json."
    )
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
