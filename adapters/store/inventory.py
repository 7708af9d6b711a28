"""Stock per variant per location, and the ledger of why it changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.ports.inventory import StockAdjusted, StockRejected
from adapters.records import (
    InventoryAdjustment,
    InventoryLevelRecord,
    InventoryReason,
    SafetyStockChange,
    StockChange,
)
from adapters.store.tables import (
    MAX_QUANTITY,
    inventory_adjustments,
    inventory_levels,
    keys_in_range,
    locations,
    variants,
)

if TYPE_CHECKING:
    from adapters.store.engine import Database


def level_from_row(row: Any) -> InventoryLevelRecord:
    return InventoryLevelRecord(
        variant_id=row.variant_id,
        location_id=row.location_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        updated_at=row.updated_at,
        safety_stock=row.safety_stock,
    )


class StoreInventory:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def ping(self) -> None:
        await self._store.ping()

    async def levels_by_variant_ids(self, variant_ids: Sequence[int]) -> list[InventoryLevelRecord]:
        c = inventory_levels.c
        stmt = (
            sa.select(c.variant_id, c.location_id, c.on_hand, c.reserved, c.updated_at, c.safety_stock)
            .where(c.variant_id.in_(keys_in_range(variant_ids)))
            .order_by(c.variant_id, c.location_id)
        )
        async with self._store.reading() as conn:
            rows = (await conn.execute(stmt)).all()
        # Positional construction: a listing reads thousands of these.
        return [InventoryLevelRecord(*row) for row in rows]

    async def adjust(
        self,
        changes: Sequence[StockChange],
        reason: InventoryReason,
        reference: str | None,
        actor: str,
    ) -> StockAdjusted:
        now = datetime.now(UTC)
        keys = sorted({(c.variant_id, c.location_id) for c in changes})
        async with self._store.writing() as conn:
            await self._check_known(conn, changes)
            await self._ensure_levels(conn, keys, now)
            # Locked in key order, so two adjustments touching the same rows cannot deadlock.
            stmt = (
                sa.select(inventory_levels)
                .where(sa.tuple_(inventory_levels.c.variant_id, inventory_levels.c.location_id).in_(keys))
                .order_by(inventory_levels.c.variant_id, inventory_levels.c.location_id)
                .with_for_update()
            )
            found = {(r.variant_id, r.location_id): r for r in await conn.execute(stmt)}
            on_hand = {key: row.on_hand for key, row in found.items()}
            ledger: list[dict[str, Any]] = []
            for index, change in enumerate(changes):
                key = (change.variant_id, change.location_id)
                before = on_hand.get(key, 0)
                after = before + change.delta if change.delta is not None else change.on_hand
                assert after is not None
                if after < 0:
                    raise StockRejected(
                        index, "NEGATIVE_ON_HAND", f"on hand would be {after}; it has {before}"
                    )
                if after > MAX_QUANTITY:
                    raise StockRejected(
                        index, "INVALID", f"on hand would be {after}; at most {MAX_QUANTITY} is kept"
                    )
                on_hand[key] = after
                ledger.append(
                    {
                        "variant_id": key[0],
                        "location_id": key[1],
                        "delta": after - before,
                        "on_hand_after": after,
                        "reason": reason.value,
                        "reference": reference,
                        "actor": actor,
                        "created_at": now,
                    }
                )
            await conn.execute(
                sa.update(inventory_levels)
                .where(inventory_levels.c.variant_id == sa.bindparam("v"))
                .where(inventory_levels.c.location_id == sa.bindparam("l")),
                [{"v": v, "l": loc, "on_hand": qty, "updated_at": now} for (v, loc), qty in on_hand.items()],
            )
            rows = await conn.execute(
                sa.insert(inventory_adjustments).returning(*inventory_adjustments.c), ledger
            )
            adjustments = [
                InventoryAdjustment(
                    id=r.id,
                    variant_id=r.variant_id,
                    location_id=r.location_id,
                    delta=r.delta,
                    on_hand_after=r.on_hand_after,
                    reason=InventoryReason(r.reason),
                    reference=r.reference,
                    actor=r.actor,
                    created_at=r.created_at,
                )
                for r in rows
            ]
        levels = [
            InventoryLevelRecord(
                v, loc, on_hand[(v, loc)], found[(v, loc)].reserved, now, found[(v, loc)].safety_stock
            )
            for v, loc in keys
        ]
        return StockAdjusted(adjustments=adjustments, levels=levels)

    async def set_safety_stock(self, change: SafetyStockChange, actor: str) -> InventoryLevelRecord:
        """Keep `change.quantity` units of a variant at a location out of online availability."""
        now = datetime.now(UTC)
        key = (change.variant_id, change.location_id)
        probe = StockChange(change.variant_id, change.location_id, delta=0)
        async with self._store.writing() as conn:
            await self._check_known(conn, [probe])
            await self._ensure_levels(conn, [key], now)
            row = (
                await conn.execute(
                    sa.update(inventory_levels)
                    .where(inventory_levels.c.variant_id == key[0])
                    .where(inventory_levels.c.location_id == key[1])
                    .values(safety_stock=change.quantity, updated_at=now)
                    .returning(*inventory_levels.c)
                )
            ).one()
        return level_from_row(row)

    @staticmethod
    async def _check_known(conn: Any, changes: Sequence[StockChange]) -> None:
        variant_ids = keys_in_range({c.variant_id for c in changes})
        location_ids = keys_in_range({c.location_id for c in changes})
        known_variants = set(
            await conn.scalars(sa.select(variants.c.id).where(variants.c.id.in_(variant_ids)))
        )
        known_locations = set(
            await conn.scalars(sa.select(locations.c.id).where(locations.c.id.in_(location_ids)))
        )
        for index, change in enumerate(changes):
            if change.variant_id not in known_variants:
                raise StockRejected(index, "VARIANT_NOT_FOUND", "no such variant")
            if change.location_id not in known_locations:
                raise StockRejected(index, "LOCATION_NOT_FOUND", "no such location")

    @staticmethod
    async def _ensure_levels(conn: Any, keys: list[tuple[int, int]], now: datetime) -> None:
        """A first receipt at a location creates its level; racing creators both succeed."""
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        rows = [
            {"variant_id": v, "location_id": loc, "on_hand": 0, "reserved": 0, "updated_at": now}
            for v, loc in keys
        ]
        await conn.execute(insert(inventory_levels).on_conflict_do_nothing(), rows)
