"""Where a SHIP line is allocated: a strategy a retailer can swap (like Vendure's
StockLocationStrategy), wired in `CommercePolicy`.

A strategy only ranks locations from a snapshot of stock; the checkout then tries them in order
with an atomic conditional update, so a stale snapshot can cost a retry, never an oversell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.records import InventoryLevelRecord, LocationKind, LocationRecord


class ShipAllocationStrategy(Protocol):
    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
    ) -> tuple[int, ...]:
        """Location ids to try for a shipped line, best first."""
        ...


class MostStockedWarehouseFirst:
    """Ship from warehouses only, the one with most available first: whole lines, no splits,
    and the warehouse most able to absorb the next order keeps the load."""

    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
    ) -> tuple[int, ...]:
        warehouses = {loc.id for loc in locations if loc.kind is LocationKind.WAREHOUSE}
        stock = {lv.location_id: lv.available for lv in levels if lv.location_id in warehouses}
        ranked = sorted(warehouses, key=lambda loc: (stock.get(loc, 0) < quantity,
                                                     -stock.get(loc, 0), loc))  # fmt: skip
        return tuple(ranked)
