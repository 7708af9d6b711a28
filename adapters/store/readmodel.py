"""The read model of upstream catalog and stock: upstream records upserted into the gateway's
own tables, so queries never wait on an ERP.

Upstream keys map to local rows through `upstream_keys`; a record seen for the first time is
matched by its natural key (SKU, location code) before a new row is made, so an ERP taking over a
catalog the gateway already has adopts its rows instead of duplicating them. Only the columns
the upstream owns are written; what the gateway owns (images, tags, a store's geo and opening
hours) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.ports.feeds import CatalogChanges, StockChanges, UpstreamLocation, UpstreamProduct
from adapters.records import ORDER_FULFILLMENT_TOPIC, InventoryLevelRecord, LocationKind
from adapters.store.tables import (
    inventory_levels,
    locations,
    order_fulfillments,
    order_lines,
    orders,
    outbox,
    products,
    reservations,
    sync_state,
    upstream_keys,
    variants,
)

if TYPE_CHECKING:
    from adapters.store.engine import Database


def _insert(conn: Any) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


class ReadModel:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def position(self, upstream: str, feed: str) -> tuple[str | None, datetime | None]:
        stmt = sa.select(sync_state.c.watermark, sync_state.c.synced_at).where(
            sync_state.c.upstream == upstream, sync_state.c.feed == feed
        )
        async with self._store.reading() as conn:
            row = (await conn.execute(stmt)).first()
        return (row.watermark, row.synced_at) if row else (None, None)

    async def apply_catalog(self, upstream: str, changes: CatalogChanges) -> list[int]:
        """Upsert products and their variants; returns the local ids of the products written."""
        now = datetime.now(UTC)
        written: list[int] = []
        async with self._store.writing() as conn:
            for start in range(0, len(changes.products), 200):
                batch = changes.products[start : start + 200]
                written += await self._products(conn, upstream, batch, now)
            if changes.selling is not None:
                written += await _withdraw(conn, upstream, changes.selling, now)
            await self._mark(conn, upstream, "catalog", changes.watermark, now)
        return sorted(set(written))

    async def apply_locations(self, upstream: str, found: Sequence[UpstreamLocation]) -> list[int]:
        """Map the upstream's locations to the gateway's; returns the ids of those it added."""
        added: list[int] = []
        async with self._store.writing() as conn:
            known = await _mapped(conn, upstream, "location", [loc.key for loc in found])
            by_code = await _ids_by(conn, locations.c.code, [loc.code for loc in found])
            for loc in found:
                local = known.get(loc.key) or by_code.get(loc.code)
                if local is None:  # an existing location keeps the name shoppers know it by
                    local = await conn.scalar(
                        sa.insert(locations).values(**_new_location(loc)).returning(locations.c.id)
                    )
                    added.append(local)
                await _map(conn, upstream, "location", loc.key, local)
        return added

    async def apply_stock(self, upstream: str, changes: StockChanges) -> list[InventoryLevelRecord]:
        """Write the on-hand figures that differ from the read model; return those levels.

        The ERP owns what is on hand; the gateway owns its allocations and holds (`reserved`),
        which no sync ever writes: available = the ERP's on hand - the gateway's allocations.
        A figure the ERP already lowered for the orders it has (Tryton's forecast) gets back
        what the gateway allocated to the orders it handed over, so they count once."""
        now = datetime.now(UTC)
        async with self._store.writing() as conn:
            variant_ids = await _ids_by(conn, variants.c.sku, {lv.sku for lv in changes.levels})
            location_ids = await _ids_by(conn, locations.c.code, {lv.location_code for lv in changes.levels})
            wanted: dict[tuple[int, int], int] = {}
            netted: set[tuple[int, int]] = set()
            for level in changes.levels:
                v, loc = variant_ids.get(level.sku), location_ids.get(level.location_code)
                if v is not None and loc is not None:  # unknown SKUs wait for the catalog feed
                    wanted[(v, loc)] = max(level.on_hand, 0)
                    if level.net_of_erp_orders:
                        netted.add((v, loc))
            for key, quantity in (await _handed_over(conn, netted)).items():
                wanted[key] += quantity
            # Goods the gateway shipped whose news has not reached the ERP yet are gone already.
            for key, quantity in (await _shipped_not_told(conn, set(wanted) - netted)).items():
                wanted[key] = max(wanted[key] - quantity, 0)
            withdrawn = await _withdrawn(conn, {v for v, _ in wanted})
            for key in wanted:
                if key[0] in withdrawn:  # not for sale: no stock to sell
                    wanted[key] = 0
            current: dict[tuple[int, int], tuple[int, int]] = {}
            kept: dict[tuple[int, int], int] = {}  # the gateway's own safety stock stays as set
            keys = list(wanted)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                stmt = sa.select(inventory_levels).where(
                    sa.tuple_(inventory_levels.c.variant_id, inventory_levels.c.location_id).in_(chunk)
                )
                for row in await conn.execute(stmt):
                    current[(row.variant_id, row.location_id)] = (row.on_hand, row.reserved)
                    kept[(row.variant_id, row.location_id)] = row.safety_stock
            changed = [
                InventoryLevelRecord(
                    v, loc, on_hand, current.get((v, loc), (0, 0))[1], now, kept.get((v, loc), 0)
                )
                for (v, loc), on_hand in sorted(wanted.items())
                if (v, loc) not in current or current[(v, loc)][0] != on_hand
            ]
            if changed:
                insert = _insert(conn)(inventory_levels)
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["variant_id", "location_id"],
                        set_={"on_hand": insert.excluded.on_hand, "updated_at": insert.excluded.updated_at},
                    ),
                    [
                        {
                            "variant_id": lv.variant_id,
                            "location_id": lv.location_id,
                            "on_hand": lv.on_hand,
                            "reserved": 0,  # a new level: nothing allocated there yet
                            "updated_at": now,
                        }
                        for lv in changed
                    ],
                )
            await self._mark(conn, upstream, "stock", changes.watermark, now)
        return changed

    async def _products(
        self, conn: Any, upstream: str, batch: Sequence[UpstreamProduct], now: datetime
    ) -> list[int]:
        written = []
        product_keys = await _mapped(conn, upstream, "product", [p.key for p in batch])
        all_variants = [v for p in batch for v in p.variants]
        variant_keys = await _mapped(conn, upstream, "variant", [v.key for v in all_variants])
        by_sku = {
            r.sku: r
            for r in await conn.execute(
                sa.select(variants.c.id, variants.c.product_id, variants.c.sku).where(
                    variants.c.sku.in_([v.sku for v in all_variants])
                )
            )
        }
        for product in batch:
            local = product_keys.get(product.key)
            if local is None:  # adopt the product of a variant we already sell
                local = next((by_sku[v.sku].product_id for v in product.variants if v.sku in by_sku), None)
            fields = {
                "title": product.title,
                "description": product.description,
                "category": product.category,
                "vendor": product.vendor,
                "updated_at": now,
            }
            if local is None:
                local = await conn.scalar(
                    sa.insert(products)
                    .values(
                        handle=await _free_handle(conn, product),
                        tags=[],
                        images=[],
                        created_at=now,
                        **fields,
                    )
                    .returning(products.c.id)
                )
            else:
                await conn.execute(sa.update(products).where(products.c.id == local).values(fields))
            await _map(conn, upstream, "product", product.key, local)
            written.append(local)
            for position, variant in enumerate(product.variants, start=1):
                values: dict[str, Any] = {
                    "product_id": local,
                    "sku": variant.sku,
                    "title": variant.title,
                    "options": [{"name": o.name, "value": o.value} for o in variant.selected_options],
                }
                if variant.price is not None:
                    values["price_minor"] = variant.price.to_minor()
                    values["currency_code"] = variant.price.currency_code
                existing = variant_keys.get(variant.key) or (
                    by_sku[variant.sku].id if variant.sku in by_sku else None
                )
                if existing is None:
                    values.setdefault("price_minor", 0)
                    values.setdefault("currency_code", self._store.currency_code)
                    existing = await conn.scalar(
                        sa.insert(variants)
                        .values(position=position, compare_at_minor=None, **values)
                        .returning(variants.c.id)
                    )
                else:
                    await conn.execute(sa.update(variants).where(variants.c.id == existing).values(values))
                await _map(conn, upstream, "variant", variant.key, existing)
        return written

    @staticmethod
    async def _mark(conn: Any, upstream: str, feed: str, watermark: str | None, now: datetime) -> None:
        insert = _insert(conn)(sync_state)
        await conn.execute(
            insert.values(
                upstream=upstream, feed=feed, watermark=watermark, synced_at=now
            ).on_conflict_do_update(
                index_elements=["upstream", "feed"],
                set_={"watermark": insert.excluded.watermark, "synced_at": now},
            )
        )


async def _withdraw(conn: Any, upstream: str, selling: frozenset[str], now: datetime) -> list[int]:
    """Variants of this upstream it no longer sells are withdrawn (their stock shown as none);
    those it sells again come back, and the next stock poll reads everything afresh."""
    keyed = sa.select(upstream_keys.c.external_key, upstream_keys.c.local_id).where(
        upstream_keys.c.upstream == upstream, upstream_keys.c.kind == "variant"
    )
    mapped = {r.external_key: r.local_id for r in await conn.execute(keyed)}
    gone = [local for key, local in mapped.items() if key not in selling]
    back = [local for key, local in mapped.items() if key in selling]
    products: list[int] = []
    if gone:
        withdrawn = list(
            await conn.execute(
                sa.update(variants)
                .where(variants.c.id.in_(gone), variants.c.withdrawn_at.is_(None))
                .values(withdrawn_at=now)
                .returning(variants.c.id, variants.c.product_id)
            )
        )
        if withdrawn:
            ids = [r.id for r in withdrawn]
            await conn.execute(
                sa.update(inventory_levels)
                .where(inventory_levels.c.variant_id.in_(ids))
                .values(on_hand=0, updated_at=now)
            )
            products += [r.product_id for r in withdrawn]
    if back:
        returned = list(
            await conn.execute(
                sa.update(variants)
                .where(variants.c.id.in_(back), variants.c.withdrawn_at.is_not(None))
                .values(withdrawn_at=None)
                .returning(variants.c.product_id)
            )
        )
        if returned:
            products += [r.product_id for r in returned]
            await conn.execute(
                sa.update(sync_state).where(sync_state.c.feed == "stock").values(watermark=None)
            )
    return products


async def _shipped_not_told(conn: Any, keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Units of fulfillments the gateway shipped (or handed over) whose message to the ERP is
    not delivered yet: the ERP still counts them on hand."""
    if not keys:
        return {}
    rows = await conn.execute(
        sa.select(outbox.c.payload).where(
            outbox.c.topic == ORDER_FULFILLMENT_TOPIC, outbox.c.delivered_at.is_(None)
        )
    )
    shipped = [r.payload["fulfillment_id"] for r in rows if r.payload.get("event") == "shipped"]
    if not shipped:
        return {}
    stmt = (
        sa.select(
            order_lines.c.variant_id, order_fulfillments.c.location_id, sa.func.sum(order_lines.c.quantity)
        )
        .select_from(
            order_lines.join(order_fulfillments, order_fulfillments.c.id == order_lines.c.fulfillment_id)
        )
        .where(order_lines.c.fulfillment_id.in_(shipped))
        .group_by(order_lines.c.variant_id, order_fulfillments.c.location_id)
    )
    found = {(v, loc): int(total or 0) for v, loc, total in await conn.execute(stmt)}
    return {key: found[key] for key in keys if key in found}


async def _withdrawn(conn: Any, variant_ids: set[int]) -> set[int]:
    if not variant_ids:
        return set()
    stmt = sa.select(variants.c.id).where(
        variants.c.id.in_(variant_ids), variants.c.withdrawn_at.is_not(None)
    )
    return set(await conn.scalars(stmt))


async def _handed_over(conn: Any, keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Units the gateway allocated to orders the ERP has (their push was delivered)."""
    if not keys:
        return {}
    r = reservations.c
    stmt = (
        sa.select(r.variant_id, r.location_id, sa.func.sum(r.quantity))
        .select_from(
            reservations.join(order_lines, order_lines.c.id == r.order_line_id).join(
                orders, orders.c.id == order_lines.c.order_id
            )
        )
        .where(orders.c.erp_reference.is_not(None))
        .group_by(r.variant_id, r.location_id)
    )
    found = {(v, loc): int(total or 0) for v, loc, total in await conn.execute(stmt)}
    return {key: found[key] for key in keys if key in found}


async def _mapped(conn: Any, upstream: str, kind: str, keys: Iterable[str]) -> dict[str, int]:
    keys = list(keys)
    if not keys:
        return {}
    stmt = sa.select(upstream_keys.c.external_key, upstream_keys.c.local_id).where(
        upstream_keys.c.upstream == upstream,
        upstream_keys.c.kind == kind,
        upstream_keys.c.external_key.in_(keys),
    )
    return {r.external_key: r.local_id for r in await conn.execute(stmt)}


async def _ids_by(conn: Any, column: Any, values: Iterable[str]) -> dict[str, int]:
    values = list(values)
    found: dict[str, int] = {}
    table = column.table
    for start in range(0, len(values), 500):
        stmt = sa.select(column, table.c.id).where(column.in_(values[start : start + 500]))
        found.update({r[0]: r[1] for r in await conn.execute(stmt)})
    return found


async def _map(conn: Any, upstream: str, kind: str, key: str, local_id: int) -> None:
    insert = _insert(conn)(upstream_keys)
    await conn.execute(
        insert.values(
            upstream=upstream, kind=kind, external_key=key, local_id=local_id
        ).on_conflict_do_update(
            index_elements=["upstream", "kind", "external_key"], set_={"local_id": local_id}
        )
    )


async def _free_handle(conn: Any, product: UpstreamProduct) -> str:
    base = _slug(product.title)
    for candidate in (base, f"{base}-{_slug(product.key)}"):
        taken = await conn.scalar(sa.select(products.c.id).where(products.c.handle == candidate))
        if taken is None:
            return candidate
    return f"{base}-{_slug(product.key)}-{datetime.now(UTC).timestamp():.0f}"


def _new_location(loc: UpstreamLocation) -> dict[str, Any]:
    # Geo, address and opening hours are the gateway's to fill in; an ERP rarely has them.
    return {
        "code": loc.code,
        "name": loc.name,
        "kind": loc.kind.value,
        "address1": "",
        "city": "",
        "country": "",
        "country_code": "ZZ",
        "latitude": 0.0,
        "longitude": 0.0,
        "timezone": "UTC",
        "pickup_enabled": loc.kind is LocationKind.STORE,
        "ship_from_store_enabled": False,
        "opening_hours": [],
    }
