"""GraphQL over Server-Sent Events at /graphql/stream: the graphql-sse protocol, "distinct
connections" mode, for clients that cannot hold a websocket.

One POST per operation (`accept: text/event-stream`, the usual JSON body, signed in like any HTTP
request by its Authorization or X-API-Key header); the answer is a stream of `next` events, each
an execution result, then one `complete`. Errors of the document (syntax, validation) and of
authorization come in that stream as a result with `errors`, as the protocol's reference server
sends them; only a body that is not a GraphQL request at all is a 400.

The same use cases, authorization per event and event bus as websockets serve it. A stream whose
client reads too slowly falls behind on the bus and is ended with a SUBSCRIBER_TOO_SLOW error
then `complete` (SSE has no close codes); when the process stops, every stream ends with
`complete`. A comment line every 12 seconds keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.middleware import request_id_of

if TYPE_CHECKING:
    from gateway.app import Gateway

KEEPALIVE_S = 12.0
COMPLETE = b"event: complete\ndata:\n\n"


def _bad_request(message: str, status: int = 400) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    return Response(orjson.dumps(body), status, media_type="application/json; charset=utf-8")


class GraphQLOverSSE:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def endpoint(self, request: Request) -> Response:
        if "text/event-stream" not in request.headers.get("accept", ""):
            return _bad_request("Send `accept: text/event-stream` to subscribe over SSE.", 406)
        body = await request.body()
        if len(body) > self.gateway.settings.max_request_bytes:
            return _bad_request("The request body is too large.", 413)
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _bad_request("The body is not JSON.")
        if not isinstance(params, dict):
            return _bad_request("The body is not a GraphQL request.")
        query, variables = params.get("query"), params.get("variables")
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return _bad_request("The body needs a `query` string (and `variables` as an object).")
        context = self.gateway.context(request.user, request_id_of(request), request)
        source = await self.gateway.schema.stream(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=params.get("operationName"),
        )
        headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        return StreamingResponse(
            self._events(source), media_type="text/event-stream; charset=utf-8", headers=headers
        )

    async def _events(self, source: Any) -> AsyncIterator[bytes]:
        stop = self.gateway.subscribers.stream()
        stopping = asyncio.ensure_future(stop.wait())
        pending: asyncio.Future[Any] = asyncio.ensure_future(anext(source))
        try:
            yield b":\n\n"  # headers and a first byte at once (some browsers wait for a body)
            while True:
                done, _ = await asyncio.wait(
                    {pending, stopping}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                if pending in done:
                    try:
                        result = pending.result()
                    except StopAsyncIteration:
                        break
                    yield b"event: next\ndata: " + orjson.dumps(_payload(result)) + b"\n\n"
                    pending = asyncio.ensure_future(anext(source))
                elif stopping in done:
                    break  # the process is stopping
                else:
                    yield b":\n\n"
            yield COMPLETE
        finally:
            self.gateway.subscribers.stream_ended(stop)
            stopping.cancel()
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
            with contextlib.suppress(Exception):
                await source.aclose()


def _payload(result: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload
