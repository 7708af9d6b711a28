"""The checkout's first transaction, placing: claim the key, allocate every line, write the order.

The charge happens after it, outside any transaction: holding row locks (and on SQLite the
database's one write lock) across a call to a payment provider would make every other checkout
wait for that provider. Until it is confirmed the order is PENDING_PAYMENT, invisible to clients,
and its stock is allocated, so nobody can sell it meanwhile. What happens once the charge is
known is adapters/store/checkout_outcome.py's; the idempotency keys are checkout_attempts.py's.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.commerce import (
    CartStatus,
    FulfillmentMode,
    OrderStatus,
)
from adapters.ports.orders import OrderDraft, Placed, PlannedLine
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.checkout_attempts import claim_attempt
from adapters.store.order_rows import order_from_row
from adapters.store.tables import (
    cart_lines,
    carts,
    idempotency_keys,
    inventory_levels,
    order_fulfillments,
    order_lines,
    orders,
    reservations,
)


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
    await claim_attempt(conn, draft, now)
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
