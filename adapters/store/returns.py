"""Returns in the gateway's database: the return, its restock and exchanges in one
transaction, under the order's lock; refunds are recorded once the payment port answers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.commerce import FulfillmentStatus, OrderStatus, RefundStatus, order_number
from adapters.ports.orders import ReturnDraft, Returned
from adapters.ports.refused import Refused
from adapters.records import InventoryReason
from adapters.store import stock_moves
from adapters.store.order_rows import lock_order, return_from_row
from adapters.store.tables import order_fulfillments, order_lines, payments, return_lines, returns


async def create(conn: Any, draft: ReturnDraft, actor: str, now: datetime) -> Returned:
    order = await lock_order(conn, draft.order_id)
    if order.status == OrderStatus.PENDING_PAYMENT.value:
        raise Refused("ORDER_NOT_FOUND", "no such order")
    lines = {
        r.id: r
        for r in await conn.execute(sa.select(order_lines).where(order_lines.c.order_id == draft.order_id))
    }
    statuses = {
        r.id: FulfillmentStatus(r.status)
        for r in await conn.execute(
            sa.select(order_fulfillments.c.id, order_fulfillments.c.status).where(
                order_fulfillments.c.order_id == draft.order_id
            )
        )
    }
    returned: dict[int, int] = defaultdict(int)
    for r in await conn.execute(
        sa.select(return_lines.c.order_line_id, return_lines.c.quantity)
        .join(returns, returns.c.id == return_lines.c.return_id)
        .where(returns.c.order_id == draft.order_id)
    ):
        returned[r.order_line_id] += r.quantity
    for index, wanted in enumerate(draft.lines):
        line = lines.get(wanted.order_line_id)
        if line is None:
            raise Refused("ORDER_LINE_NOT_FOUND", "the order has no such line", index)
        if statuses[line.fulfillment_id] not in draft.returnable:
            raise Refused("NOT_RETURNABLE", "this line has not been handed to the customer", index)
        left = line.quantity - returned[line.id]
        if wanted.quantity > left:
            raise Refused("RETURN_QUANTITY_EXCEEDED", f"{left} of this line can come back", index)
        returned[line.id] += wanted.quantity

    refund_status = RefundStatus.PENDING if draft.refund_minor else RefundStatus.NONE
    row = (
        await conn.execute(
            sa.insert(returns)
            .values(
                order_id=draft.order_id,
                location_id=draft.location_id,
                reason=draft.reason,
                actor=actor,
                refund_minor=draft.refund_minor,
                refund_status=refund_status.value,
                created_at=now,
            )
            .returning(*returns.c)
        )
    ).one()
    await conn.execute(
        sa.insert(return_lines),
        [
            {"return_id": row.id, "order_line_id": w.order_line_id,
             "quantity": w.quantity, "exchange_variant_id": w.exchange_variant_id}
            for w in draft.lines
        ],
    )  # fmt: skip
    # Returned units go back on the shelf where they were brought; exchanges leave it.
    moves: list[tuple[tuple[int, int], int, int]] = []
    for index, w in enumerate(draft.lines):
        moves.append(((lines[w.order_line_id].variant_id, draft.location_id), w.quantity, index))
        if w.exchange_variant_id is not None:
            moves.append(((w.exchange_variant_id, draft.location_id), -w.quantity, index))
    back, out = [], []
    for key, delta, index in sorted(moves):
        if delta > 0:
            back.append((await stock_moves.restock(conn, key, delta, now), delta))
            continue
        level = await stock_moves.take_from_shelf(conn, key, -delta, now)
        if level is None:
            raise Refused("INSUFFICIENT_STOCK", "the exchange variant is not available here", index)
        out.append((level, delta))
    reference = f"return:{row.id} order:{order_number(draft.order_id)}"
    await stock_moves.record(conn, back, InventoryReason.RETURN_RESTOCK, reference, actor, now)
    await stock_moves.record(conn, out, InventoryReason.SALE, reference, actor, now)
    return Returned(return_from_row(row, order.currency_code), stock_moves.latest(lv for lv, _ in back + out))


async def record_refund(
    conn: Any,
    payment_id: int | None,
    return_id: int | None,
    amount_minor: int,
    status: RefundStatus,
) -> None:
    if payment_id is not None and status is RefundStatus.REFUNDED:
        await conn.execute(
            sa.update(payments)
            .where(payments.c.id == payment_id)
            .values(refunded_minor=payments.c.refunded_minor + amount_minor)
        )
    if return_id is not None:
        await conn.execute(
            sa.update(returns).where(returns.c.id == return_id).values(refund_status=status.value)
        )
