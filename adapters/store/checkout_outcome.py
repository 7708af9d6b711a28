"""A placed checkout finished: confirmed once its payment is taken, abandoned when it is not.

Confirming makes the order PLACED, records one payment per tender, applies each fulfillment's
first stock effect and completes the cart; abandoning gives the stock back (cart lines their
holds), reopens the cart and deletes the order, in one transaction. A checkout left pending by a
process that died is claimed by whoever finishes it (the sweeper or the client's retry).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters import faults
from adapters.commerce import (
    CartStatus,
    FulfillmentMode,
    FulfillmentStatus,
    OrderRecord,
    OrderStatus,
    StockEffect,
)
from adapters.ports.orders import OrderStatusRule, PaymentDraft, Placed
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.checkout_attempts import COMPLETED, FAILED
from adapters.store.erp_messages import enqueue_order_push
from adapters.store.order_rows import apply_effect, lock_order, order_from_row, settle_order_status
from adapters.store.tables import (
    carts,
    idempotency_keys,
    loyalty_entries,
    order_fulfillments,
    order_lines,
    order_status_changes,
    orders,
    payments,
    reservations,
)


async def confirm(
    conn: Any,
    order_id: int,
    taken: Sequence[PaymentDraft],
    initial: dict[FulfillmentMode, tuple[FulfillmentStatus, StockEffect]],
    status_rule: OrderStatusRule,
    actor: str,
    now: datetime,
    *,
    push_to_erp: bool = False,
) -> Placed:
    order = await lock_order(conn, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT.value:
        return Placed(order_from_row(order), [])  # a racing call confirmed it already
    fulfillments = list(
        await conn.execute(sa.select(order_fulfillments).where(order_fulfillments.c.order_id == order_id))
    )
    line_ids = sa.select(order_lines.c.id).where(order_lines.c.order_id == order_id)
    # Paid: the cart's holds are the order's now.
    await conn.execute(
        sa.update(reservations).where(reservations.c.order_line_id.in_(line_ids)).values(cart_line_id=None)
    )
    levels: list[InventoryLevelRecord] = []
    for f in fulfillments:
        effect = initial[FulfillmentMode(f.mode)][1]
        levels += await apply_effect(conn, f.id, effect, order_id, actor, now)
    statuses = [FulfillmentStatus(f.status) for f in fulfillments]
    status, row = await settle_order_status(conn, order_id, statuses, status_rule, now)
    history = [OrderStatus.PLACED] + ([status] if status is not OrderStatus.PLACED else [])
    await conn.execute(
        sa.insert(order_status_changes),
        [
            {"order_id": order_id, "status": s.value, "fulfillment_id": None,
             "fulfillment_status": None, "actor": actor, "reason": None, "created_at": now}
            for s in history
        ],
    )  # fmt: skip
    if taken:  # one row per tender of a split payment
        await conn.execute(
            sa.insert(payments),
            [
                {"order_id": order_id, "method": p.method.value, "provider": p.provider,
                 "reference": p.reference, "amount_minor": p.amount_minor, "refunded_minor": 0,
                 "currency_code": row.currency_code, "status": p.status.value, "created_at": now}
                for p in taken
            ],
        )  # fmt: skip
    if row.cart_id is not None:
        await conn.execute(
            sa.update(carts)
            .where(carts.c.id == row.cart_id)
            .values(status=CartStatus.COMPLETED.value, updated_at=now)
        )
    await conn.execute(
        sa.update(idempotency_keys).where(idempotency_keys.c.order_id == order_id).values(status=COMPLETED)
    )
    if push_to_erp:  # placed if and only if on its way to the ERP: one transaction
        await enqueue_order_push(conn, order_id)
    faults.reach("after_order_insert")
    return Placed(order_from_row(row), stock_moves.latest(levels))


async def abandon(
    conn: Any,
    order_id: int,
    error_code: str,
    error_message: str,
    hold_until: datetime,
    now: datetime,
) -> list[InventoryLevelRecord]:
    order = await lock_order(conn, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT.value:
        return []
    line_ids = sa.select(order_lines.c.id).where(order_lines.c.order_id == order_id)
    # Lines that held stock in the cart hold it again; everything else is released.
    await conn.execute(
        sa.update(reservations)
        .where(reservations.c.order_line_id.in_(line_ids))
        .where(reservations.c.cart_line_id.is_not(None))
        .values(order_line_id=None, expires_at=hold_until)
    )
    levels = await stock_moves.release_reservations(conn, reservations.c.order_line_id.in_(line_ids), now)
    if order.cart_id is not None:
        await conn.execute(
            sa.update(carts)
            .where(carts.c.id == order.cart_id, carts.c.status == CartStatus.CHECKING_OUT.value)
            .values(status=CartStatus.OPEN.value, updated_at=now)
        )
    await conn.execute(
        sa.update(idempotency_keys)
        .where(idempotency_keys.c.order_id == order_id)
        .values(status=FAILED, order_id=None, error_code=error_code,
                error_message=error_message[:500])
    )  # fmt: skip
    # Points spent on it (and given back) no longer name an order that is not there.
    await conn.execute(
        sa.update(loyalty_entries).where(loyalty_entries.c.order_id == order_id).values(order_id=None)
    )
    await conn.execute(sa.delete(orders).where(orders.c.id == order_id))
    return levels


async def claim(conn: Any, order_id: int, owner: str, until: datetime, now: datetime) -> bool:
    """Make `owner` the one finishing this pending checkout until `until`, unless another owner
    holds a claim that has not run out; False when the order is not pending or is claimed."""
    taken = await conn.scalar(
        sa.update(orders)
        .where(orders.c.id == order_id, orders.c.status == OrderStatus.PENDING_PAYMENT.value)
        .where(
            sa.or_(
                orders.c.claimed_until.is_(None),
                orders.c.claimed_until <= now,
                orders.c.claimed_by == owner,
            )
        )
        .values(claimed_by=owner, claimed_until=until)
        .returning(orders.c.id)
    )
    return taken is not None


async def stale_checkouts(conn: Any, older_than: datetime) -> list[OrderRecord]:
    rows = await conn.execute(
        sa.select(orders)
        .where(orders.c.status == OrderStatus.PENDING_PAYMENT.value)
        .where(orders.c.created_at <= older_than)
        .order_by(orders.c.id)
        .limit(100)
    )
    return [order_from_row(r) for r in rows]
