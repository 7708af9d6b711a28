"""What was bought, read across every channel's orders: the data recommendations learn from.
Cancelled orders and checkouts still taking payment do not count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import OrderStatus
from adapters.store.tables import order_fulfillments, order_lines, orders, products, variants

if TYPE_CHECKING:
    from adapters.store.engine import Database

_COUNTED = sa.not_(orders.c.status.in_([OrderStatus.CANCELLED.value, OrderStatus.PENDING_PAYMENT.value]))


def _bought() -> Any:
    """(order id, product id, category) of each counted order line."""
    return (
        sa.select(
            order_lines.c.order_id.label("order_id"),
            variants.c.product_id.label("product_id"),
            products.c.category.label("category"),
            orders.c.member_id.label("member_id"),
            order_lines.c.quantity.label("quantity"),
        )
        .join(orders, orders.c.id == order_lines.c.order_id)
        .join(variants, variants.c.id == order_lines.c.variant_id)
        .join(products, products.c.id == variants.c.product_id)
        .where(_COUNTED)
    )


class StorePurchases:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._store.reading() as conn:
            return list(await conn.execute(stmt))

    async def bought_together(self, product_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(product, other product, orders with both) for each of `product_ids`."""
        a, b = _bought().subquery(), _bought().subquery()
        stmt = (
            sa.select(a.c.product_id, b.c.product_id, sa.func.count(sa.distinct(a.c.order_id)))
            .join(b, sa.and_(b.c.order_id == a.c.order_id, b.c.product_id != a.c.product_id))
            .where(a.c.product_id.in_(list(product_ids)))
            .group_by(a.c.product_id, b.c.product_id)
        )
        return [(r[0], r[1], int(r[2])) for r in await self._rows(stmt)]

    async def bought_by_member(self, member_id: str) -> list[tuple[int, str, int]]:
        """(product, category, units) the member bought, on any channel."""
        q = _bought().subquery()
        stmt = (
            sa.select(q.c.product_id, q.c.category, sa.func.sum(q.c.quantity))
            .where(q.c.member_id == member_id)
            .group_by(q.c.product_id, q.c.category)
        )
        return [(r[0], r[1], int(r[2])) for r in await self._rows(stmt)]

    async def best_sellers_at(self, location_ids: Sequence[int], limit: int) -> list[tuple[int, str, int]]:
        q = (
            _bought()
            .join(order_fulfillments, order_fulfillments.c.id == order_lines.c.fulfillment_id)
            .where(order_fulfillments.c.location_id.in_(list(location_ids)))
            .subquery()
        )
        n = sa.func.count(sa.distinct(q.c.order_id)).label("n")
        stmt = (
            sa.select(q.c.product_id, q.c.category, n)
            .group_by(q.c.product_id, q.c.category)
            .order_by(sa.desc("n"), q.c.product_id)
            .limit(limit)
        )
        return [(r[0], r[1], int(r[2])) for r in await self._rows(stmt)]

    async def best_sellers(self, categories: Sequence[str] | None, limit: int) -> list[tuple[int, str, int]]:
        """(product, category, orders) of the most ordered products (in `categories` when given)."""
        q = _bought().subquery()
        stmt = sa.select(q.c.product_id, q.c.category, sa.func.count(sa.distinct(q.c.order_id)).label("n"))
        if categories is not None:
            stmt = stmt.where(q.c.category.in_(list(categories)))
        stmt = stmt.group_by(q.c.product_id, q.c.category).order_by(sa.desc("n"), q.c.product_id).limit(limit)
        return [(r[0], r[1], int(r[2])) for r in await self._rows(stmt)]
