"""Analytics ports: the reports' aggregates over every channel's orders, and the purchase history.

Purchase history is what recommendations learn from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from adapters.support import FulfillmentMixRow, LoyaltyRow, ReturnsRow, SalesRow, StockRow


class PurchaseHistory(Protocol):
    """What was bought, across every channel: what recommendations learn from."""

    async def bought_together(self, product_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(product, other product, number of orders with both) for each of `product_ids`."""
        ...

    async def bought_by_member(self, member_id: str) -> list[tuple[int, str, int]]:
        """(product, category, units) the member bought."""
        ...

    async def best_sellers(self, categories: Sequence[str] | None, limit: int) -> list[tuple[int, str, int]]:
        """(product, category, orders) of the most ordered products, most first, then by id."""
        ...

    async def best_sellers_at(self, location_ids: Sequence[int], limit: int) -> list[tuple[int, str, int]]:
        """As `best_sellers`, counting only what was sold or fulfilled at `location_ids`."""
        ...


class AnalyticsSource(Protocol):
    """The analytics reports' aggregates over [since, until), of some locations (None: all)."""

    async def sales(
        self, since: datetime, until: datetime, locations: Collection[int] | None, *,
        by_channel: bool, by_location: bool, period: str | None,
    ) -> list[SalesRow]: ...  # fmt: skip

    async def fulfillment_mix(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[FulfillmentMixRow]: ...

    async def returns(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[ReturnsRow]: ...

    async def stock(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[StockRow]: ...

    async def loyalty(self, since: datetime, until: datetime, period: str) -> list[LoyaltyRow]: ...

    async def points_outstanding(self, until: datetime) -> int: ...
