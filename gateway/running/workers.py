"""The gateway's background work, wired from configuration: the read-model sync (with its
polling leadership) and the outbox worker that pushes orders to the order sink and delivers
behavioral triggers' webhooks."""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.ports.marketing import WEBHOOK_TOPIC
from adapters.records import ORDER_FULFILLMENT_TOPIC, ORDER_PUSH_TOPIC, ORDER_RETURN_TOPIC, OrderPush
from adapters.store import Store
from adapters.store.outbox import OutboxWorker, Undeliverable
from gateway.running.marketing_webhooks import WebhookDelivery
from gateway.settings import Settings
from gateway.upstreams.connect import ConnectedUpstreams
from gateway.upstreams.leader import Leadership, RedisLeadership, SoleProcess
from gateway.upstreams.sync import ReadModelSync
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


def outbox_worker(
    settings: Settings, store: Store, upstreams: ConnectedUpstreams, webhooks: bool = False
) -> OutboxWorker | None:
    """Orders and their changes to the order sink (if any); behavioral triggers' webhooks when
    they are on."""
    sink = upstreams.orders
    handlers: dict[str, Any] = {}
    if webhooks:
        handlers[WEBHOOK_TOPIC] = WebhookDelivery(store.triggers)
    if sink is not None:
        handlers.update(_order_handlers(store, sink))
    if not handlers:
        return None
    return OutboxWorker(
        store,
        handlers,
        backoff=settings.outbox_backoff_s,
        backoff_max=settings.outbox_backoff_max_s,
        max_attempts=settings.outbox_max_attempts,
    )


def _order_handlers(store: Store, sink: Any) -> dict[str, Any]:
    """The outbox topics of the ERP that receives orders: the order, its fulfilment changes and
    its returns, each a message of its own."""

    async def push_order(payload: dict[str, Any]) -> Any:
        push = OrderPush.from_payload(payload)
        if not push.customer.email:
            raise Undeliverable("the order has no customer email: the ERP keeps customers by email")
        pushed = await sink.orders.push_order(push)
        if isinstance(payload.get("order_id"), int):
            await store.orders.record_erp_state(payload["order_id"], pushed.external_id, pushed.state)
        return pushed

    async def fulfillment(payload: dict[str, Any]) -> Any:
        changed = getattr(sink.orders, "fulfillment_changed", None)
        if changed is None:  # nothing to tell an ERP that takes orders only
            return {"skipped": f"the {sink.name} adapter takes no fulfilment messages"}
        lines = [(ln["sku"], int(ln["quantity"])) for ln in payload["lines"]]
        return await changed(payload["reference"], payload["event"], lines)

    async def returned(payload: dict[str, Any]) -> Any:
        received = getattr(sink.orders, "order_returned", None)
        if received is None:
            return {"skipped": f"the {sink.name} adapter takes no return messages"}
        lines = [(ln["sku"], int(ln["quantity"])) for ln in payload["lines"]]
        return await received(payload["reference"], f"{payload['reference']}-R{payload['return_id']}", lines)

    return {ORDER_PUSH_TOPIC: push_order, ORDER_FULFILLMENT_TOPIC: fulfillment, ORDER_RETURN_TOPIC: returned}
