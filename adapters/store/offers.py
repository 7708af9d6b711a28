"""Offers in the gateway's database: their definitions (resolvers/offers.py decides where and
for whom they apply)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from adapters.ports.marketing import OfferCodeTaken, OfferRecord
from adapters.records import GeoPoint
from adapters.store.tables import offers

if TYPE_CHECKING:
    from adapters.ports.paging import KeysetPage
    from adapters.store.engine import Database


def _offer(row: Any) -> OfferRecord:
    near = None
    if row.near_latitude is not None and row.near_longitude is not None:
        near = GeoPoint(row.near_latitude, row.near_longitude)
    return OfferRecord(
        id=row.id, code=row.code, title=row.title, percent_off=row.percent_off,
        segment_id=row.segment_id, channels=tuple(row.channels), location_ids=tuple(row.location_ids),
        near=near, radius_km=row.radius_km, valid_from=row.valid_from, valid_until=row.valid_until,
        active=bool(row.active),
    )  # fmt: skip


def _values(offer: OfferRecord) -> dict[str, Any]:
    values = dataclasses.asdict(offer)
    del values["id"], values["near"]
    values["channels"] = list(offer.channels)
    values["location_ids"] = list(offer.location_ids)
    values["near_latitude"] = None if offer.near is None else offer.near.latitude
    values["near_longitude"] = None if offer.near is None else offer.near.longitude
    return values


class StoreOffers:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def all_offers(self) -> list[OfferRecord]:
        async with self._store.reading() as conn:
            return [_offer(r) for r in await conn.execute(sa.select(offers).order_by(offers.c.id))]

    async def offers_by_ids(self, ids: Sequence[int]) -> list[OfferRecord]:
        async with self._store.reading() as conn:
            return [
                _offer(r) for r in await conn.execute(sa.select(offers).where(offers.c.id.in_(list(ids))))
            ]

    async def offer_page(self, page: KeysetPage) -> list[OfferRecord]:
        stmt = sa.select(offers)
        if page.after is not None:
            stmt = stmt.where(offers.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(offers.c.id < page.before[1])
        order = offers.c.id.desc() if page.descending else offers.c.id
        async with self._store.reading() as conn:
            return [_offer(r) for r in await conn.execute(stmt.order_by(order).limit(page.limit))]

    async def save_offer(self, offer: OfferRecord, now: datetime) -> OfferRecord | None:
        """Create (id 0) or replace an offer; None: no offer with that id. Raises
        OfferCodeTaken when another offer has the code."""
        values = {**_values(offer), "updated_at": now}

        async def work(conn: Any) -> OfferRecord | None:
            if offer.id == 0:
                done = await conn.execute(sa.insert(offers).values(**values, created_at=now))
                new_id = done.inserted_primary_key[0]
            else:
                done = await conn.execute(sa.update(offers).where(offers.c.id == offer.id).values(**values))
                if not done.rowcount:
                    return None
                new_id = offer.id
            return _offer((await conn.execute(sa.select(offers).where(offers.c.id == new_id))).one())

        try:
            return await self._store.write(work)
        except IntegrityError as exc:
            raise OfferCodeTaken(offer.code) from exc

    async def delete_offer(self, offer_id: int) -> bool:
        async def work(conn: Any) -> bool:
            return bool((await conn.execute(sa.delete(offers).where(offers.c.id == offer_id))).rowcount)

        return await self._store.write(work)
