"""Changing a locked cart's lines, and bringing the stock each line holds at its store in step.

A line at a store may hold stock there while the customer shops: a row in `reservations` plus
`inventory_levels.reserved`, always changed together (adapters/store/stock_moves.py). Every cart
write (create, change, merge) applies its line ops here, inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.commerce import FulfillmentMode
from adapters.ports.carts import CartLineOp, HoldPolicy
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.tables import cart_lines, reservations


@dataclass(slots=True)
class _Line:
    """A line while a mutation is being applied."""

    id: int | None
    variant_id: int
    quantity: int
    mode: FulfillmentMode
    location_id: int | None
    removed: bool = False
    changed: bool = False

    def same_offer(self, op: CartLineOp) -> bool:
        return (self.variant_id, self.mode, self.location_id) == (
            op.variant_id,
            op.mode,
            op.location_id,
        )


async def apply_line_ops(
    conn: Any,
    cart_id: int,
    ops: Sequence[CartLineOp],
    holds: HoldPolicy,
    now: datetime,
    max_lines: int,
) -> list[InventoryLevelRecord]:
    """Apply line ops to a locked cart, then bring every line's hold in line with it."""
    lines: dict[int, _Line] = {
        r.id: _Line(r.id, r.variant_id, r.quantity, FulfillmentMode(r.mode), r.location_id)
        for r in await conn.execute(
            sa.select(cart_lines).where(cart_lines.c.cart_id == cart_id).with_for_update()
        )
    }
    hold_rows = {
        r.cart_line_id: r
        for r in await conn.execute(
            sa.select(reservations)
            .where(reservations.c.cart_line_id.in_(list(lines)))
            .where(reservations.c.order_line_id.is_(None))
            .with_for_update()
        )
    }
    levels: list[InventoryLevelRecord] = []
    expired = [r.id for r in hold_rows.values() if r.expires_at is not None and r.expires_at <= now]
    if expired:
        levels += await stock_moves.release_reservations(conn, reservations.c.id.in_(expired), now)
        hold_rows = {k: r for k, r in hold_rows.items() if r.id not in expired}

    added: list[_Line] = []
    for index, op in enumerate(ops):
        if op.line_id is None:
            assert op.variant_id is not None and op.mode is not None and op.quantity is not None
            same = next(
                (ln for ln in [*lines.values(), *added] if not ln.removed and ln.same_offer(op)),
                None,
            )
            if same is not None:
                same.quantity += op.quantity
                same.changed = True
            else:
                added.append(_Line(None, op.variant_id, op.quantity, op.mode, op.location_id))
            continue
        line = lines.get(op.line_id)
        if line is None or line.removed:
            raise Refused("LINE_NOT_FOUND", "this cart has no such line", index)
        if op.remove or op.quantity == 0:
            line.removed = True
            continue
        if op.quantity is not None:
            line.quantity = op.quantity
        if op.mode is not None:
            line.mode, line.location_id = op.mode, op.location_id
        line.changed = True
    if sum(not ln.removed for ln in [*lines.values(), *added]) > max_lines:
        raise Refused("TOO_MANY_LINES", f"a cart holds at most {max_lines} lines")

    for line in lines.values():
        if line.changed and not line.removed:
            await conn.execute(
                sa.update(cart_lines)
                .where(cart_lines.c.id == line.id)
                .values(
                    quantity=line.quantity,
                    mode=line.mode.value,
                    location_id=line.location_id,
                    updated_at=now,
                )
            )
    for line in added:
        line.id = await conn.scalar(
            sa.insert(cart_lines)
            .values(
                cart_id=cart_id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                mode=line.mode.value,
                location_id=line.location_id,
                created_at=now,
                updated_at=now,
            )
            .returning(cart_lines.c.id)
        )

    levels += await _settle_holds(conn, [*lines.values(), *added], hold_rows, holds, now)
    removed = [ln.id for ln in lines.values() if ln.removed]
    if removed:
        await conn.execute(sa.delete(cart_lines).where(cart_lines.c.id.in_(removed)))
    return stock_moves.latest(levels)


async def _settle_holds(
    conn: Any, lines: list[_Line], hold_rows: dict[int, Any], holds: HoldPolicy, now: datetime
) -> list[InventoryLevelRecord]:
    """Take, grow, shrink or release each line's hold, touching levels in key order.

    A hold that cannot grow keeps what it had: the line shows as short, and checkout tries
    again for the rest."""
    moves: list[tuple[stock_moves.Key, str, int, _Line, Any]] = []
    for line in lines:
        assert line.id is not None
        row = hold_rows.get(line.id)
        key = (line.variant_id, line.location_id or 0)
        holding = not line.removed and line.location_id is not None and line.mode in holds.modes
        want = line.quantity if holding else 0
        have = 0
        if row is not None:
            if (row.variant_id, row.location_id) != key or want == 0:
                moves.append(((row.variant_id, row.location_id), "release", row.quantity, line, row))
                row = None
            else:
                have = row.quantity
        if want > have:
            moves.append((key, "grow", want - have, line, row))
        elif want < have:
            moves.append((key, "shrink", have - want, line, row))
    levels: list[InventoryLevelRecord] = []
    for key, kind, quantity, line, row in sorted(moves, key=lambda m: (m[0], m[1])):
        if kind == "release":
            await conn.execute(sa.delete(reservations).where(reservations.c.id == row.id))
            levels.append(await stock_moves.unreserve(conn, key, quantity, now))
        elif kind == "shrink":
            await conn.execute(
                sa.update(reservations)
                .where(reservations.c.id == row.id)
                .values(quantity=row.quantity - quantity)
            )
            levels.append(await stock_moves.unreserve(conn, key, quantity, now))
        else:
            level = await stock_moves.reserve(conn, key, quantity, now)
            if level is None:
                continue
            levels.append(level)
            if row is not None:
                await conn.execute(
                    sa.update(reservations)
                    .where(reservations.c.id == row.id)
                    .values(quantity=row.quantity + quantity)
                )
            else:
                await conn.execute(
                    sa.insert(reservations).values(
                        variant_id=key[0],
                        location_id=key[1],
                        quantity=quantity,
                        cart_line_id=line.id,
                        expires_at=holds.until,
                        created_at=now,
                    )
                )
    # Any change to the cart keeps every hold it still has for another full period (a cart
    # with no hold, the common web cart of shipped lines, has none to renew).
    live = [ln.id for ln in lines if not ln.removed]
    if live and (hold_rows or any(kind == "grow" for _, kind, *_ in moves)):
        await conn.execute(
            sa.update(reservations)
            .where(reservations.c.cart_line_id.in_(live), reservations.c.order_line_id.is_(None))
            .values(expires_at=holds.until)
        )
    return levels
