"""The /graphql endpoint: JSON queries over POST take the compiled path when they can;
everything else (GET, GraphiQL, websockets, streams, mutations, errors) is strawberry's view.

Both paths get the same protections. Here, in this order: the body size (413 before reading
more), the persisted document, the document limits (from the `Documents` cache), the cost with
this request's variables, then the rate limit, charged before the response cache is consulted.
Whatever this path does not answer itself is replayed to the view, whose extensions apply the
same checks (and find the rate-limit decision in the request scope rather than charging again).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, get_operation_ast
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from gateway import pricing
from gateway.caching.response_cache import CachedResponse, ResponseCache
from gateway.caching.shared_cache import TOPICS, SharedResponseCache
from gateway.compiled import CompiledExecutor, CompiledResult
from gateway.protections.documents import Documents
from gateway.protections.persisted import SEEN_KEY as UNTRUSTED
from gateway.protections.text import nul_in_variables
from gateway.transport.media import header, response_media, stream_protocol, wants_json
from resolvers.errors import GatewayError

if TYPE_CHECKING:
    from gateway.protections.checks import Protections
    from gateway.running.metrics import Metrics
    from gateway.running.tracing import Tracing
    from gateway.transport.view import GatewayGraphQL

_TOO_LARGE = object()


async def _read_body(receive: Receive, limit: int) -> Any:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """The body again, then the connection's own messages (a stream needs to hear the client
    go away), or a disconnect when there is no connection behind it."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    media: bytes = b"application/json",
) -> None:
    if status != 304:
        headers = [(b"content-type", media), (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, status: int, message: str, code: str = "BAD_USER_INPUT") -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    await _send(send, status, body, [])


def _partition(scope: Scope) -> Any:
    """The part of the caller that may change a public answer: kind and scopes, never identity
    (a member's tier, which may change prices, joins it with the price context, `_answer`)."""
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
        protections: Protections | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        warnings: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        self.view = view
        self.documents = documents
        self.compiled = compiled
        self.cache = cache
        self.shared = shared
        self.max_body_bytes = max_body_bytes
        self.protections = protections
        self.metrics = metrics
        self.tracing = tracing
        self.warnings = warnings
        self._admitted: OrderedDict[Any, tuple[Any, ...]] = OrderedDict()
        self._max_admitted = 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.view(scope, receive, send)
            return
        if scope["method"] != "POST":
            if len(scope.get("query_string", b"")) > self.max_body_bytes:
                await send_error(send, 414, f"The query string is over {self.max_body_bytes} bytes.")
                return
            await self.view(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        body = _TOO_LARGE if declared.isdigit() and int(declared) > self.max_body_bytes else None
        if body is None:
            body = await _read_body(receive, self.max_body_bytes)
        if body is _TOO_LARGE:
            await send_error(send, 413, f"The request body is over {self.max_body_bytes} bytes.")
            return
        if body is None:  # the client went away
            return
        if self.compiled is None or not wants_json(scope) or stream_protocol(scope) is not None:
            await self.view(scope, _replay(body, receive), send)
            return
        await self._fast(scope, body, send)

    async def _fast(self, scope: Scope, body: bytes, send: Send) -> None:
        started = time.perf_counter()
        if self.tracing is not None:
            with self.tracing.span("GraphQL compiled path") as span:
                path, name = await self._answer(scope, body, send)
                if span is not None:
                    span.set_attribute("omnigate.path", path or "standard")
        else:
            path, name = await self._answer(scope, body, send)
        if path is not None and self.metrics is not None:
            self.metrics.operation(name, "ok", path, time.perf_counter() - started)

    async def _answer(self, scope: Scope, body: bytes, send: Send) -> tuple[str | None, str | None]:
        """Answers here ("cached" or "compiled", and the operation's name) or hands the request
        to the view (None)."""
        admitted = await self._admit(scope, body)
        if admitted is None:
            await self.view(scope, _replay(body), send)
            return None, None
        document, operation_name, variables, cost, headers = admitted
        operation = get_operation_ast(document.node, operation_name)
        name = operation.name.value if operation is not None and operation.name else None
        media = response_media(scope)
        context = None
        partition = _partition(scope)
        personal = False  # a member's tier priced it: another member's answer, not the public's
        if pricing.directive_of(operation) is not None:
            # Prices answer where the caller shops: the context is part of the answer's key.
            context = await self._context(scope, body)
            try:
                await pricing.prepare(self.view.schema._schema, context, operation, variables)
            except GatewayError:  # the view refuses it, saying why
                await self.view(scope, _replay(body), send)
                return None, None
            partition = (partition, await pricing.cache_key(context))
            personal = context.pricing is not None and context.pricing.tier is not None
        key = (body, partition)
        # Stale upstream data: every answer says so (extensions.warnings), and none is cached.
        warnings = self.warnings()
        cache = self.cache if not warnings else None
        cached = cache.get(key) if cache is not None else None
        if cached is None and cache is not None and self.shared is not None:
            cached = await self.shared.get(key)
        if cached is not None:
            await self._send_cached(scope, send, cached, headers, media, personal)
            return "cached", name
        generations = self.cache.snapshot(TOPICS) if self.cache else ()
        remote = self.shared.snapshot() if self.shared is not None else None
        if context is None:
            context = await self._context(scope, body)
        result = await self._compiled_result(scope, body, document, operation_name, variables, context)
        if result is None:
            await self.view(scope, _replay(body), send)
            return None, None
        answer: dict[str, Any] = {"data": result.data}
        extensions = dict(warnings)
        if cost is not None and self.protections is not None:
            extensions["cost"] = self.protections.cost_report(cost)
        if extensions:
            answer["extensions"] = extensions
        response = orjson.dumps(answer)
        if cache is not None and result.cache_topics is not None:
            seen = tuple((t, g) for t, g in generations if t in result.cache_topics)
            entry = self.cache.put(key, response, seen)
            if self.shared is not None:
                self.shared.put(key, entry, remote, result.cache_topics)
            await self._send_cached(scope, send, entry, headers, media, personal)
            return "compiled", name
        await _send(send, 200, response, headers, media)
        return "compiled", name

    async def _admit(self, scope: Scope, body: bytes) -> tuple[Any, ...] | None:
        """The document, operation, variables, cost and rate-limit headers of a request this
        path may answer; None hands the request to the view (which explains any refusal).
        What depends only on the body and the kind of caller is remembered, so a repeated
        request (the response cache's case) costs a dictionary lookup and the rate limit."""
        key = (body, _partition(scope))
        admitted = self._admitted.get(key)
        if admitted is None:
            admitted = await self._judge(scope, body)
            if admitted is None:
                return None
            if not scope.get("state", {}).get(UNTRUSTED):  # those are counted each time
                self._admitted[key] = admitted
                if len(self._admitted) > self._max_admitted:
                    self._admitted.popitem(last=False)
        document, operation_name, variables, cost = admitted
        protections = self.protections
        if protections is None:
            return document, operation_name, variables, None, []
        decision = await protections.charge(scope, cost)
        if decision is not None and not decision.allowed:
            return None
        return document, operation_name, variables, cost, protections.headers(decision)

    async def _judge(self, scope: Scope, body: bytes) -> tuple[Any, ...] | None:
        try:
            payload: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict):
            return None
        query, variables = payload.get("query"), payload.get("variables")
        operation_name, extensions = payload.get("operationName"), payload.get("extensions")
        if not isinstance(query, str | None) or not isinstance(variables, dict | None):
            return None
        if not isinstance(operation_name, str | None) or not isinstance(extensions, dict | None):
            return None
        if nul_in_variables(variables) is not None:
            return None
        protections = self.protections
        if protections is not None:
            try:
                state = scope.setdefault("state", {})
                query = await protections.persisted.resolve(query, extensions, scope["user"], state)
            except GraphQLError:
                return None
        if query is None:
            return None
        document = self.documents.get(query)
        if document.node is None or document.errors:
            return None
        if protections is None:
            return document, operation_name, variables, None
        cost = protections.cost.cost(document.node, operation_name, variables)
        if cost > protections.max_cost or protections.refuses_introspection(scope, document.node):
            return None
        return document, operation_name, variables, cost

    async def _send_cached(
        self,
        scope: Scope,
        send: Send,
        cached: CachedResponse,
        headers: list[Any],
        media: bytes,
        personal: bool = False,
    ) -> None:
        assert self.cache is not None
        scope_of = b"private" if personal else b"public"  # no shared HTTP cache keeps a tier's price
        headers = [
            (b"etag", cached.etag),
            (b"cache-control", b"%s, max-age=%d" % (scope_of, self.cache.ttl)),
            *headers,
        ]
        if header(scope, b"if-none-match") == cached.etag:
            await _send(send, 304, b"", headers)
        else:
            await _send(send, 200, cached.body, headers, media)

    async def _context(self, scope: Scope, body: bytes) -> Any:
        return await self.view.get_context(Request(scope, _replay(body)), None)

    async def _compiled_result(
        self, scope: Scope, body: bytes, document: Any, operation_name: str | None, variables: Any,
        context: Any,
    ) -> CompiledResult | None:  # fmt: skip
        assert self.compiled is not None
        # One answer, one moment: every `now` of the query (a pickup time per store and variant)
        # is the same reading, on the compiled path and in the standard run that verifies it.
        moment = context.now()
        context.clock = lambda: moment

        async def standard_context() -> Any:  # GATEWAY_COMPILED_VERIFY: the check's own context
            checking = await self.view.get_context(Request(scope, _replay(body)), None)
            checking.clock = lambda: moment
            return checking

        return await self.compiled.execute(
            document.node, operation_name, variables, context, standard_context
        )
