"""Stores and warehouses: by id, and listed by distance from a shopper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.records import GeoPoint, InventoryLevelRecord, LocationKind, LocationRecord
from resolvers.errors import NotFound
from resolvers.geo import checked_point, checked_radius, distance_km
from resolvers.pagination import MAX_KEY, Connection, PageArgs, keyset_connection, window_in_memory

if TYPE_CHECKING:
    from resolvers.context import ResolverContext


@dataclass(frozen=True, slots=True)
class LocationEdge:
    cursor: str
    node: LocationRecord
    distance_km: float | None


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise ValueError(value)
    return float(value)


def _int(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_KEY:
        raise ValueError(value)
    return value


async def location(ctx: ResolverContext, id: int) -> LocationRecord:
    found = await ctx.loaders.location_by_id.load(id)
    if found is None:
        raise NotFound("no location has this id", field="id")
    return found


async def locations_by_ids(ctx: ResolverContext, ids: list[int]) -> list[LocationRecord | None]:
    return await ctx.loaders.location_by_id.load_many(ids)


async def locations_of_levels(
    ctx: ResolverContext, levels: list[InventoryLevelRecord]
) -> list[LocationRecord | None]:
    return await locations_by_ids(ctx, [lv.location_id for lv in levels])


async def locations(
    ctx: ResolverContext,
    page: PageArgs,
    *,
    near: GeoPoint | None = None,
    radius_km: float | None = None,
    kind: LocationKind | None = None,
) -> Connection[LocationRecord]:
    """All locations by id, or by distance from `near` (within `radiusKm`, if given)."""
    every = [loc for loc in await ctx.loaders.all_locations.load() if kind is None or loc.kind is kind]
    if near is None:
        rows = [(float(loc.id), loc, None) for loc in every]
        ordering, parse = "locations:ID", _int
    else:
        point = checked_point(near)
        radius = checked_radius(radius_km, float("inf")) if radius_km is not None else float("inf")
        rows = [(d, loc, d) for loc in every if (d := distance_km(point, loc.geo)) <= radius]
        ordering, parse = "locations:DISTANCE", _float
    rows.sort(key=lambda r: (r[0], r[1].id))
    distances = {r[1].id: r[2] for r in rows}

    def position(loc: LocationRecord) -> tuple[Any, int]:
        d = distances[loc.id]
        return (loc.id if d is None else d), loc.id

    async def fetch(window: Any) -> list[LocationRecord]:
        return window_in_memory([r[1] for r in rows], window, position)

    def edge(cursor: str, loc: LocationRecord) -> LocationEdge:
        d = distances[loc.id]
        return LocationEdge(cursor, loc, None if d is None else round(d, 3))

    return await keyset_connection(page, ctx.policy, ordering, parse, position, fetch, edge=edge)
