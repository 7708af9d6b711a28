"""Stores and warehouses from the gateway's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.records import (
    Address,
    DayOfWeek,
    GeoPoint,
    LocationKind,
    LocationRecord,
    OpeningHours,
)
from adapters.store.tables import keys_in_range, locations

if TYPE_CHECKING:
    from adapters.store.engine import Database


def location_from_row(row: Any) -> LocationRecord:
    return LocationRecord(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        address=Address(
            address1=row.address1,
            address2=row.address2,
            city=row.city,
            province=row.province,
            province_code=row.province_code,
            zip=row.zip,
            country=row.country,
            country_code=row.country_code,
            phone=row.phone,
        ),
        geo=GeoPoint(row.latitude, row.longitude),
        timezone=row.timezone,
        pickup_enabled=row.pickup_enabled,
        ship_from_store_enabled=row.ship_from_store_enabled,
        opening_hours=tuple(
            OpeningHours(DayOfWeek(h["day"]), h["opens"], h["closes"]) for h in row.opening_hours
        ),
    )


class StoreLocations:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def all_locations(self) -> list[LocationRecord]:
        return await self._select(sa.true())

    async def locations_by_ids(self, ids: Sequence[int]) -> list[LocationRecord]:
        return await self._select(locations.c.id.in_(keys_in_range(ids)))

    async def _select(self, where: sa.ColumnElement[bool]) -> list[LocationRecord]:
        stmt = sa.select(locations).where(where).order_by(locations.c.id)
        async with self._store.reading() as conn:
            return [location_from_row(r) for r in (await conn.execute(stmt)).all()]
