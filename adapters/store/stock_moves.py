"""The stock moves every commerce write is made of, each one SQL statement on a level row.

They run inside the caller's write transaction. A move that promises stock is a conditional
UPDATE (`... WHERE on_hand - reserved >= :qty`): on PostgreSQL a concurrent writer waits for the
row lock and then re-checks the condition against the committed row, on SQLite writers are
serialized by BEGIN IMMEDIATE; either way two checkouts can never both take the last unit.
Callers touch levels in (variant, location) order so that PostgreSQL transactions cannot
deadlock on each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.records import InventoryLevelRecord, InventoryReason
from adapters.store.inventory import level_from_row
from adapters.store.tables import inventory_adjustments, inventory_levels, reservations

Key = tuple[int, int]  # (variant id, location id)
_LEVEL = inventory_levels.c


def _where(key: Key) -> sa.ColumnElement[bool]:
    return sa.and_(_LEVEL.variant_id == key[0], _LEVEL.location_id == key[1])


async def _update(conn: Any, key: Key, condition: Any, **values: Any) -> InventoryLevelRecord | None:
    stmt = sa.update(inventory_levels).where(_where(key))
    if condition is not None:
        stmt = stmt.where(condition)
    row = (await conn.execute(stmt.values(**values).returning(*inventory_levels.c))).first()
    return None if row is None else level_from_row(row)


async def reserve(
    conn: Any, key: Key, quantity: int, now: datetime, *, online: bool = True
) -> InventoryLevelRecord | None:
    """Promise `quantity` more units if that many are available online (the safety stock is
    kept back); None when they are not.

    `quantity` 0 promises nothing but still checks that the level is not over-promised (a
    count below what is reserved), which is what converting an existing hold needs: a hold
    already promised stands even if the safety stock was raised since. A sale at the till
    (`online=False`) may take the safety stock too."""
    kept = _LEVEL.safety_stock if quantity > 0 and online else 0
    return await _update(
        conn,
        key,
        _LEVEL.on_hand - _LEVEL.reserved - kept >= quantity,
        reserved=_LEVEL.reserved + quantity,
        updated_at=now,
    )


async def free_for_update(conn: Any, key: Key) -> int:
    """What is available at a level, its row locked until the transaction ends (0: no row)."""
    free = await conn.scalar(
        sa.select(_LEVEL.on_hand - _LEVEL.reserved - _LEVEL.safety_stock)
        .where(_where(key))
        .with_for_update()
    )
    return max(free or 0, 0)


async def unreserve(conn: Any, key: Key, quantity: int, now: datetime) -> InventoryLevelRecord:
    level = await _update(conn, key, None, reserved=_LEVEL.reserved - quantity, updated_at=now)
    assert level is not None, "a reservation always has its level"
    return level


async def ship_out(conn: Any, key: Key, quantity: int, now: datetime) -> InventoryLevelRecord | None:
    """Promised units leave the building: on hand and reserved both go down."""
    return await _update(
        conn,
        key,
        _LEVEL.on_hand >= quantity,
        on_hand=_LEVEL.on_hand - quantity,
        reserved=_LEVEL.reserved - quantity,
        updated_at=now,
    )


async def take_from_shelf(conn: Any, key: Key, quantity: int, now: datetime) -> InventoryLevelRecord | None:
    """Unpromised units leave (an exchange handed over at a till); None when not available."""
    return await _update(
        conn,
        key,
        _LEVEL.on_hand - _LEVEL.reserved >= quantity,
        on_hand=_LEVEL.on_hand - quantity,
        updated_at=now,
    )


async def restock(conn: Any, key: Key, quantity: int, now: datetime) -> InventoryLevelRecord:
    """Units come back (a return); the level is created if the location never had any."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(inventory_levels).on_conflict_do_nothing(),
        [{"variant_id": key[0], "location_id": key[1], "on_hand": 0, "reserved": 0,
          "updated_at": now}],
    )  # fmt: skip
    level = await _update(conn, key, None, on_hand=_LEVEL.on_hand + quantity, updated_at=now)
    assert level is not None
    return level


async def record(
    conn: Any,
    moves: Iterable[tuple[InventoryLevelRecord, int]],
    reason: InventoryReason,
    reference: str,
    actor: str,
    now: datetime,
) -> None:
    """Write on-hand changes to the inventory ledger (reservations are their own record)."""
    rows = [
        {
            "variant_id": level.variant_id,
            "location_id": level.location_id,
            "delta": delta,
            "on_hand_after": level.on_hand,
            "reason": reason.value,
            "reference": reference,
            "actor": actor,
            "created_at": now,
        }
        for level, delta in moves
    ]
    if rows:
        await conn.execute(sa.insert(inventory_adjustments), rows)


async def release_reservations(
    conn: Any, where: sa.ColumnElement[bool], now: datetime
) -> list[InventoryLevelRecord]:
    """Delete the reservations matching `where` and give their units back, level by level.

    DELETE ... RETURNING hands each row to exactly one transaction, so a sweeper and a checkout
    releasing the same expired hold cannot both subtract it."""
    released = await conn.execute(
        sa.delete(reservations)
        .where(where)
        .returning(reservations.c.variant_id, reservations.c.location_id, reservations.c.quantity)
    )
    totals: dict[Key, int] = defaultdict(int)
    for row in released:
        totals[(row.variant_id, row.location_id)] += row.quantity
    return [await unreserve(conn, key, totals[key], now) for key in sorted(totals)]


def expired_hold(now: datetime) -> sa.ColumnElement[bool]:
    """A cart hold past its time (an order's own allocations end through its lifecycle)."""
    return sa.and_(
        reservations.c.order_line_id.is_(None),
        reservations.c.expires_at.is_not(None),
        reservations.c.expires_at <= now,
    )


def at_levels(keys: Sequence[Key]) -> sa.ColumnElement[bool]:
    return sa.tuple_(reservations.c.variant_id, reservations.c.location_id).in_(list(keys))


def latest(levels: Iterable[InventoryLevelRecord]) -> list[InventoryLevelRecord]:
    """The last state of each level touched, in key order (for events after the commit)."""
    last: dict[Key, InventoryLevelRecord] = {}
    for level in levels:
        last[(level.variant_id, level.location_id)] = level
    return [last[key] for key in sorted(last)]
