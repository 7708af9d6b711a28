"""The order's messages to the ERP, written into the outbox in the transaction that makes the
change: the order placed (ORDER_PUSH_TOPIC), and what happens to it afterwards."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.commerce import FulfillmentStatus, order_number
from adapters.records import (
    ORDER_FULFILLMENT_TOPIC,
    ORDER_PUSH_TOPIC,
    ORDER_RETURN_TOPIC,
    Address,
    MemberDraft,
    Money,
    OrderLinePush,
    OrderPush,
    erp_reference,
)
from adapters.store.outbox import enqueue
from adapters.store.tables import locations, order_fulfillments, order_lines, orders, outbox, return_lines

# What a fulfillment's new status tells the ERP: its goods left, or they never will.
_LEFT = frozenset({FulfillmentStatus.SHIPPED, FulfillmentStatus.PICKED_UP, FulfillmentStatus.SOLD})
_WONT = frozenset({FulfillmentStatus.CANCELLED, FulfillmentStatus.RELEASED, FulfillmentStatus.EXPIRED})


async def _pushed(conn: Any, order_id: int) -> bool:
    """The ERP has the order, or will: what happens to it afterwards follows it there."""
    found = await conn.scalar(
        sa.select(outbox.c.id)
        .where(outbox.c.order_id == order_id, outbox.c.topic == ORDER_PUSH_TOPIC)
        .limit(1)
    )
    return found is not None


async def enqueue_fulfillment_changes(
    conn: Any, order_id: int, changes: list[tuple[int, FulfillmentStatus]]
) -> list[int]:
    """Each fulfillment whose goods left (shipped, picked up, sold at the till) or never will
    (cancelled, released, expired): one message, in the transaction that changed it."""
    wanted = [(fid, status) for fid, status in changes if status in _LEFT | _WONT]
    if not wanted or not await _pushed(conn, order_id):
        return []
    ids = []
    for fulfillment_id, status in wanted:
        lines = await conn.execute(
            sa.select(order_lines.c.sku, order_lines.c.quantity)
            .where(order_lines.c.fulfillment_id == fulfillment_id)
            .order_by(order_lines.c.position)
        )
        payload = {
            "order_id": order_id,
            "reference": erp_reference(order_number(order_id)),
            "fulfillment_id": fulfillment_id,
            "event": "shipped" if status in _LEFT else "cancelled",
            "status": status.value,
            "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in lines],
        }
        ids.append(await enqueue(conn, ORDER_FULFILLMENT_TOPIC, payload, order_id=order_id))
    return ids


async def enqueue_return(
    conn: Any, order_id: int, return_id: int, refund_minor: int, currency: str
) -> int | None:
    """Goods came back (and what was refunded): one message for the ERP's return."""
    if not await _pushed(conn, order_id):
        return None
    lines = await conn.execute(
        sa.select(order_lines.c.sku, return_lines.c.quantity)
        .select_from(return_lines.join(order_lines, order_lines.c.id == return_lines.c.order_line_id))
        .where(return_lines.c.return_id == return_id)
        .order_by(return_lines.c.id)
    )
    payload = {
        "order_id": order_id,
        "reference": erp_reference(order_number(order_id)),
        "return_id": return_id,
        "refund": str(Money.from_minor(refund_minor, currency).amount),
        "currency_code": currency,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in lines],
    }
    return await enqueue(conn, ORDER_RETURN_TOPIC, payload, order_id=order_id)


async def enqueue_order_push(conn: Any, order_id: int) -> int:
    """The placed order as the ERP's sale, from the rows this transaction wrote."""
    push = await order_push(conn, order_id)
    payload = {**push.to_payload(), "order_id": order_id}
    return await enqueue(conn, ORDER_PUSH_TOPIC, payload, order_id=order_id)


async def order_push(conn: Any, order_id: int) -> OrderPush:
    order = (await conn.execute(sa.select(orders).where(orders.c.id == order_id))).one()
    lines = list(
        await conn.execute(
            sa.select(order_lines.c.sku, order_lines.c.quantity, order_lines.c.unit_price_minor)
            .where(order_lines.c.order_id == order_id)
            .order_by(order_lines.c.position)
        )
    )
    # One sale has one warehouse: the location of the order's first fulfillment.
    code = await conn.scalar(
        sa.select(locations.c.code)
        .select_from(order_fulfillments.join(locations, locations.c.id == order_fulfillments.c.location_id))
        .where(order_fulfillments.c.order_id == order_id)
        .order_by(order_fulfillments.c.id)
        .limit(1)
    )
    buyer = order.buyer or {}
    address = order.shipping_address
    return OrderPush(
        reference=erp_reference(order_number(order.id)),
        customer=MemberDraft(
            email=order.email or "",
            first_name=buyer.get("first_name") or "",
            last_name=buyer.get("last_name") or "",
            phone=buyer.get("phone"),
            address=Address(**address) if address else None,
        ),
        lines=tuple(
            OrderLinePush(ln.sku, ln.quantity, Money.from_minor(ln.unit_price_minor, order.currency_code))
            for ln in lines
        ),
        currency_code=order.currency_code,
        location_code=code,
    )
