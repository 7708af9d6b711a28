"""The ASGI app: GraphQL at /graphql, health at /healthz and /readyz."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from adapters.payments import open_payments
from adapters.store import Store, open_store
from gateway.auth import TokenBackend, principals_from, unauthenticated
from gateway.context import Context
from gateway.errors import ContractErrors
from gateway.events import InProcessEventBus
from gateway.middleware import RequestId, request_id_of
from gateway.settings import Settings
from gateway.sweeper import sweep_every
from resolvers.loaders import Loaders
from resolvers.principal import SYSTEM, Principal
from resolvers.sweeper import SweepReport, sweep
from schema import build_schema

log = logging.getLogger("omnigate")


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and orjson on the way out."""

    def __init__(self, gateway: Gateway, **options: Any) -> None:
        super().__init__(gateway.schema, **options)
        self.gateway = gateway

    async def get_context(self, request: Any, response: Any) -> Context:
        return self.gateway.context(request.user, request_id_of(request), request, response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class Gateway:
    """What lives as long as the process: settings, the store, the event bus, the schema."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = settings.commerce_policy()
        self.store: Store = open_store(
            settings.resolved_database_url,
            currency_code=settings.currency_code,
            pool_size=settings.database_pool_size,
        )
        self.payments = open_payments(
            self.store.gift_cards,
            card_provider=settings.payment_provider,
            decline_all=settings.payments_test_decline_all,
        )
        self.upstreams = self.store.upstreams(self.payments)
        self.events = InProcessEventBus()
        self.schema = build_schema(extensions=[ContractErrors])
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._sweeper: asyncio.Task[None] | None = None

    def context(
        self, principal: Principal, request_id: str, request: Any = None, response: Any = None
    ) -> Context:
        return Context(
            request_id=request_id,
            principal=principal,
            upstreams=self.upstreams,
            loaders=Loaders.for_request(self.upstreams),
            events=self.events,
            policy=self.policy,
            request=request,
            response=response,
            clock=self.clock,
        )

    async def sweep(self) -> SweepReport:
        """Release what expired, once (the background task calls this on its interval)."""
        return await sweep(self.context(SYSTEM, "sweeper"))

    async def start(self) -> None:
        await self.store.migrate()
        if self.settings.seed_demo and await self.store.is_empty():
            log.info("empty database: seeding the demo retailer")
            await self.store.seed_demo()
        if self.settings.reservation_sweep_seconds > 0:
            self._sweeper = asyncio.create_task(
                sweep_every(self.sweep, self.settings.reservation_sweep_seconds)
            )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeper
        await self.store.close()


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await request.app.state.gateway.store.ping()
    except Exception as exc:  # any failure means "do not send traffic here"
        log.warning("not ready: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    gateway = Gateway(settings)
    graphql = GatewayGraphQL(gateway, graphql_ide="graphiql" if settings.graphiql else None)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            Middleware(RequestId),
            Middleware(
                AuthenticationMiddleware,
                backend=TokenBackend(principals_from(settings)),
                on_error=unauthenticated,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
