"""The analytics reports as SQL aggregates over the gateway's own orders, returns, stock and points.

Every figure is a GROUP BY in the database (SQLAlchemy Core, the same statement on SQLite and
PostgreSQL): no order is read into Python, only one row per group. Sales are what order lines were
sold for (quantity x unit price), attributed to the location of the line's fulfillment; days and
weeks (starting Monday) are UTC. Cancelled orders and checkouts still taking payment do not count.
`locations` None means every location; a set keeps the lines fulfilled there.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import OrderStatus
from adapters.store.tables import (
    inventory_levels,
    loyalty_entries,
    order_fulfillments,
    order_lines,
    orders,
    products,
    return_lines,
    returns,
    variants,
)
from adapters.store.tables import (
    locations as location_table,
)
from adapters.support import FulfillmentMixRow, LoyaltyRow, ReturnsRow, SalesRow, StockRow

if TYPE_CHECKING:
    from adapters.store.engine import Database

DAY, WEEK = "DAY", "WEEK"
_COUNTED = sa.not_(orders.c.status.in_([OrderStatus.CANCELLED.value, OrderStatus.PENDING_PAYMENT.value]))


def period_of(column: Any, period: str, dialect: str) -> Any:
    """The UTC day, or the Monday of the UTC week, of a timestamp column."""
    if dialect == "postgresql":
        utc = sa.func.timezone("UTC", column)
        if period == WEEK:
            return sa.cast(sa.func.date_trunc("week", utc), sa.Date)
        return sa.cast(utc, sa.Date)
    if period == WEEK:  # SQLite keeps UTC text: the next Sunday (or this one), less six days
        return sa.func.date(column, "weekday 0", "-6 days")
    return sa.func.date(column)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _sold_lines(since: datetime, until: datetime, locations: Collection[int] | None) -> Any:
    """The counted order lines of orders placed in [since, until), with their fulfillment."""
    where = [_COUNTED, orders.c.created_at >= since, orders.c.created_at < until]
    if locations is not None:
        where.append(order_fulfillments.c.location_id.in_(sorted(locations)))
    return (
        order_lines.join(orders, orders.c.id == order_lines.c.order_id).join(
            order_fulfillments, order_fulfillments.c.id == order_lines.c.fulfillment_id
        ),
        sa.and_(*where),
    )


_UNITS = sa.func.coalesce(sa.func.sum(order_lines.c.quantity), 0)
_VALUE = sa.func.coalesce(sa.func.sum(order_lines.c.quantity * order_lines.c.unit_price_minor), 0)
_ORDERS = sa.func.count(sa.distinct(orders.c.id))


class StoreAnalytics:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._store.reading() as conn:
            return list(await conn.execute(stmt))

    async def sales(
        self,
        since: datetime,
        until: datetime,
        locations: Collection[int] | None,
        *,
        by_channel: bool,
        by_location: bool,
        period: str | None,
    ) -> list[SalesRow]:
        joined, where = _sold_lines(since, until, locations)
        dims: list[Any] = [orders.c.currency_code]
        if by_channel:
            dims.append(orders.c.channel.label("channel"))
        if by_location:
            dims.append(order_fulfillments.c.location_id.label("location_id"))
        if period is not None:
            dims.append(period_of(orders.c.created_at, period, self._store.dialect).label("period"))
        stmt = (
            sa.select(*dims, _ORDERS.label("orders"), _UNITS.label("units"), _VALUE.label("sales"))
            .select_from(joined)
            .where(where)
            .group_by(*dims)
            .order_by(*dims)
        )
        return [
            SalesRow(
                channel=row.channel if by_channel else None,
                location_id=row.location_id if by_location else None,
                period=_as_date(row.period) if period is not None else None,
                currency_code=row.currency_code,
                orders=int(row.orders),
                units=int(row.units),
                sales_minor=int(row.sales),
            )
            for row in await self._rows(stmt)
        ]

    async def fulfillment_mix(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[FulfillmentMixRow]:
        joined, where = _sold_lines(since, until, locations)
        mode = order_fulfillments.c.mode
        stmt = (
            sa.select(mode, orders.c.currency_code, _ORDERS, _UNITS, _VALUE)
            .select_from(joined)
            .where(where)
            .group_by(mode, orders.c.currency_code)
            .order_by(mode, orders.c.currency_code)
        )
        return [
            FulfillmentMixRow(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in await self._rows(stmt)
        ]

    async def returns(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[ReturnsRow]:
        """Per channel of sale: units sold in the range, how many of them came back, and where
        (at a store, or sent back to a warehouse), and how many returns crossed channels."""
        joined, where = _sold_lines(since, until, locations)
        sold = dict(
            (r[0], int(r[1]))
            for r in await self._rows(
                sa.select(orders.c.channel, _UNITS)
                .select_from(joined)
                .where(where)
                .group_by(orders.c.channel)
            )
        )
        at_store = location_table.c.kind == "STORE"
        crossed = sa.or_(
            sa.and_(at_store, orders.c.channel != "STORE"),
            sa.and_(sa.not_(at_store), orders.c.channel == "STORE"),
        )
        # From the returned lines (few) to their sales, not from every sale to its returns.
        returned_joined = (
            return_lines.join(returns, returns.c.id == return_lines.c.return_id)
            .join(location_table, location_table.c.id == returns.c.location_id)
            .join(order_lines, order_lines.c.id == return_lines.c.order_line_id)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .join(order_fulfillments, order_fulfillments.c.id == order_lines.c.fulfillment_id)
        )
        stmt = (
            sa.select(
                orders.c.channel,
                sa.func.coalesce(sa.func.sum(return_lines.c.quantity), 0),
                sa.func.count(sa.distinct(sa.case((at_store, returns.c.id)))),
                sa.func.count(sa.distinct(sa.case((sa.not_(at_store), returns.c.id)))),
                sa.func.count(sa.distinct(sa.case((crossed, returns.c.id)))),
            )
            .select_from(returned_joined)
            .where(where)
            .group_by(orders.c.channel)
        )
        back = {r[0]: r for r in await self._rows(stmt)}
        rows = []
        for channel in sorted(set(sold) | set(back)):
            got = back.get(channel)
            rows.append(
                ReturnsRow(
                    channel=channel,
                    units_sold=sold.get(channel, 0),
                    units_returned=int(got[1]) if got else 0,
                    returns_in_store=int(got[2]) if got else 0,
                    returns_elsewhere=int(got[3]) if got else 0,
                    cross_channel_returns=int(got[4]) if got else 0,
                )
            )
        return rows

    async def stock(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[StockRow]:
        """Per location and category: units on hand now, units sold from there in the range."""
        level_where = [] if locations is None else [inventory_levels.c.location_id.in_(sorted(locations))]
        on_hand_stmt = (
            sa.select(
                inventory_levels.c.location_id,
                products.c.category,
                sa.func.coalesce(sa.func.sum(inventory_levels.c.on_hand), 0),
            )
            .select_from(
                inventory_levels.join(variants, variants.c.id == inventory_levels.c.variant_id).join(
                    products, products.c.id == variants.c.product_id
                )
            )
            .where(*level_where)
            .group_by(inventory_levels.c.location_id, products.c.category)
        )
        joined, where = _sold_lines(since, until, locations)
        sold_stmt = (
            sa.select(order_fulfillments.c.location_id, products.c.category, _UNITS)
            .select_from(
                joined.join(variants, variants.c.id == order_lines.c.variant_id).join(
                    products, products.c.id == variants.c.product_id
                )
            )
            .where(where)
            .group_by(order_fulfillments.c.location_id, products.c.category)
        )
        on_hand = {(r[0], r[1]): int(r[2]) for r in await self._rows(on_hand_stmt)}
        sold = {(r[0], r[1]): int(r[2]) for r in await self._rows(sold_stmt)}
        return [
            StockRow(
                location_id=key[0], category=key[1], on_hand=on_hand.get(key, 0), units_sold=sold.get(key, 0)
            )
            for key in sorted(set(on_hand) | set(sold))
        ]

    async def loyalty(self, since: datetime, until: datetime, period: str) -> list[LoyaltyRow]:
        bucket = period_of(loyalty_entries.c.created_at, period, self._store.dialect).label("period")

        def points_of(kind: str) -> Any:
            return sa.func.coalesce(
                sa.func.sum(sa.case((loyalty_entries.c.kind == kind, loyalty_entries.c.points))), 0
            )

        stmt = (
            sa.select(
                bucket, points_of("EARN"), points_of("SPEND"), points_of("REVERSE"), points_of("REFUND")
            )
            .where(loyalty_entries.c.created_at >= since, loyalty_entries.c.created_at < until)
            .group_by(bucket)
            .order_by(bucket)
        )
        return [
            LoyaltyRow(_as_date(r[0]) or since.date(), int(r[1]), -int(r[2]), -int(r[3]), int(r[4]))
            for r in await self._rows(stmt)
        ]

    async def points_outstanding(self, until: datetime) -> int:
        """Points members hold at `until`: what the retailer owes them (a point pays a minor unit)."""
        stmt = sa.select(sa.func.coalesce(sa.func.sum(loyalty_entries.c.points), 0)).where(
            loyalty_entries.c.created_at < until
        )
        async with self._store.reading() as conn:
            return int(await conn.scalar(stmt))
