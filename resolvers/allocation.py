"""Where a SHIP line is allocated: a routing strategy a retailer can swap (like Vendure's
StockLocationStrategy), chosen by GATEWAY_ROUTING_STRATEGY and wired in `CommercePolicy`.

A strategy only ranks the locations that may ship, from a snapshot of stock. The checkout then
takes the whole line at the first of them that has it; when none has it all, it splits the line
across them in the same order, each part its own fulfillment. Every take is an atomic
conditional update, so a stale snapshot can cost a retry or a split, never an oversell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from adapters.records import GeoPoint, InventoryLevelRecord, LocationKind, LocationRecord
from resolvers.geo import distance_km


class ShipAllocationStrategy(Protocol):
    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
        destination: GeoPoint | None = None,
    ) -> tuple[int, ...]:
        """Location ids to try for a shipped line, best first (a split follows this order)."""
        ...


def ships(location: LocationRecord) -> bool:
    """Warehouses ship; a store ships only when it is set up to ship from store."""
    return location.kind is LocationKind.WAREHOUSE or location.ship_from_store_enabled


def _stock(levels: Sequence[InventoryLevelRecord]) -> dict[int, int]:
    return {lv.location_id: lv.available for lv in levels}


class MostStockedWarehouseFirst:
    """Ship from warehouses only, the one with most available first: the warehouse most able
    to absorb the next order keeps the load (stores never ship)."""

    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
        destination: GeoPoint | None = None,
    ) -> tuple[int, ...]:
        warehouses = {loc.id for loc in locations if loc.kind is LocationKind.WAREHOUSE}
        stock = {k: v for k, v in _stock(levels).items() if k in warehouses}
        ranked = sorted(warehouses, key=lambda loc: (stock.get(loc, 0) < quantity,
                                                     -stock.get(loc, 0), loc))  # fmt: skip
        return tuple(ranked)


class WarehousesFirst:
    """Warehouses before stores that ship (a store's shelf is for walk-in customers first);
    within each, the most stocked first, so a split has as few parts as it can."""

    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
        destination: GeoPoint | None = None,
    ) -> tuple[int, ...]:
        return _ranked(
            levels, locations,
            lambda loc, units: (loc.kind is not LocationKind.WAREHOUSE, units < quantity, -units, loc.id),
        )  # fmt: skip


class FewestShipments:
    """Whatever ships, most stocked first: one parcel when any location has it all, else the
    fewest parts (largest first), warehouse or store alike."""

    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
        destination: GeoPoint | None = None,
    ) -> tuple[int, ...]:
        return _ranked(levels, locations, lambda loc, units: (units < quantity, -units, loc.id))


class Nearest:
    """Closest to the address first (the `shipTo` point of the checkout), whole or split;
    without a point it ships like FewestShipments."""

    def ship_from(
        self,
        quantity: int,
        levels: Sequence[InventoryLevelRecord],
        locations: Sequence[LocationRecord],
        destination: GeoPoint | None = None,
    ) -> tuple[int, ...]:
        if destination is None:
            return FewestShipments().ship_from(quantity, levels, locations)
        point = destination
        return _ranked(levels, locations, lambda loc, _: (distance_km(loc.geo, point), loc.id))


def _ranked(
    levels: Sequence[InventoryLevelRecord],
    locations: Sequence[LocationRecord],
    key: Callable[[LocationRecord, int], Any],
) -> tuple[int, ...]:
    """The locations that ship and hold some of the variant, in the order of `key(location,
    units there)`: what each strategy differs in."""
    stock = _stock(levels)
    found = [loc for loc in locations if ships(loc) and stock.get(loc.id, 0) > 0]
    found.sort(key=lambda loc: key(loc, stock[loc.id]))
    return tuple(loc.id for loc in found)


ROUTING_STRATEGIES: dict[str, Callable[[], ShipAllocationStrategy]] = {
    "warehouses_first": WarehousesFirst,
    "fewest_shipments": FewestShipments,
    "nearest": Nearest,
    "warehouses_only": MostStockedWarehouseFirst,
}
