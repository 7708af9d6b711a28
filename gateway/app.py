"""The ASGI app: GraphQL at /graphql, health at /healthz and /readyz, metrics at /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar

import orjson
from cross_web import HTTPException
from graphql import OperationType, get_operation_ast
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Scope
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport, SSETransport
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)

from adapters import faults
from adapters.cached import CachedUpstreams
from adapters.payments import open_payments
from adapters.ports.upstreams import Upstreams
from adapters.profiles import ProfileOwners
from adapters.records import InventoryLevelRecord
from adapters.store import Store, backups, open_store
from adapters.store.notifications import DatabaseChanges
from gateway import console, graphiql
from gateway.auth import (
    TokenBackend,
    connection_authorization,
    issuer_from,
    principals_from,
    unauthenticated,
    verifier_from,
    with_local_signing_key,
)
from gateway.context import Context
from gateway.csrf import CsrfPrevention
from gateway.documents import DocumentCache, Documents
from gateway.endpoint import GRAPHQL_RESPONSE, GraphQLEndpoint, response_media, stream_protocol
from gateway.errors import ContractErrors, contract_error
from gateway.events import InProcessEventBus
from gateway.fanout import Fanout, GroupedTransportWS
from gateway.freshness import Freshness
from gateway.headers import HeaderLimits
from gateway.heap import freeze_startup_heap
from gateway.logs import hide_query_strings
from gateway.lookups import CodeLookupThrottle
from gateway.metrics import Metrics, OperationMetrics, Scrapes
from gateway.middleware import RequestId, client_address, request_id_of
from gateway.overload import Capacity, LoadShedding
from gateway.pricing import InContextPricing, PricedExecutor
from gateway.protections import Protections
from gateway.redis_events import RedisEventBus
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from gateway.shared_cache import TOPICS, SharedResponseCache
from gateway.sign_in import SignInThrottle
from gateway.sse import SERVED, TRANSPORTS, EventStreams
from gateway.subscribers import Subscribers, is_websocket
from gateway.sweeper import sweep_every, sweep_once
from gateway.text import NulInLiterals, NulInVariables
from gateway.tracing import Tracing
from gateway.upstreams import connect_upstreams
from gateway.warnings import UpstreamWarnings
from gateway.webhooks import Webhooks
from gateway.workers import outbox_worker, read_model_sync
from resolvers.events import CatalogChanged, StockChanged, SyncRequested
from resolvers.loaders import Loaders
from resolvers.principal import SYSTEM, Principal
from resolvers.sweeper import SweepReport, sweep
from resolvers.triggers import TriggerReport, run_triggers
from schema import build_schema

log = logging.getLogger("omnigate")


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


class Gateway:
    """What lives as long as the process: settings, the store, the upstreams, the event bus,
    the schema and its protections, the caches, and the background workers (change-feed
    polling, outbox delivery)."""

    def __init__(self, settings: Settings, upstreams: dict[str, Any] | None = None) -> None:
        settings = with_local_signing_key(settings)
        self.settings = settings
        self.policy = settings.commerce_policy()
        self.store: Store = open_store(
            settings.resolved_database_url,
            currency_code=settings.currency_code,
            pool_size=settings.database_pool_size,
        )
        self.auth = TokenBackend(
            principals_from(settings), verifier_from(settings), max_chars=settings.max_credential_chars
        )
        queue_size = settings.subscription_queue_size
        self.events: InProcessEventBus = (
            RedisEventBus(
                # A Redis that hangs must not hold a mutation's publish for long.
                Redis.from_url(settings.redis_url, socket_connect_timeout=2, health_check_interval=30),
                f"{settings.redis_prefix}events",
                queue_size,
            )
            if settings.redis_url
            else InProcessEventBus(queue_size)
        )
        self.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        self.subscribers = Subscribers()
        # The upstream systems configuration names, and the ports the use cases read through.
        self.upstreams = connect_upstreams(settings, **(upstreams or {}))
        self.sync = read_model_sync(settings, self.store, self.events, self.upstreams, self.redis)
        if self.sync is not None:
            self.events.listen("sync", self.sync.heard)
        self.freshness = Freshness(
            timedelta(seconds=settings.stale_after_s),
            list(self.sync.statuses.values()) if self.sync else [],
        )
        self.outbox = outbox_worker(
            settings, self.store, self.upstreams, webhooks=settings.marketing_triggers_seconds > 0
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._held = ExitStack()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.tokens = issuer_from(settings)
        self.sign_in_throttle = SignInThrottle(
            settings.sign_in_failures_per_account,
            settings.sign_in_failures_per_address,
            settings.sign_in_period_seconds,
            self.redis,
            settings.redis_prefix,
        )
        self.gift_card_lookups = CodeLookupThrottle(
            "giftcard",
            settings.gift_card_lookups_per_caller,
            settings.gift_card_lookup_period_seconds,
            self.redis,
            settings.redis_prefix,
        )
        self.payments = open_payments(
            self.store.gift_cards,
            card_provider=settings.payment_provider,
            decline_all=settings.payments_test_decline_all,
            loyalty=self.store.loyalty,
            test_ledger=settings.payments_test_ledger,
            test_latency_s=settings.payments_test_latency_ms / 1000,
        )
        faults.arm(settings.test_fault)
        members, orders = self.upstreams.customers, self.upstreams.orders
        self.ports: Upstreams = dataclasses.replace(
            self.store.upstreams(self.payments),
            members=ProfileOwners(members.members, self.store.profiles) if members else self.store.members,
            # A CRM's members sign in with the CRM: the gateway's passwords name its own members.
            member_credentials=None if members else self.store.members,
            order_sink=orders.orders if orders else None,
            outbox=self.outbox,
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
        self.capacity = Capacity(settings.max_concurrent_requests, settings.overload_queue_seconds)
        self.metrics = Metrics(self._readings) if settings.metrics_enabled else None
        if self.metrics is not None:
            self.upstreams.observe(self.metrics.upstream_call)
        if self.metrics is not None and self.outbox is not None:
            metrics = self.metrics
            self.outbox.on_stats = lambda s: metrics.outbox(s.backlog, s.oldest_age_s, s.dead)
            self.outbox.on_failure = metrics.outbox_failure
        self._stop_metrics_port: Callable[[], None] | None = None
        extensions: list[Any] = [
            ContractErrors,
            lambda: DocumentCache(self.documents),
            NulInVariables,
            InContextPricing,
            partial(UpstreamWarnings, freshness=self.freshness),
        ]
        self.schema = build_schema(
            extensions=extensions, federation=settings.federation, hide_suggestions=not settings.dev_mode
        )
        self.protections = Protections(settings, self.schema._schema, self.redis)
        extensions += self.protections.extensions()
        if self.metrics is not None:
            extensions.append(lambda: OperationMetrics(self.metrics))
        self.tracing = Tracing(
            settings.tracing,
            otlp_endpoint=settings.tracing_otlp_endpoint,
            console=settings.tracing_console,
            service_name=settings.tracing_service_name,
        )
        self.tracing.instrument_engine(self.store.engine)
        if self.tracing.extension is not None:
            extensions.append(self.tracing.extension)
        self.schema.extensions = tuple(extensions)  # the protections needed the built schema
        self.documents = Documents(
            self.schema._schema,
            rules=[NulInLiterals],
            limit_rules=self.protections.rules(),
            max_tokens=settings.max_tokens,
            max_length=settings.max_document_chars,
            hide_suggestions=not settings.dev_mode,
        )
        self.fanout = Fanout(self.documents, queue_size)
        self.compiled = (
            PricedExecutor(
                self.schema,
                verify=settings.compiled_verify,
                tracing=self.tracing if self.tracing.enabled else None,
            )
            if settings.compiled_execution
            else None
        )
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
            self.events.listen(topic, partial(self._changed, topic), remote=False)
            self.events.listen(topic, partial(self._changed_in_other_process, topic), local=False)
        # Rows written around the gateway (an ERP, a till) on PostgreSQL: each process hears them
        # itself, so they are delivered here only, never shared through Redis again.
        self.database_changes: DatabaseChanges | None = None
        if settings.database_notifications and self.store.dialect == "postgresql":
            self.database_changes = DatabaseChanges(
                self.store.engine.url, self._stock_written_elsewhere, self._catalog_written_elsewhere,
                self._changes_missed,
            )  # fmt: skip

    @property
    def active_subscriptions(self) -> int:
        return self.events.subscribers

    @property
    def subscribers_dropped(self) -> int:
        return self.events.dropped + self.fanout.dropped

    def _changed(self, topic: str, event: Any) -> None:
        """An event of this process: caches of this topic forget, here and (through Redis) elsewhere."""
        if self.entity_cache is not None:
            self.entity_cache.forget(topic, event)
        if self.shared_cache is not None:
            self.shared_cache.bump(topic)
        elif self.response_cache is not None:
            self.response_cache.invalidate(topic)

    def _changed_in_other_process(self, topic: str, event: Any) -> None:
        """An event pushed from another process: forget the records it names here, so that a
        subscriber reading them now reads them fresh. Nothing is bumped or published again; the
        response caches learn it from the shared generations when there are any."""
        if self.entity_cache is not None:
            self.entity_cache.forget(topic, event)
        if self.shared_cache is None and self.response_cache is not None:
            self.response_cache.invalidate(topic)

    def _changed_elsewhere(self, topic: str) -> None:
        if self.entity_cache is not None:
            self.entity_cache.forget(topic)

    def _stock_written_elsewhere(self, level: InventoryLevelRecord) -> None:
        self.events.deliver(StockChanged.of(level, "EXTERNAL"), remote=False)

    def _catalog_written_elsewhere(self, product_id: int) -> None:
        self.events.deliver(CatalogChanged((product_id,), "EXTERNAL", self.clock()), remote=False)

    def _changes_missed(self) -> None:
        """The listener was away: whatever changed meanwhile, no cached copy is trusted."""
        for topic in ("stock", "catalog"):
            self._changed(topic, None)

    def context(
        self, principal: Principal, request_id: str, request: Any = None, response: Any = None
    ) -> Context:
        return Context(
            request_id=request_id,
            principal=principal,
            upstreams=self.ports,
            loaders=Loaders.for_request(self.ports, self.clock),
            events=self.events,
            policy=self.policy,
            request=request,
            response=response,
            clock=self.clock,
            issue_member_token=self.tokens.member if self.tokens else None,
            client_address=client_address(request.scope) if request is not None else None,
            sign_in_throttle=self.sign_in_throttle,
            gift_card_lookups=self.gift_card_lookups,
        )

    async def sweep(self) -> SweepReport:
        """Release what expired, once (the background task calls this on its interval)."""
        return await sweep(self.context(SYSTEM, "sweeper"))

    async def run_triggers(self) -> TriggerReport:
        """Look for behavioral triggers' occasions once and queue their webhooks."""
        report = await run_triggers(self.context(SYSTEM, "triggers"))
        if report.queued and self.outbox is not None:
            self.outbox.wake.set()
        return report

    async def poke(self, upstream: str) -> bool:
        """An upstream's webhook: whichever process leads the polling polls it now (the bus
        carries the request to every process); with no polling loop, this process polls once
        itself, under the lock. False when no feed reads from `upstream`."""
        if self.sync is None or upstream not in self.sync.upstreams:
            return False
        await self.events.publish(SyncRequested(upstream, self.clock()))
        if self.settings.sync_interval_s == 0:
            self.sync.poll_soon()
        return True

    def upstream_report(self) -> dict[str, dict[str, Any]]:
        """Per configured upstream: its roles, circuit, last success and failure, and each feed's
        last sync and lag (seconds), for /readyz."""
        now = datetime.now(UTC)
        stale = {(f.upstream, f.data) for f in self.freshness.stale(now)} if self.freshness.feeds else set()
        report: dict[str, dict[str, Any]] = {}
        for name, upstream in self.upstreams.by_name.items():
            guard = getattr(upstream, "guard", None)
            if guard is None:
                continue
            health = guard.health
            report[name] = {
                "roles": self.upstreams.roles_of(name),
                "available": health.available,
                "circuit": health.breaker,
                "lastSuccess": _iso(health.last_ok),
                "lastFailure": _iso(health.last_failure),
                "lastError": health.last_error,
                "feeds": {},
            }
        for feed in self.freshness.feeds:
            entry = report.setdefault(feed.upstream, {"feeds": {}})
            lag = (now - feed.synced_at).total_seconds() if feed.synced_at else None
            entry["feeds"][feed.data] = {
                "syncedAt": _iso(feed.synced_at),
                "lagSeconds": None if lag is None else round(lag, 3),
                "lastError": feed.last_error,
                "stale": (feed.upstream, feed.data) in stale,
            }
        return report

    def warnings(self) -> dict[str, Any]:
        """`extensions` every answer carries now (stale upstream data), on every path."""
        found = self.freshness.warnings() if self.freshness.feeds else []
        return {"warnings": found} if found else {}

    async def start(self) -> None:
        if self.store.sqlite_file is not None:  # `omnigate restore` refuses while this is held
            self._held.enter_context(backups.running(self.store.sqlite_file))
        if self.settings.dev_mode:
            log.warning("dev mode: introspection is open to every caller and nothing is rate limited")
        if self.metrics is not None and self.settings.metrics_port is not None:
            host = self.settings.metrics_host or self.settings.host
            self._stop_metrics_port = self.metrics.serve_on_port(self.settings.metrics_port, host)
        elif self.metrics is not None and self.settings.metrics_token is None and not self.settings.dev_mode:
            log.warning("/metrics is public on the API's port (GATEWAY_METRICS=true without a token or port)")
        await self.events.start()
        if self.shared_cache is not None:
            await self.shared_cache.start()
        await self.store.migrate()
        if self.settings.seeds_demo and await self.store.is_empty():
            log.info("empty database: seeding the demo retailer")
            await self.store.seed_demo(history=True)
            await self.sweep()  # the past orders' loyalty points, at this gateway's earn rate
        if self.settings.seed_demo and not self.settings.dev_mode:
            log.warning(
                "GATEWAY_SEED_DEMO=true in production mode: the demo retailer is seeded into an empty "
                "database, with demo member accounts whose password is published (omnigate-demo). "
                "Never do this on a gateway that serves real shoppers."
            )
        if self.database_changes is not None:
            self._spawn(self.database_changes.run_forever())
            try:  # ready once it listens; a database that refuses it now is retried meanwhile
                await asyncio.wait_for(self.database_changes.listening.wait(), timeout=2)
            except TimeoutError:
                log.warning("not listening for database changes yet; serving meanwhile")
        if self.sync is not None:
            await self.sync.load_positions()
            if self.settings.sync_interval_s > 0:
                self._spawn(self.sync.run_forever(self.settings.sync_interval_s))
        if self.outbox is not None and self.settings.outbox_interval_s > 0:
            self._spawn(self.outbox.run_forever(self.settings.outbox_interval_s))
        if self.settings.marketing_triggers_seconds > 0:
            self._spawn(sweep_every(self.run_triggers, self.settings.marketing_triggers_seconds))
        if self.settings.reservation_sweep_seconds > 0:
            await sweep_once(self.sweep, self.settings.reservation_sweep_seconds)  # what expired while down
            self._spawn(sweep_every(self.sweep, self.settings.reservation_sweep_seconds))

    def _spawn(self, work: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(work))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.sync is not None:
            await self.sync.stop()
        if self.shared_cache is not None:
            await self.shared_cache.stop()
        await self.events.stop()
        await self.upstreams.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.store.close()
        if self._stop_metrics_port is not None:
            self._stop_metrics_port()
        self._held.close()

    def _readings(self) -> list[tuple[str, str, str, float]]:
        cache, compiled = self.response_cache, self.compiled
        limiter, persisted = self.protections.limiter, self.protections.persisted
        return [
            ("counter", "omnigate_response_cache_hits", "Answers served from the response cache",
             cache.hits if cache else 0),
            ("counter", "omnigate_response_cache_misses", "Response cache lookups that missed",
             cache.misses if cache else 0),
            ("counter", "omnigate_compiled_operations", "Operations run by the compiled executor",
             compiled.compiled if compiled else 0),
            ("counter", "omnigate_compiled_fallbacks", "Operations the compiled executor handed back",
             compiled.fallbacks if compiled else 0),
            ("counter", "omnigate_compiled_mismatches",
             "Compiled answers the standard executor did not give (GATEWAY_COMPILED_VERIFY)",
             compiled.mismatch_count if compiled else 0),
            ("counter", "omnigate_rate_limited", "Operations refused by the rate limit", limiter.rejections),
            ("counter", "omnigate_rate_limit_store_errors", "Rate-limit checks that could not reach Redis",
             limiter.errors),
            ("counter", "omnigate_untrusted_documents", "Operations outside the trusted-documents manifest",
             persisted.untrusted),
            ("gauge", "omnigate_active_subscriptions", "Open GraphQL subscriptions",
             self.active_subscriptions),
            ("counter", "omnigate_subscribers_dropped", "Subscriptions ended for falling behind",
             self.subscribers_dropped),
            ("counter", "omnigate_events_received", "Events received from other gateway processes",
             self.events.received),
            ("counter", "omnigate_requests_shed", "Requests refused at capacity", self.capacity.shed),
            ("counter", "omnigate_database_notifications",
             "Stock and catalog changes made around the gateway, heard from PostgreSQL",
             self.database_changes.received if self.database_changes else 0),
        ]  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def healthz(_request: Request) -> Response:
    # Which process answered: behind one port (`omnigate serve --workers N`), each is its own.
    return JSONResponse({"status": "ok", "process": os.getpid()})


def _home_links(settings: Settings) -> dict[str, str]:
    links = {"graphql": "/graphql"}
    if settings.serves_graphiql:
        links["graphiql"] = "/graphql"  # a browser's GET of /graphql opens GraphiQL
    links["health"] = "/healthz"
    return links


async def home(request: Request) -> Response:
    """`/`: where the API is. A small page for a browser, JSON for anything else."""
    settings: Settings = request.app.state.gateway.settings
    links = _home_links(settings)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"name": "Omnigate", **links})
    api = links["graphql"]
    items = [f'<li>GraphQL API: <a href="{api}">{api}</a> (POST, or GET for queries)</li>']
    if "graphiql" in links:
        items.append(f'<li>GraphiQL, to explore the schema and run queries: <a href="{links["graphiql"]}">'
                     f"{links['graphiql']}</a></li>")  # fmt: skip
    items.append(f'<li>Health: <a href="{links["health"]}">{links["health"]}</a></li>')
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Omnigate</title></head>'
        f"<body><h1>Omnigate</h1><p>A GraphQL commerce gateway.</p><ul>{''.join(items)}</ul></body></html>"
    )
    return HTMLResponse(page)


async def readyz(request: Request) -> Response:
    """Ready while the gateway's own database answers. Each upstream is reported (circuit, last
    success and failure, each feed's sync lag) but never fails readiness: with the ERP down the
    gateway still serves its read model, with warnings, and taking it out of rotation would
    turn a degraded shop into a closed one."""
    gateway = request.app.state.gateway
    upstreams = gateway.upstream_report()
    degraded = any(
        not u.get("available", True) or any(f["stale"] for f in u["feeds"].values())
        for u in upstreams.values()
    )
    try:
        await gateway.store.ping()
    except Exception as exc:  # any failure means "do not send traffic here"
        log.warning("not ready: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "upstreams": upstreams}, status_code=503
        )
    status = "degraded" if degraded else "ok"
    return JSONResponse({"status": status, "database": "ok", "upstreams": upstreams})


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
