"""The checkout's transactions: place (claim the key, allocate, write the order), then confirm
once the payment is taken, or abandon when it is not.

The charge happens between the two, outside any transaction: holding row locks (and on SQLite
the database's one write lock) across a call to a payment provider would make every other
checkout wait for that provider. Until it is confirmed the order is PENDING_PAYMENT, invisible
to clients, and its stock is allocated, so nobody can sell it meanwhile; a declined payment
gives that stock back and deletes the order in one transaction.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters import faults
from adapters.commerce import (
    CartStatus,
    CheckoutAttempt,
    FulfillmentMode,
    FulfillmentStatus,
    OrderRecord,
    OrderStatus,
    StockEffect,
)
from adapters.ports.orders import AttemptTaken, OrderDraft, OrderStatusRule, PaymentDraft, Placed, PlannedLine
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.erp_messages import enqueue_order_push
from adapters.store.order_rows import apply_effect, lock_order, order_from_row, settle_order_status
from adapters.store.tables import (
    cart_lines,
    carts,
    idempotency_keys,
    inventory_levels,
    loyalty_entries,
    order_fulfillments,
    order_lines,
    order_status_changes,
    orders,
    payments,
    reservations,
)

PENDING, COMPLETED, FAILED = "PENDING", "COMPLETED", "FAILED"


def attempt_from_row(row: Any) -> CheckoutAttempt:
    return CheckoutAttempt(
        scope=row.scope,
        key=row.key,
        fingerprint=row.fingerprint,
        status=row.status,
        order_id=row.order_id,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
    )


async def _claim(conn: Any, draft: OrderDraft, now: datetime) -> None:
    """Insert the key, or stop with what its first use did. On PostgreSQL a racing insert of
    the same key waits for the first transaction and then finds its row."""
    attempt = draft.attempt
    if attempt is None:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    claimed = await conn.scalar(
        insert(idempotency_keys)
        .values(
            scope=attempt.scope,
            key=attempt.key,
            fingerprint=attempt.fingerprint,
            status=PENDING,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if claimed is None:
        row = (
            await conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.scope == attempt.scope,
                    idempotency_keys.c.key == attempt.key,
                )
            )
        ).one()
        raise AttemptTaken(attempt_from_row(row))


async def _shortfall(conn: Any, line: PlannedLine, index: int) -> Refused:
    free = inventory_levels.c.on_hand - inventory_levels.c.reserved - inventory_levels.c.safety_stock
    available = await conn.scalar(
        sa.select(sa.func.coalesce(sa.func.max(free), 0))
        .where(inventory_levels.c.variant_id == line.variant_id)
        .where(inventory_levels.c.location_id.in_(line.candidates))
    )
    return Refused(
        "INSUFFICIENT_STOCK",
        f"{max(available or 0, 0)} of {line.sku} available where this line is fulfilled, "
        f"{line.quantity} wanted",
        index,
    )


async def place(conn: Any, draft: OrderDraft, now: datetime) -> Placed:
    """Everything but the stock first, then the conditional updates on the level rows, then one
    insert of the reservations: on PostgreSQL a popular SKU's row stays locked for the last
    two statements and the commit only, not for the whole transaction."""
    await _claim(conn, draft, now)
    if draft.cart_id is not None:
        taken = await conn.scalar(
            sa.update(carts)
            .where(carts.c.id == draft.cart_id, carts.c.status == CartStatus.OPEN.value)
            .values(status=CartStatus.CHECKING_OUT.value, updated_at=now)
            .returning(carts.c.id)
        )
        if taken is None:
            status = await conn.scalar(sa.select(carts.c.status).where(carts.c.id == draft.cart_id))
            if status == CartStatus.CHECKING_OUT.value:
                raise Refused("CHECKOUT_IN_PROGRESS", "another checkout of this cart is running")
            if status == CartStatus.MERGED.value:
                raise Refused("CART_MERGED", "this cart was merged into another: use Cart.mergedInto")
            raise Refused("CART_COMPLETED", "this cart has been checked out")
        # The cart row is locked now (cart changes lock it too): its lines are what they are.
        current = frozenset(
            (r.id, r.variant_id, r.quantity, FulfillmentMode(r.mode), r.location_id)
            for r in await conn.execute(sa.select(cart_lines).where(cart_lines.c.cart_id == draft.cart_id))
        )
        if current != draft.cart_lines:
            raise Refused("CART_CHANGED", "the cart changed during checkout; review it and retry")
    needed = sorted({(ln.variant_id, loc) for ln in draft.lines for loc in (*ln.candidates, *ln.redirect_to)})
    # Expired holds never block a sale: release those at the levels this order needs first.
    levels = await stock_moves.release_reservations(
        conn, sa.and_(stock_moves.expired_hold(now), stock_moves.at_levels(needed)), now
    )
    holds = await _lock_holds(conn, draft)
    order = await _insert_order(conn, draft, now)
    writer = _LineWriter(conn, draft, order.id, now)

    # Lines that can only be at one location are written now, and their holds become theirs.
    line_ids: dict[int, int] = {}
    held: dict[int, int] = {}
    for index, line in enumerate(draft.lines):
        if len(line.candidates) != 1:
            continue
        hold = holds.pop(line.cart_line_id, None)
        if line.redirect_to:
            # It may be sent elsewhere: what it holds goes back to the shelf first, then it is
            # allocated (at its store if it can be) with the lines that may go to several places.
            if hold is not None:
                await conn.execute(sa.delete(reservations).where(reservations.c.id == hold.id))
                key = (hold.variant_id, hold.location_id)
                levels.append(await stock_moves.unreserve(conn, key, hold.quantity, now))
            continue
        line_ids[index] = await writer.write(index, line.candidates[0])
        if hold is None:
            continue
        if (hold.variant_id, hold.location_id) != (line.variant_id, line.candidates[0]):
            await conn.execute(sa.delete(reservations).where(reservations.c.id == hold.id))
            key = (hold.variant_id, hold.location_id)
            levels.append(await stock_moves.unreserve(conn, key, hold.quantity, now))
            continue
        held[index] = min(hold.quantity, line.quantity)
        if hold.quantity > line.quantity:  # never: a hold is at most its line; be safe anyway
            key = (hold.variant_id, hold.location_id)
            levels.append(await stock_moves.unreserve(conn, key, hold.quantity - line.quantity, now))
        await conn.execute(
            sa.update(reservations)
            .where(reservations.c.id == hold.id)
            .values(order_line_id=line_ids[index], expires_at=line.hold_expires_at,
                    quantity=line.quantity)
        )  # fmt: skip

    # The stock, in key order: each line takes what it lacks at the first location that has it
    # all; a shipped line nobody has whole is split across its candidates, in their order.
    chosen: dict[int, list[_Part]] = {}
    by_key = sorted(
        range(len(draft.lines)),
        key=lambda i: (draft.lines[i].variant_id, draft.lines[i].candidates[0]),
    )
    for index in by_key:
        line = draft.lines[index]
        wanted = line.quantity - held.get(index, 0)
        for location_id in line.candidates:
            key = (line.variant_id, location_id)
            online = line.mode is not FulfillmentMode.IN_STORE  # the till sells the whole shelf
            level = await stock_moves.reserve(conn, key, wanted, now, online=online)
            if level is not None:
                levels.append(level)
                chosen[index] = [_Part(location_id, line.quantity, line.mode)]
                break
        else:
            if line.redirect_to:
                chosen[index] = await _redirect(conn, line, index, now, levels)
            elif line.mode is FulfillmentMode.SHIP and len(line.candidates) > 1:
                chosen[index] = await _split(conn, line, index, now, levels)
            else:
                raise await _shortfall(conn, line, index)

    rows = []
    for index, line in enumerate(draft.lines):
        if index in held:
            continue
        for part in chosen[index]:
            if index in line_ids:
                order_line_id = line_ids[index]
            else:
                order_line_id = await writer.write(index, part.location_id, part)
            rows.append(
                {
                    "variant_id": line.variant_id,
                    "location_id": part.location_id,
                    "quantity": part.quantity,
                    # Kept while the payment is taken, so a decline can give the line its hold
                    # back (not a redirected part: that hold would be somewhere else).
                    "cart_line_id": None if part.redirected_from else line.cart_line_id,
                    "order_line_id": order_line_id,
                    "expires_at": line.hold_expires_at,
                    "created_at": now,
                }
            )
    if rows:
        await conn.execute(sa.insert(reservations), rows)
    return Placed(order_from_row(order), stock_moves.latest(levels))


@dataclass(frozen=True, slots=True)
class _Part:
    """Where (some of) a line is allocated, and how it gets to the customer from there."""

    location_id: int
    quantity: int
    mode: FulfillmentMode
    redirected_from: int | None = None
    reason: str | None = None


async def _redirect(
    conn: Any, line: PlannedLine, index: int, now: datetime, levels: list[InventoryLevelRecord]
) -> list[_Part]:
    """A pickup its store cannot fill goes, whole, to the first of `redirect_to` that has it
    (a nearer store, or shipping); shipping may split it. Refused when nothing can."""
    store = line.candidates[0]
    had = await stock_moves.free_for_update(conn, (line.variant_id, store))
    mode = line.redirect_mode or line.mode
    how = "shipped instead" if mode is FulfillmentMode.SHIP else "sent to the nearest store that has it"
    reason = f"the pickup store had {had} of {line.sku} for {line.quantity} wanted; {how}"
    for location_id in line.redirect_to:
        level = await stock_moves.reserve(conn, (line.variant_id, location_id), line.quantity, now)
        if level is not None:
            levels.append(level)
            return [_Part(location_id, line.quantity, mode, store, reason)]
    if mode is FulfillmentMode.SHIP:
        shipped = PlannedLine(**{**_fields(line), "candidates": line.redirect_to, "mode": mode})
        parts = await _split(conn, shipped, index, now, levels)
        return [_Part(p.location_id, p.quantity, mode, store, reason) for p in parts]
    raise await _shortfall(conn, line, index)


def _fields(line: PlannedLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in line.__dataclass_fields__}


async def _split(
    conn: Any, line: PlannedLine, index: int, now: datetime, levels: list[InventoryLevelRecord]
) -> list[_Part]:
    """Take what each candidate has, in order, until the line is filled: parts; refused when
    all of them together do not have it (the transaction is rolled back)."""
    parts: list[_Part] = []
    missing = line.quantity
    for location_id in line.candidates:
        key = (line.variant_id, location_id)
        free = await stock_moves.free_for_update(conn, key)
        take = min(missing, free)
        if take <= 0:
            continue
        level = await stock_moves.reserve(conn, key, take, now)
        assert level is not None, "the level row is locked: what was free still is"
        levels.append(level)
        parts.append(_Part(location_id, take, line.mode))
        missing -= take
        if missing == 0:
            return parts
    found = line.quantity - missing
    message = f"{found} of {line.sku} available where this line is fulfilled, {line.quantity} wanted"
    raise Refused("INSUFFICIENT_STOCK", message, index)


async def _lock_holds(conn: Any, draft: OrderDraft) -> dict[int, Any]:
    line_ids = [line.cart_line_id for line in draft.lines if line.cart_line_id is not None]
    if not line_ids:
        return {}
    rows = await conn.execute(
        sa.select(reservations)
        .where(reservations.c.cart_line_id.in_(line_ids))
        .where(reservations.c.order_line_id.is_(None))
        .with_for_update()
    )
    return {r.cart_line_id: r for r in rows}


async def _insert_order(conn: Any, draft: OrderDraft, now: datetime) -> Any:
    subtotal = sum(line.quantity * line.unit_price_minor for line in draft.lines)
    buyer = draft.buyer
    address = None if buyer is None or buyer.shipping_address is None else buyer.shipping_address
    order = (
        await conn.execute(
            sa.insert(orders)
            .values(
                channel=draft.channel.value,
                status=OrderStatus.PENDING_PAYMENT.value,
                member_id=draft.member_id,
                cart_id=draft.cart_id,
                currency_code=draft.currency_code,
                subtotal_minor=subtotal,
                total_minor=subtotal,
                payment_key=f"ord_{secrets.token_hex(16)}",
                created_at=now,
                updated_at=now,
                email=None if buyer is None else buyer.email,
                buyer=None if buyer is None else {
                    "first_name": buyer.first_name, "last_name": buyer.last_name, "phone": buyer.phone
                },
                shipping_address=None if address is None else dataclasses.asdict(address),
            )
            .returning(*orders.c)
        )
    ).one()
    if draft.attempt is not None:
        await conn.execute(
            sa.update(idempotency_keys)
            .where(
                idempotency_keys.c.scope == draft.attempt.scope,
                idempotency_keys.c.key == draft.attempt.key,
            )
            .values(order_id=order.id)
        )
    return order


class _LineWriter:
    """Writes order lines, opening one fulfillment per location and mode as they come."""

    def __init__(self, conn: Any, draft: OrderDraft, order_id: int, now: datetime) -> None:
        self.conn, self.draft, self.order_id, self.now = conn, draft, order_id, now
        self.fulfillments: dict[tuple[int, FulfillmentMode, int | None], int] = {}

    async def write(self, index: int, location_id: int, part: _Part | None = None) -> int:
        line = self.draft.lines[index]
        mode = line.mode if part is None else part.mode
        redirected_from = None if part is None else part.redirected_from
        group = (location_id, mode, redirected_from)
        if group not in self.fulfillments:
            ends = [
                ln.hold_expires_at
                for ln in self.draft.lines
                if ln.mode is line.mode and ln.candidates == (location_id,) and ln.hold_expires_at is not None
            ]
            self.fulfillments[group] = await self.conn.scalar(
                sa.insert(order_fulfillments)
                .values(
                    order_id=self.order_id,
                    location_id=location_id,
                    mode=mode.value,
                    status=self.draft.initial[mode][0].value,
                    hold_expires_at=max(ends) if ends else None,
                    redirected_from_id=redirected_from,
                    redirect_reason=None if part is None else part.reason,
                    created_at=self.now,
                    updated_at=self.now,
                )
                .returning(order_fulfillments.c.id)
            )
        return await self.conn.scalar(
            sa.insert(order_lines)
            .values(
                order_id=self.order_id,
                fulfillment_id=self.fulfillments[group],
                variant_id=line.variant_id,
                position=index,
                sku=line.sku,
                title=line.title,
                quantity=line.quantity if part is None else part.quantity,
                unit_price_minor=line.unit_price_minor,
                discount_minor=line.discount_minor,
                offer_code=line.offer_code,
            )
            .returning(order_lines.c.id)
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


async def find_attempt(conn: Any, scope: str, key: str) -> CheckoutAttempt | None:
    row = (
        await conn.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        )
    ).first()
    return None if row is None else attempt_from_row(row)


async def forget_attempt(conn: Any, scope: str, key: str) -> None:
    await conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    )


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


async def delete_attempts(conn: Any, older_than: datetime) -> int:
    result = await conn.execute(
        sa.delete(idempotency_keys)
        .where(idempotency_keys.c.created_at <= older_than)
        .where(idempotency_keys.c.status != PENDING)
    )
    return result.rowcount or 0
