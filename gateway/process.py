"""One gateway process's parts, wired from settings and started and stopped together: the store,
the upstreams, the event bus, the schema and its protections, the caches, the background workers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from redis.asyncio import Redis

from adapters import faults
from adapters.cached import CachedUpstreams
from adapters.payments import open_payments
from adapters.ports.upstreams import Upstreams
from adapters.profiles import ProfileOwners
from adapters.records import InventoryLevelRecord
from adapters.store import Store, backups, open_store
from adapters.store.notifications import DatabaseChanges
from gateway.caching.response_cache import ResponseCache
from gateway.caching.shared_cache import TOPICS, SharedResponseCache
from gateway.context import Context
from gateway.errors import ContractErrors
from gateway.events.bus import InProcessEventBus
from gateway.events.redis_bus import RedisEventBus
from gateway.identity.auth import (
    TokenBackend,
    issuer_from,
    principals_from,
    verifier_from,
    with_local_signing_key,
)
from gateway.identity.sign_in import SignInThrottle
from gateway.pricing import InContextPricing, PricedExecutor
from gateway.protections.checks import Protections
from gateway.protections.documents import DocumentCache, Documents
from gateway.protections.lookups import CodeLookupThrottle
from gateway.protections.text import NulInLiterals, NulInVariables
from gateway.running.metrics import Metrics, OperationMetrics
from gateway.running.sweeper import sweep_every, sweep_once
from gateway.running.tracing import Tracing
from gateway.running.workers import outbox_worker, read_model_sync
from gateway.settings import Settings
from gateway.transport.fanout import Fanout
from gateway.transport.middleware import client_address
from gateway.transport.overload import Capacity
from gateway.transport.subscribers import Subscribers
from gateway.upstreams.connect import connect_upstreams
from gateway.upstreams.freshness import Freshness
from gateway.upstreams.warnings import UpstreamWarnings
from resolvers.events import CatalogChanged, StockChanged, SyncRequested
from resolvers.loaders import Loaders
from resolvers.principal import SYSTEM, Principal
from resolvers.sweeper import SweepReport, sweep
from resolvers.triggers import TriggerReport, run_triggers
from schema import build_schema

log = logging.getLogger("omnigate")


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
