"""The /graphql endpoint: JSON queries over POST take the compiled path when they can;
everything else (GET, GraphiQL, websockets, mutations, errors) is strawberry's view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from gateway.compiled import CompiledExecutor
from gateway.documents import Documents

if TYPE_CHECKING:
    from gateway.app import GatewayGraphQL

_JSON_ACCEPTS = (b"", b"*/*", b"application/json", b"application/*")


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return b""


def _wants_json(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        return False
    accept = _header(scope, b"accept").lower()
    return any(a.split(b";")[0].strip() in _JSON_ACCEPTS for a in accept.split(b",")) or not accept


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class GraphQLEndpoint:
    def __init__(
        self,
        view: GatewayGraphQL,
        documents: Documents,
        compiled: CompiledExecutor | None,
        max_body_bytes: int = 1 << 20,
    ) -> None:
        self.view = view
        self.documents = documents
        self.compiled = compiled
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        compilable = scope["type"] == "http" and scope["method"] == "POST" and _wants_json(scope)
        if self.compiled is None or not compilable:
            await self.view(scope, receive, send)
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:  # too large or the client went away: the view gives the proper answer
            await self.view(scope, receive, send)
            return
        response = await self._compiled_response(scope, body)
        if response is None:
            await self.view(scope, _replay(body), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(response)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response})

    async def _compiled_response(self, scope: Scope, body: bytes) -> bytes | None:
        try:
            payload: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict):
            return None
        query, variables = payload.get("query"), payload.get("variables")
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return None
        if not isinstance(operation_name, str | None):
            return None
        document = self.documents.get(query)
        if document.node is None or document.errors:
            return None
        assert self.compiled is not None
        context = await self.view.get_context(Request(scope, _replay(body)), None)
        data = await self.compiled.execute(document.node, operation_name, variables, context)
        if data is None:
            return None
        return orjson.dumps({"data": data})
