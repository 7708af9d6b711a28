"""Strawberry's ASGI view as the gateway serves it: GraphQL over HTTP as the spec says, websockets
with text frames and grouped fan-out, and strawberry's own stream transports for subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from cross_web import HTTPException
from graphql import OperationType, get_operation_ast
from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport, SSETransport
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from gateway import graphiql
from gateway.context import Context
from gateway.errors import contract_error
from gateway.identity.auth import (
    connection_authorization,
)
from gateway.transport.fanout import GroupedTransportWS
from gateway.transport.media import GRAPHQL_RESPONSE, response_media, stream_protocol
from gateway.transport.middleware import request_id_of
from gateway.transport.sse import SERVED, TRANSPORTS
from gateway.transport.subscribers import is_websocket

if TYPE_CHECKING:
    from gateway.process import Gateway


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go out as text frames, as the protocol requires (our
    encode_json gives bytes, which strawberry would send as binary frames)."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except (WebSocketDisconnect, RuntimeError) as exc:  # RuntimeError: we closed it (too slow)
            raise WebSocketDisconnected from exc


class TransportNotServed(HTTPException):
    """A subscription sent as a plain HTTP request: 406, naming the transports that serve it."""

    extensions: ClassVar[dict[str, Any]] = {"transports": TRANSPORTS}

    def __init__(self) -> None:
        super().__init__(406, SERVED)


class LineFeedSSE(SSETransport):
    """strawberry's graphql-sse transport, with lines ended by LF alone (the SSE spec allows CRLF,
    LF or CR): urql's client splits events on a blank LF line only, and misses CRLF events."""

    def encode_event(self, event: str, data: str | None = None) -> str:
        return super().encode_event(event, data).replace("\r\n", "\n")

    def encode_comment(self, comment: str) -> str:
        return f": {comment}\n\n"


# What ends each stream transport's response when the gateway ends it (SIGTERM).
_ENDINGS = {
    "text/event-stream": "event: complete\ndata: \n\n",
    "multipart/mixed": "\r\n--graphql--\r\n",
}


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, orjson on the way out, and GraphQL over HTTP
    as the spec says: application/graphql-response+json when asked for (request errors are 400
    there, with no `data`), mutations over GET refused with 405, HTTP errors as GraphQL errors.

    Subscriptions over HTTP are strawberry's own stream transports: graphql-sse (distinct
    connections) and Apollo's multipart subscriptions, chosen by the Accept header's preference
    (`stream_protocol`); a subscription sent as a plain request is a 406 naming them."""

    websocket_adapter_class = TextFrames  # type: ignore[assignment]
    graphql_transport_ws_handler_class = GroupedTransportWS
    stream_transport_classes_by_protocol = {
        GRAPHQL_SSE_PROTOCOL: LineFeedSSE,
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptionTransport,
    }

    def __init__(self, gateway: Gateway, **options: Any) -> None:
        super().__init__(gateway.schema, **options)
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            extensions = {"code": "BAD_USER_INPUT", **getattr(exc, "extensions", {})}
            body = {"errors": [{"message": exc.reason, "extensions": extensions}]}
            headers = {"Allow": "POST"} if exc.status_code == 405 else None
            response = Response(orjson.dumps(body), exc.status_code, headers, response_media(scope).decode())
        await response(scope, receive, send)

    def _get_stream_transport_from_headers(self, headers: Mapping[str, str]) -> HTTPStreamTransport | None:
        # Strawberry takes the first of its transports named anywhere in Accept; we take the
        # client's preference, so that urql's queries (JSON first, text/event-stream later) get JSON.
        protocol = stream_protocol({"headers": [(b"accept", headers.get("accept", "").encode())]})
        return self._get_stream_transport(protocol) if protocol else None

    async def execute_single(self, request: Any, request_adapter: Any, *args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("request_data")
        if isinstance(getattr(data, "query", None), str):
            document = self.gateway.documents.get(data.query)
            if not document.errors:
                operation = get_operation_ast(document.node, data.operation_name)
                if operation is not None and operation.operation is OperationType.SUBSCRIPTION:
                    raise TransportNotServed
        try:
            return await super().execute_single(request, request_adapter, *args, **kwargs)
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(
                    405, "Only queries may be sent with GET; send mutations with POST."
                ) from exc
            raise

    async def create_streaming_response(
        self,
        request: Any,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        media = headers.get("Content-Type", "").split(";")[0].strip()
        ending = _ENDINGS.get(media, "")
        until_drained = partial(self._until_drained, stream, ending)
        return await super().create_streaming_response(request, until_drained, sub_response, headers)

    async def _until_drained(
        self, stream: Callable[[], AsyncIterator[str]], ending: str
    ) -> AsyncGenerator[str, None]:
        """The stream, ended with its transport's last words when the process stops (SIGTERM)."""
        subscribers = self.gateway.subscribers
        stop = subscribers.stream()
        source = stream()
        stopping = asyncio.ensure_future(stop.wait())
        pending: asyncio.Future[Any] = asyncio.ensure_future(anext(source))
        try:
            while True:
                await asyncio.wait({pending, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not pending.done():
                    yield ending
                    break
                try:
                    chunk = pending.result()
                except StopAsyncIteration:
                    break
                yield chunk
                pending = asyncio.ensure_future(anext(source))
        finally:
            subscribers.stream_ended(stop)
            stopping.cancel()
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
            with contextlib.suppress(Exception):
                await source.aclose()  # type: ignore[attr-defined]

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page(request)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media(request.scope).decode()
        request.state.sub_response = sub_response
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = sub_response.media_type or "application/json"
        return response

    async def get_context(self, request: Any, response: Any) -> Context:
        context = self.gateway.context(request.user, request_id_of(request), request, response)
        if is_websocket(request):
            context.too_slow = self.gateway.subscribers.websocket(request)
        return context

    async def on_ws_connect(self, context: Context) -> None:
        """A websocket signs in with its connection_init payload, with the same tokens as HTTP
        (an unknown or malformed one closes the socket: 4403 Forbidden)."""
        authorization = connection_authorization(context.connection_params)
        if authorization is None:
            return None  # anonymous, or signed in by an Authorization header on the upgrade
        try:
            context.principal = await self.gateway.auth.principal_for_authorization(authorization)
        except AuthenticationError as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from exc
        return None

    async def process_result(self, request: Any, result: Any) -> Any:
        if not result.errors:
            return await super().process_result(request, result)
        request_id = request_id_of(request)
        result.errors = [contract_error(e, request_id) for e in result.errors]
        processed = await super().process_result(request, result)
        if result.data is None and all(e.path is None for e in result.errors):
            # A request error: the operation never ran, so there is no `data` entry at all.
            processed.pop("data", None)
            sub_response = getattr(request.state, "sub_response", None)
            code = (result.errors[0].extensions or {}).get("code")
            if sub_response is not None and sub_response.status_code is None:
                wants_spec = sub_response.media_type.startswith(GRAPHQL_RESPONSE.decode())
                if wants_spec and code != "PERSISTED_QUERY_NOT_FOUND":
                    sub_response.status_code = {"FORBIDDEN": 403, "UNAUTHENTICATED": 401}.get(code, 400)
        return processed

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses lone surrogates ("\ud800"), which json.loads lets through into
        # arguments, where no database can store them and no error message can be encoded.
        return orjson.loads(data)
