"""The /graphql endpoint: JSON queries over POST take the compiled path when they can;
everything else (GET, GraphiQL, websockets, mutations, errors) is strawberry's view."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from gateway.compiled import CompiledExecutor, CompiledResult
from gateway.documents import Documents
from gateway.response_cache import CachedResponse, ResponseCache
from gateway.shared_cache import TOPICS, SharedResponseCache

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


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    if status != 304:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _partition(scope: Scope) -> Any:
    """The part of the caller that may change a public answer: kind and scopes, never identity."""
    principal = scope.get("user")
    return (principal.kind, principal.scopes) if principal is not None else None


class GraphQLEndpoint:
    def __init__(
        self,
        view: GatewayGraphQL,
        documents: Documents,
        compiled: CompiledExecutor | None,
        cache: ResponseCache | None = None,
        shared: SharedResponseCache | None = None,
        max_body_bytes: int = 1 << 20,
        warnings: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        self.view = view
        self.documents = documents
        self.compiled = compiled
        self.cache = cache
        self.shared = shared
        self.warnings = warnings
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
        extensions = self.warnings()
        if extensions:  # stale upstream data: answers say so, and are not cached meanwhile
            await self._answer_uncached(scope, receive_body=body, send=send, extensions=extensions)
            return
        key = (body, _partition(scope))
        cached = self.cache.get(key) if self.cache is not None else None
        if cached is None and self.shared is not None:
            cached = await self.shared.get(key)
        if cached is not None:
            await self._send_cached(scope, send, cached)
            return
        generations = self.cache.snapshot(TOPICS) if self.cache else ()
        remote = self.shared.snapshot() if self.shared is not None else None
        result = await self._compiled_result(scope, body)
        if result is None:
            await self.view(scope, _replay(body), send)
            return
        response = orjson.dumps({"data": result.data})
        if self.cache is not None and result.cache_topics is not None:
            seen = tuple((t, g) for t, g in generations if t in result.cache_topics)
            entry = self.cache.put(key, response, seen)
            if self.shared is not None:
                self.shared.put(key, entry, remote, result.cache_topics)
            await self._send_cached(scope, send, entry)
            return
        await _send(send, 200, response, [])

    async def _answer_uncached(
        self, scope: Scope, receive_body: bytes, send: Send, extensions: dict[str, Any]
    ) -> None:
        result = await self._compiled_result(scope, receive_body)
        if result is None:
            await self.view(scope, _replay(receive_body), send)
            return
        await _send(send, 200, orjson.dumps({"data": result.data, "extensions": extensions}), [])

    async def _send_cached(self, scope: Scope, send: Send, cached: CachedResponse) -> None:
        assert self.cache is not None
        headers = [(b"etag", cached.etag), (b"cache-control", b"public, max-age=%d" % self.cache.ttl)]
        if _header(scope, b"if-none-match") == cached.etag:
            await _send(send, 304, b"", headers)
        else:
            await _send(send, 200, cached.body, headers)

    async def _compiled_result(self, scope: Scope, body: bytes) -> CompiledResult | None:
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
        return await self.compiled.execute(document.node, operation_name, variables, context)
