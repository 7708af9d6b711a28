"""The order's messages to the ERP, written into the outbox in the transaction that makes the
change: the order placed (ORDER_PUSH_TOPIC), and what happens to it afterwards."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.commerce import order_number
from adapters.records import (
    ORDER_PUSH_TOPIC,
    Address,
    MemberDraft,
    Money,
    OrderLinePush,
    OrderPush,
    erp_reference,
)
from adapters.store.outbox import enqueue
from adapters.store.tables import locations, order_fulfillments, order_lines, orders


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
