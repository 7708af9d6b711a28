"""The ASGI app: GraphQL at /graphql, health at /healthz and /readyz."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

import orjson
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from adapters.cached import CachedUpstreams
from adapters.ports import Upstreams
from adapters.store import Store, open_store
from gateway.auth import TokenBackend, unauthenticated
from gateway.compiled import CompiledExecutor
from gateway.context import Context
from gateway.documents import Documents
from gateway.endpoint import GraphQLEndpoint
from gateway.errors import ContractErrors, contract_error
from gateway.events import InProcessEventBus
from gateway.freshness import Freshness
from gateway.middleware import RequestId, request_id_of
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from gateway.shared_cache import TOPICS, SharedResponseCache
from gateway.upstreams import connect_upstreams
from gateway.warnings import UpstreamWarnings
from gateway.webhooks import Webhooks
from gateway.workers import outbox_worker, read_model_sync
from resolvers.loaders import Loaders
from schema import build_schema

log = logging.getLogger("omnigate")


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and orjson on the way out."""

    def __init__(self, gateway: Gateway, **options: Any) -> None:
        super().__init__(gateway.schema, **options)
        self.gateway = gateway

    async def get_context(self, request: Any, response: Any) -> Context:
        gw = self.gateway
        upstreams = gw.ports
        return Context(
            request_id=request_id_of(request),
            principal=request.user,
            upstreams=upstreams,
            loaders=Loaders.for_request(upstreams),
            events=gw.events,
            policy=gw.policy,
            request=request,
            response=response,
        )

    async def process_result(self, request: Any, result: Any) -> Any:
        if result.errors:
            request_id = request_id_of(request)
            result.errors = [contract_error(e, request_id) for e in result.errors]
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class Gateway:
    """What lives as long as the process: settings, the store, the upstreams, the event bus,
    the schema, the caches, and the background workers (change-feed polling, outbox delivery)."""

    def __init__(self, settings: Settings, upstreams: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.policy = settings.commerce_policy()
        self.store: Store = open_store(
            settings.resolved_database_url,
            currency_code=settings.currency_code,
            pool_size=settings.database_pool_size,
        )
        self.events = InProcessEventBus()
        # The upstream systems configuration names, and the ports the use cases read through.
        self.upstreams = connect_upstreams(settings, **(upstreams or {}))
        self._redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        self.sync = read_model_sync(settings, self.store, self.events, self.upstreams, self._redis)
        self.freshness = Freshness(
            timedelta(seconds=settings.stale_after_s),
            list(self.sync.statuses.values()) if self.sync else [],
        )
        self.outbox = outbox_worker(self.store, self.upstreams)
        self._tasks: list[asyncio.Task[None]] = []
        members, orders = self.upstreams.customers, self.upstreams.orders
        self.ports: Upstreams = dataclasses.replace(
            self.store.upstreams(),
            members=members.members if members else None,
            orders=orders.orders if orders else None,
        )
        self.entity_cache: CachedUpstreams | None = None
        if settings.entity_cache:
            self.entity_cache = CachedUpstreams(
                self.ports,
                catalog_ttl=settings.entity_cache_catalog_ttl_seconds,
                stock_ttl=settings.entity_cache_stock_ttl_seconds,
                max_entries=settings.entity_cache_max_entries,
            )
            self.ports = self.entity_cache.upstreams
        caches = [lambda: ParserCache(maxsize=1000), lambda: ValidationCache(maxsize=1000)]
        warnings = partial(UpstreamWarnings, freshness=self.freshness)
        self.schema = build_schema(extensions=[ContractErrors, warnings, *caches])
        self.documents = Documents(self.schema._schema)
        self.compiled = CompiledExecutor(self.schema) if settings.compiled_execution else None
        self.response_cache: ResponseCache | None = None
        self.shared_cache: SharedResponseCache | None = None
        if settings.response_cache and self.compiled is not None:
            self.response_cache = ResponseCache(ttl_seconds=settings.response_cache_ttl_seconds)
            if settings.redis_url:
                self.shared_cache = SharedResponseCache(
                    Redis.from_url(settings.redis_url),
                    self.response_cache,
                    prefix=settings.redis_prefix,
                    on_remote_change=self._changed_elsewhere,
                )
        for topic in TOPICS:
            self.events.listen(topic, lambda event, topic=topic: self._changed(topic, event))

    def _changed(self, topic: str, event: Any) -> None:
        """An event of this process: caches of this topic forget, here and (through Redis) elsewhere."""
        if self.entity_cache is not None:
            self.entity_cache.forget(topic, event)
        if self.shared_cache is not None:
            self.shared_cache.bump(topic)
        elif self.response_cache is not None:
            self.response_cache.invalidate(topic)

    def _changed_elsewhere(self, topic: str) -> None:
        if self.entity_cache is not None:
            self.entity_cache.forget(topic)

    def poke(self, upstream: str) -> bool:
        if self.sync is None or upstream not in self.sync.upstreams:
            return False
        self.sync.poke()
        return True

    def warnings(self) -> dict[str, Any]:
        """`extensions` every answer carries now (stale upstream data), on every path."""
        found = self.freshness.warnings() if self.freshness.feeds else []
        return {"warnings": found} if found else {}

    async def start(self) -> None:
        if self.shared_cache is not None:
            await self.shared_cache.start()
        await self.store.migrate()
        if self.settings.seed_demo and await self.store.is_empty():
            log.info("empty database: seeding the demo retailer")
            await self.store.seed_demo()
        if self.sync is not None:
            await self.sync.load_positions()
            if self.settings.sync_interval_s > 0:
                self._spawn(self.sync.run_forever(self.settings.sync_interval_s))
        if self.outbox is not None and self.settings.outbox_interval_s > 0:
            self._spawn(self.outbox.run_forever(self.settings.outbox_interval_s))

    def _spawn(self, work: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(work))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.shared_cache is not None:
            await self.shared_cache.stop()
        await self.upstreams.aclose()
        if self._redis is not None:
            await self._redis.aclose()
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


def create_app(settings: Settings | None = None, *, upstreams: dict[str, Any] | None = None) -> Starlette:
    """`upstreams` hands in already connected upstreams by name (tests, benchmarks)."""
    settings = settings or Settings()
    gateway = Gateway(settings, upstreams)
    graphql = GatewayGraphQL(gateway, graphql_ide="graphiql" if settings.graphiql else None)
    secret = settings.integration_token.get_secret_value() if settings.integration_token else None
    hook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    webhooks = Webhooks(hook_secret, settings.webhook_tolerance_s, gateway.poke)

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
            Route(
                "/graphql",
                GraphQLEndpoint(
                    graphql,
                    gateway.documents,
                    gateway.compiled,
                    gateway.response_cache,
                    gateway.shared_cache,
                    warnings=gateway.warnings,
                ),
                methods=["GET", "POST"],
            ),
            Route("/webhooks/{upstream}", webhooks.endpoint, methods=["POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            Middleware(RequestId),
            Middleware(AuthenticationMiddleware, backend=TokenBackend(secret), on_error=unauthenticated),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
