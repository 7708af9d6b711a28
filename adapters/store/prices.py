"""Price lists, their prices and the markets, from the gateway's own tables.

The catalog's own price of each variant (`variants.price_minor`, from the demo or from an ERP's
list price) is the shop currency's market default; these tables hold every other price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from adapters.records import MarketRecord, PriceListRecord, PriceRecord
from adapters.store.tables import keys_in_range, markets, price_lists, prices

if TYPE_CHECKING:
    from adapters.store.engine import Database


class StorePrices:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def price_lists(self) -> tuple[PriceListRecord, ...]:
        async with self._store.reading() as conn:
            rows = await conn.execute(sa.select(price_lists).order_by(price_lists.c.id))
            return tuple(
                PriceListRecord(
                    id=r.id, code=r.code, name=r.name, currency_code=r.currency_code, channel=r.channel,
                    location_id=r.location_id, member_tier=r.member_tier, valid_from=r.valid_from,
                    valid_until=r.valid_until,
                )
                for r in rows
            )  # fmt: skip

    async def markets(self) -> tuple[MarketRecord, ...]:
        async with self._store.reading() as conn:
            rows = await conn.execute(sa.select(markets).order_by(markets.c.country_code))
            return tuple(MarketRecord(r.country_code, r.currency_code) for r in rows)

    async def prices_by_variant_ids(self, variant_ids: Sequence[int]) -> list[PriceRecord]:
        stmt = sa.select(prices).where(prices.c.variant_id.in_(keys_in_range(variant_ids)))
        async with self._store.reading() as conn:
            return [
                PriceRecord(r.price_list_id, r.variant_id, r.amount_minor, r.compare_at_minor)
                for r in await conn.execute(stmt)
            ]
