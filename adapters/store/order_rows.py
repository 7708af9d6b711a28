"""Order rows to records, and the pieces every order transaction shares: locking an order and
applying a fulfillment's stock effect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.commerce import (
    Channel,
    FulfillmentMode,
    FulfillmentRecord,
    FulfillmentStatus,
    OrderLineRecord,
    OrderRecord,
    OrderStatus,
    PaymentMethod,
    PaymentRecord,
    PaymentStatus,
    RefundStatus,
    ReturnLineRecord,
    ReturnRecord,
    StatusChangeRecord,
    StockEffect,
    order_number,
)
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord, InventoryReason
from adapters.store import stock_moves
from adapters.store.tables import order_lines, orders, reservations


def order_from_row(row: Any) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        channel=Channel(row.channel),
        status=OrderStatus(row.status),
        member_id=row.member_id,
        cart_id=row.cart_id,
        currency_code=row.currency_code,
        subtotal_minor=row.subtotal_minor,
        total_minor=row.total_minor,
        payment_key=row.payment_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def fulfillment_from_row(row: Any) -> FulfillmentRecord:
    return FulfillmentRecord(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        mode=FulfillmentMode(row.mode),
        status=FulfillmentStatus(row.status),
        hold_expires_at=row.hold_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        redirected_from_id=row.redirected_from_id,
        redirect_reason=row.redirect_reason,
    )


def line_from_row(row: Any) -> OrderLineRecord:
    return OrderLineRecord(
        id=row.id,
        order_id=row.order_id,
        fulfillment_id=row.fulfillment_id,
        variant_id=row.variant_id,
        sku=row.sku,
        title=row.title,
        quantity=row.quantity,
        unit_price_minor=row.unit_price_minor,
        currency_code=row.currency_code,  # joined from the order
        discount_minor=row.discount_minor,
        offer_code=row.offer_code,
    )


def status_change_from_row(row: Any) -> StatusChangeRecord:
    return StatusChangeRecord(
        id=row.id,
        order_id=row.order_id,
        status=OrderStatus(row.status),
        fulfillment_id=row.fulfillment_id,
        fulfillment_status=(
            None if row.fulfillment_status is None else FulfillmentStatus(row.fulfillment_status)
        ),
        actor=row.actor,
        reason=row.reason,
        created_at=row.created_at,
    )


def payment_from_row(row: Any) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        order_id=row.order_id,
        method=PaymentMethod(row.method),
        provider=row.provider,
        reference=row.reference,
        amount_minor=row.amount_minor,
        refunded_minor=row.refunded_minor,
        currency_code=row.currency_code,
        status=PaymentStatus(row.status),
        created_at=row.created_at,
    )


def return_from_row(row: Any, currency_code: str | None = None) -> ReturnRecord:
    return ReturnRecord(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        reason=row.reason,
        actor=row.actor,
        refund_minor=row.refund_minor,
        refund_status=RefundStatus(row.refund_status),
        created_at=row.created_at,
        currency_code=currency_code or row.currency_code,  # the order's, joined or given
    )


def return_line_from_row(row: Any) -> ReturnLineRecord:
    return ReturnLineRecord(
        id=row.id,
        return_id=row.return_id,
        order_id=row.order_id,
        order_line_id=row.order_line_id,
        quantity=row.quantity,
        exchange_variant_id=row.exchange_variant_id,
    )


async def settle_order_status(
    conn: Any, order_id: int, fulfillments: list[FulfillmentStatus], rule: Any, now: datetime
) -> tuple[OrderStatus, Any]:
    """The order's status as its fulfillments' statuses make it (by the retailer's rule),
    written; returns it with the order's row."""
    status = rule(fulfillments)
    row = (
        await conn.execute(
            sa.update(orders)
            .where(orders.c.id == order_id)
            .values(status=status.value, updated_at=now)
            .returning(*orders.c)
        )
    ).one()
    return status, row


async def lock_order(conn: Any, order_id: int) -> Any:
    """The order row, locked: its transitions, returns and confirmation run one at a time."""
    row = (await conn.execute(sa.select(orders).where(orders.c.id == order_id).with_for_update())).first()
    if row is None:
        raise Refused("ORDER_NOT_FOUND", "no such order")
    return row


async def apply_effect(
    conn: Any, fulfillment_id: int, effect: StockEffect, order_id: int, actor: str, now: datetime
) -> list[InventoryLevelRecord]:
    """A fulfillment's allocations leave the building (SHIP_OUT) or end (RELEASE)."""
    if effect is StockEffect.NONE:
        return []
    line_ids = sa.select(order_lines.c.id).where(order_lines.c.fulfillment_id == fulfillment_id)
    if effect is StockEffect.RELEASE:
        return await stock_moves.release_reservations(conn, reservations.c.order_line_id.in_(line_ids), now)
    held = reservations.c
    rows = list(
        await conn.execute(
            sa.delete(reservations)
            .where(held.order_line_id.in_(line_ids))
            .returning(held.variant_id, held.location_id, held.quantity)
        )
    )
    moves = []
    for row in sorted(rows, key=lambda r: (r.variant_id, r.location_id)):
        level = await stock_moves.ship_out(conn, (row.variant_id, row.location_id), row.quantity, now)
        if level is None:
            raise Refused(
                "INSUFFICIENT_STOCK",
                "the location counts fewer units on hand than this fulfillment holds; recount it",
            )
        moves.append((level, -row.quantity))
    await stock_moves.record(conn, moves, InventoryReason.SALE, f"order:{order_number(order_id)}", actor, now)
    return [level for level, _ in moves]
