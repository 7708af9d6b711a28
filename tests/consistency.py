"""The consistency query of the crash tests: what must hold in the gateway's database (and at the
card provider) however a process died. Each check returns what breaks it, so a failing test
says which promise was broken and where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.payments.card_test_mode import ledger_charges
from adapters.store.tables import (
    idempotency_keys,
    inventory_levels,
    order_fulfillments,
    order_lines,
    orders,
    payments,
    reservations,
)

HOLDING = ("ALLOCATED", "READY_FOR_PICKUP", "HELD")  # fulfillment statuses whose lines hold stock


async def violations(url: str, ledger: Path, sweep_interval: timedelta, *, settled: bool) -> list[str]:
    """Broken invariants, empty when all hold. `settled`: no checkout may still be pending (the
    retries and the recovery are done); before that a pending one is allowed, charged or not."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = await _charges(conn, ledger, settled)
            found += await _allocations(conn)
            found += await _levels(conn)
            found += await _reservations(conn, sweep_interval)
            if settled:
                pending = await conn.scalar(
                    sa.select(sa.func.count())
                    .select_from(idempotency_keys)
                    .where(idempotency_keys.c.status == "PENDING")
                )
                if pending:
                    found.append(f"{pending} idempotency keys still PENDING")
            return found
    finally:
        await engine.dispose()


async def _charges(conn: sa.Connection, ledger: Path, settled: bool) -> list[str]:
    """Every charge the provider holds (not voided) has exactly one order, confirmed, which
    records it; every card payment recorded was charged."""
    found = []
    charged = [c for c in ledger_charges(ledger) if not c.voided]
    for charge in charged:
        rows = (
            await conn.execute(
                sa.select(orders.c.id, orders.c.status).where(orders.c.payment_key == charge.idempotency_key)
            )
        ).all()
        if len(rows) != 1:
            found.append(f"charge {charge.reference} has {len(rows)} orders")
            continue
        [(order_id, status)] = rows
        if status == "PENDING_PAYMENT":
            if settled:
                found.append(f"charge {charge.reference}: order {order_id} still PENDING_PAYMENT")
            continue
        recorded = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(payments)
            .where(payments.c.order_id == order_id, payments.c.reference == charge.reference)
        )
        if recorded != 1:
            found.append(f"charge {charge.reference}: order {order_id} records it {recorded} times")
    references = {c.reference for c in charged}
    for reference in await conn.scalars(sa.select(payments.c.reference).where(payments.c.method == "CARD")):
        if reference not in references:
            found.append(f"card payment {reference} was never charged (or was voided)")
    return found


async def _allocations(conn: sa.Connection) -> list[str]:
    """Each line of an order that holds stock (pending, allocated, held) has its reservation,
    whole, at its fulfillment's location."""
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(reservations.c.quantity), 0))
        .where(reservations.c.order_line_id == order_lines.c.id)
        .where(reservations.c.location_id == order_fulfillments.c.location_id)
        .scalar_subquery()
    )
    rows = await conn.execute(
        sa.select(order_lines.c.order_id, order_lines.c.id, order_lines.c.quantity, held.label("held"))
        .join(order_fulfillments, order_fulfillments.c.id == order_lines.c.fulfillment_id)
        .join(orders, orders.c.id == order_lines.c.order_id)
        .where(sa.or_(orders.c.status == "PENDING_PAYMENT", order_fulfillments.c.status.in_(HOLDING)))
    )
    return [
        f"order {r.order_id} line {r.id}: {r.held} of {r.quantity} allocated"
        for r in rows
        if r.held != r.quantity
    ]


async def _levels(conn: sa.Connection) -> list[str]:
    """`reserved` is the sum of the level's reservations, and never more than is on hand, so
    `available = onHand - reserved` is what can be promised."""
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(reservations.c.quantity), 0))
        .where(reservations.c.variant_id == inventory_levels.c.variant_id)
        .where(reservations.c.location_id == inventory_levels.c.location_id)
        .scalar_subquery()
    )
    level = inventory_levels.c
    rows = await conn.execute(
        sa.select(
            level.variant_id, level.location_id, level.on_hand, level.reserved, total.label("held")
        ).where(sa.or_(level.reserved != total, level.reserved > level.on_hand, level.reserved < 0))
    )
    return [
        f"level {r.variant_id}@{r.location_id}: onHand {r.on_hand}, reserved {r.reserved},"
        f" reservations {r.held}"
        for r in rows
    ]


async def _reservations(conn: sa.Connection, sweep_interval: timedelta) -> list[str]:
    """No hold outlives its expiry by more than one sweep interval; none belongs to nobody."""
    late = datetime.now(UTC) - sweep_interval
    expired = await conn.scalar(
        sa.select(sa.func.count()).select_from(reservations).where(reservations.c.expires_at < late)
    )
    orphans = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(reservations)
        .where(reservations.c.cart_line_id.is_(None), reservations.c.order_line_id.is_(None))
    )
    return [f"{expired} reservations past expiry plus the sweep interval"] * bool(expired) + [
        f"{orphans} reservations belong to no cart and no order"
    ] * bool(orphans)
