"""The ASGI app: GraphQL at /graphql, health at /healthz and /readyz, metrics at /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route, WebSocketRoute
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from gateway import console, graphiql
from gateway.identity.auth import (
    unauthenticated,
)
from gateway.process import Gateway
from gateway.running.heap import freeze_startup_heap
from gateway.running.logs import hide_query_strings
from gateway.running.metrics import Scrapes
from gateway.settings import Settings
from gateway.transport.csrf import CsrfPrevention
from gateway.transport.endpoint import GraphQLEndpoint
from gateway.transport.headers import HeaderLimits
from gateway.transport.health import healthz, home, readyz
from gateway.transport.middleware import RequestId
from gateway.transport.overload import LoadShedding
from gateway.transport.sse import EventStreams
from gateway.transport.view import GatewayGraphQL
from gateway.upstreams.webhooks import Webhooks


def _cors(origins: list[str]) -> dict[str, Any]:
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "POST", "PUT", "DELETE"],  # PUT, DELETE: graphql-sse single connection
        "allow_headers": ["authorization", "x-api-key", "content-type", "graphql-require-preflight",
                          "x-request-id", "x-graphql-event-stream-token"],
        "expose_headers": ["x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
                           "ratelimit-policy", "retry-after", "etag"],
        "max_age": 600,
    }  # fmt: skip


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def create_app(settings: Settings | None = None, *, upstreams: dict[str, Any] | None = None) -> Starlette:
    """`upstreams` hands in already connected upstreams by name (tests, benchmarks)."""
    settings = settings or Settings()
    hide_query_strings()
    gateway = Gateway(settings, upstreams)
    graphql = GatewayGraphQL(
        gateway,
        graphql_ide="graphiql" if settings.serves_graphiql else None,
        allowed_origins=settings.cors_origins,  # cross-origin websockets, like CORS for HTTP
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
            MULTIPART_SUBSCRIPTION_PROTOCOL,
        ),
    )
    endpoint = GraphQLEndpoint(
        graphql,
        gateway.documents,
        gateway.compiled,
        gateway.response_cache,
        gateway.shared_cache,
        max_body_bytes=settings.max_request_bytes,
        protections=gateway.protections,
        metrics=gateway.metrics,
        tracing=gateway.tracing,
        warnings=gateway.warnings,
    )
    hook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    webhooks = Webhooks(hook_secret, settings.webhook_tolerance_s, gateway.poke)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        if settings.gc_freeze:
            freeze_startup_heap()
        try:
            yield
        finally:
            await gateway.stop()

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/webhooks/{upstream}", webhooks.endpoint, methods=["POST"]),
            WebSocketRoute("/graphql", graphql),
            Route(
                "/graphql/stream", EventStreams(gateway, endpoint), methods=["GET", "POST", "PUT", "DELETE"]
            ),
            *([Mount(graphiql.ASSETS_PATH, graphiql.assets())] if settings.serves_graphiql else []),
            *(
                [Route(console.PATH, console.page), Mount(console.ASSETS_PATH, console.assets())]
                if settings.serves_console
                else []
            ),
        ],
        middleware=[
            *([Middleware(gateway.tracing.middleware())] if gateway.tracing.enabled else []),
            Middleware(HeaderLimits, max_bytes=settings.max_header_bytes, max_count=settings.max_headers),
            *([Middleware(CORSMiddleware, **_cors(settings.cors_origins))] if settings.cors_origins else []),
            Middleware(RequestId),
            *(
                [Middleware(Scrapes, metrics=gateway.metrics, token=_secret(settings.metrics_token))]
                if gateway.metrics is not None and settings.metrics_port is None
                else []
            ),
            Middleware(LoadShedding, capacity=gateway.capacity),
            Middleware(CsrfPrevention, paths=("/graphql", "/graphql/stream")),
            Middleware(
                AuthenticationMiddleware,
                backend=gateway.auth,
                on_error=unauthenticated,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
