"""GraphQL over Server-Sent Events at /graphql/stream: the graphql-sse protocol in both its modes.

- **Distinct connections** (one POST or GET with `accept: text/event-stream` per operation) is
  strawberry's own SSE transport: this route hands such requests to the /graphql endpoint, which
  serves it there too (gateway/transport/view.py ends those streams on SIGTERM).
- **Single connection** is written here, because strawberry 0.341 has no such mode: a `PUT`
  reserves a stream and answers 201 with its token; `GET` (or `POST`) with `accept:
  text/event-stream` and the token (`X-GraphQL-Event-Stream-Token` header, or `?token=`) opens it;
  each operation is a `POST` with the token and `extensions.operationId`, accepted with 202, its
  results pushed on the stream as `next {id, payload}` then `complete {id}`; `DELETE
  ?operationId=` stops one. Operations run through `schema.stream` with the caller of each
  request, like every other transport, so the same per-field and per-event authorization holds.

A reservation belongs to whoever made it: operations of another caller are refused (403), a
second stream on one token is 409, a reservation left unopened for a minute is forgotten (with
any operation it was given). A
stream whose client stops reading falls behind and is ended; every stream ends, after a
`complete` for each of its operations, when the process stops. A comment line every 12 seconds
keeps proxies from closing an idle stream. Errors of a request (a document that does not parse
or validate, a missing operation id) are answered to that request as over HTTP, with a code.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import contract_error
from gateway.transport.media import SSE, stream_protocol
from gateway.transport.middleware import request_id_of
from resolvers.principal import Principal

if TYPE_CHECKING:
    from gateway.process import Gateway

KEEPALIVE_S = 12.0
UNOPENED_TTL_S = 60.0
MAX_RESERVATIONS = 10_000
TOKEN_HEADER = "x-graphql-event-stream-token"
SERVED = (
    "Subscriptions over HTTP are served as graphql-sse streams (accept: text/event-stream, here or at "
    "/graphql; single connection mode: PUT /graphql/stream first), as Apollo multipart subscriptions "
    '(accept: multipart/mixed;subscriptionSpec="1.0" at /graphql), and over websockets at /graphql '
    "(graphql-transport-ws)."
)
TRANSPORTS = ["graphql-sse", "multipart-subscription", "graphql-transport-ws"]
JSON = "application/json; charset=utf-8"


def refusal(message: str, status: int, code: str = "BAD_USER_INPUT", **extensions: Any) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return Response(orjson.dumps(body), status, media_type=JSON)


def _event(kind: str, data: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass(eq=False)
class Reservation:
    principal: Principal
    queue: asyncio.Queue[bytes]
    made: float = field(default_factory=time.monotonic)
    open: bool = False
    closed: bool = False  # its stream ended: nothing more may start on it
    operations: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # set: end the stream now

    def close(self) -> None:
        self.closed = True
        for task in self.operations.values():
            task.cancel()

    def push(self, message: bytes) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.stop.set()  # its client stopped reading: end the stream rather than hold more


class EventStreams:
    """The /graphql/stream route: single connection mode here, distinct connections to `distinct`."""

    def __init__(self, gateway: Gateway, distinct: ASGIApp) -> None:
        self.gateway = gateway
        self.distinct = distinct
        self.reservations: dict[str, Reservation] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token")
        wants_stream = stream_protocol(scope) == SSE
        if request.method == "PUT":
            response = self._reserve(request.user)
        elif token is None:
            if not wants_stream or request.method not in ("GET", "POST"):
                response = refusal(SERVED, 406, transports=TRANSPORTS)
            else:
                await self.distinct(scope, receive, send)
                return
        elif (reservation := self.reservations.get(token)) is None:
            response = refusal("No stream is reserved with this token; PUT /graphql/stream first.", 404)
        elif request.method == "DELETE":
            response = self._stop(reservation, request.query_params.get("operationId"))
        elif request.user != reservation.principal:
            response = refusal("This stream was reserved by another caller.", 403, "FORBIDDEN")
        elif wants_stream and request.method in ("GET", "POST"):
            response = self._open(token, reservation)
        elif request.method == "POST":
            response = await self._operation(request, reservation)
        else:
            response = refusal("Send GET, POST, PUT or DELETE to /graphql/stream.", 405)
        await response(scope, receive, send)

    def _reserve(self, principal: Principal) -> Response:
        now = time.monotonic()
        for token, found in list(self.reservations.items()):
            if not found.open and now - found.made > UNOPENED_TTL_S:
                del self.reservations[token]
                found.close()
        if len(self.reservations) >= MAX_RESERVATIONS:
            message = "Too many event streams are reserved; try again later."
            return refusal(message, 503, "UPSTREAM_UNAVAILABLE")
        token = secrets.token_urlsafe(32)
        size = self.gateway.settings.subscription_queue_size
        self.reservations[token] = Reservation(principal, asyncio.Queue(size))
        return Response(token, 201, media_type="text/plain; charset=utf-8")

    def _open(self, token: str, reservation: Reservation) -> Response:
        if reservation.open:
            return refusal("This reservation has a stream open already.", 409)
        reservation.open = True
        headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        return StreamingResponse(
            self._events(token, reservation), media_type="text/event-stream; charset=utf-8", headers=headers
        )

    async def _events(self, token: str, reservation: Reservation) -> AsyncIterator[bytes]:
        draining = self.gateway.subscribers.stream()
        ends = {asyncio.ensure_future(draining.wait()), asyncio.ensure_future(reservation.stop.wait())}
        taking: asyncio.Future[bytes] | None = None
        try:
            yield b":\n\n"  # headers and a first byte at once (some browsers wait for a body)
            while True:
                taking = taking or asyncio.ensure_future(reservation.queue.get())
                done, _ = await asyncio.wait({taking, *ends}, timeout=KEEPALIVE_S,
                                             return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                if taking in done:
                    message, taking = taking.result(), None
                    yield message
                elif done:
                    break  # the process is stopping, or the client fell too far behind
                else:
                    yield b":\n\n"
            for operation_id in list(reservation.operations):
                yield _event("complete", {"id": operation_id})
        finally:
            self.gateway.subscribers.stream_ended(draining)
            for waiting in (*ends, *([taking] if taking else [])):
                waiting.cancel()
            self.reservations.pop(token, None)
            reservation.close()
            await asyncio.gather(*reservation.operations.values(), return_exceptions=True)

    def _stop(self, reservation: Reservation, operation_id: str | None) -> Response:
        if not operation_id:
            return refusal("Say which operation to stop: DELETE /graphql/stream?operationId=...", 400)
        task = reservation.operations.pop(operation_id, None)
        if task is not None:
            task.cancel()
        return Response(status_code=200)

    async def _operation(self, request: Request, reservation: Reservation) -> Response:
        limit = self.gateway.settings.max_request_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:  # refused before it is read
            return refusal(f"The request body is over {limit} bytes.", 413)
        body = await request.body()
        if len(body) > limit:
            return refusal(f"The request body is over {limit} bytes.", 413)
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            return refusal("The body is not JSON.", 400)
        if not isinstance(params, dict):
            return refusal("The body is not a GraphQL request.", 400)
        query, variables, extensions = params.get("query"), params.get("variables"), params.get("extensions")
        operation_name = params.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return refusal("The body needs a `query` string (and `variables` as an object).", 400)
        if not isinstance(operation_name, str | None):
            return refusal("`operationName` must be a string.", 400)
        operation_id = (extensions or {}).get("operationId") if isinstance(extensions, dict) else None
        if not isinstance(operation_id, str) or not operation_id:
            return refusal("Single connection mode needs `extensions.operationId`.", 400)
        if operation_id in reservation.operations:
            return refusal("An operation with this id is running on this stream.", 409)
        document = self.gateway.documents.get(query)
        if document.errors:  # as over HTTP: the request is answered, nothing is streamed
            request_id = request_id_of(request)
            errors = [contract_error(e, request_id).formatted for e in document.errors]
            return Response(orjson.dumps({"errors": errors}), 400, media_type=JSON)
        context = self.gateway.context(request.user, request_id_of(request), request)
        source = await self.gateway.schema.stream(
            query, variable_values=variables, context_value=context, operation_name=operation_name
        )
        if reservation.closed or operation_id in reservation.operations:  # while this request was read
            await source.aclose()
            return refusal("This stream has ended (or runs this operation id); reserve a new one.", 409)
        task = asyncio.ensure_future(self._run(reservation, operation_id, source))
        reservation.operations[operation_id] = task
        return Response(status_code=202)

    async def _run(self, reservation: Reservation, operation_id: str, source: Any) -> None:
        try:
            async for result in source:
                reservation.push(_event("next", {"id": operation_id, "payload": _payload(result)}))
            if reservation.operations.pop(operation_id, None) is not None:
                reservation.push(_event("complete", {"id": operation_id}))
        finally:
            with contextlib.suppress(Exception):
                await source.aclose()


def _payload(result: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
        if result.data is None and all(e.path is None for e in result.errors):
            del payload["data"]  # a request error: the operation never ran
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload
