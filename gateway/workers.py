"""The gateway's background work, wired from configuration: the read-model sync (with its
polling leadership) and the outbox worker that pushes orders to the order sink and delivers
behavioral triggers' webhooks."""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.records import ORDER_PUSH_TOPIC, WEBHOOK_TOPIC, OrderPush
from adapters.store import Store
from adapters.store.outbox import OutboxWorker
from gateway.leader import Leadership, RedisLeadership, SoleProcess
from gateway.marketing_webhooks import WebhookDelivery
from gateway.settings import Settings
from gateway.sync import ReadModelSync
from gateway.upstreams import ConnectedUpstreams
from resolvers.events import EventPublisher


def read_model_sync(
    settings: Settings,
    store: Store,
    events: EventPublisher,
    upstreams: ConnectedUpstreams,
    redis: Any,
) -> ReadModelSync | None:
    catalog, inventory = upstreams.catalog, upstreams.inventory
    if catalog is None and inventory is None:
        return None
    return ReadModelSync(
        store,
        events,
        catalog=(catalog.name, catalog.catalog, catalog.guard.health) if catalog else None,
        stock=(inventory.name, inventory.stock, inventory.guard.health) if inventory else None,
        leadership=leadership(settings, redis),
    )


def leadership(settings: Settings, redis: Any) -> Leadership:
    if redis is None:
        return SoleProcess()
    ttl = max(3 * settings.sync_interval_s, 10.0)
    # One leader per read model: the processes sharing a database share the lock.
    database = hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]
    return RedisLeadership(redis, f"{settings.redis_prefix}read-model-sync:{database}", ttl)


def outbox_worker(store: Store, upstreams: ConnectedUpstreams, webhooks: bool = False) -> OutboxWorker | None:
    """Orders to the order sink (if any); behavioral triggers' webhooks when they are on."""
    sink = upstreams.orders
    handlers: dict[str, Any] = {}
    if sink is not None:

        async def push_order(payload: dict[str, Any]) -> Any:
            return await sink.orders.push_order(OrderPush.from_payload(payload))

        handlers[ORDER_PUSH_TOPIC] = push_order
    if webhooks:
        handlers[WEBHOOK_TOPIC] = WebhookDelivery(store.triggers)
    return OutboxWorker(store, handlers) if handlers else None
