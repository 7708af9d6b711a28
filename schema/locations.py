"""Stores and warehouses."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from adapters import records
from adapters.records import LocationRecord
from resolvers import locations
from resolvers.pagination import PageArgs
from schema.batch import LOCATIONS
from schema.common import Address, GeoPoint, GeoPointInput, Node, PageInfo
from schema.ids import decode_id, to_global_id

LocationKind = strawberry.enum(records.LocationKind)
DayOfWeek = strawberry.enum(records.DayOfWeek)


@strawberry.type(description="Opening hours for one day, in the location's local time (HH:MM).")
class OpeningHours:
    cache_topics = LOCATIONS

    day: DayOfWeek  # type: ignore[valid-type]
    opens: str
    closes: str


@strawberry.type
class Location(Node):
    record = LocationRecord
    cache_topics = LOCATIONS

    code: str
    name: str
    kind: LocationKind  # type: ignore[valid-type]
    address: Address
    geo: GeoPoint
    timezone: str = strawberry.field(description="IANA time zone of the opening hours.")
    pickup_enabled: bool
    ship_from_store_enabled: bool
    opening_hours: list[OpeningHours]

    @strawberry.field
    def id(root: LocationRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Location", root.id))

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[LocationRecord | None]:
        return await locations.locations_by_ids(info.context, keys)


@strawberry.type
class LocationEdge:
    cache_topics = LOCATIONS

    cursor: str
    node: Location
    distance_km: float | None = strawberry.field(description="From `near`, when it was given.")


@strawberry.type
class LocationConnection:
    cache_topics = LOCATIONS

    edges: list[LocationEdge]
    nodes: list[Location]
    page_info: PageInfo


@strawberry.type
class LocationQuery:
    @strawberry.field(description="A store or warehouse.")
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return await locations.location(info.context, decode_id(id, "Location"))  # type: ignore[return-value]

    @strawberry.field(description="Locations by id, or nearest first when `near` is given.")
    async def locations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        near: GeoPointInput | None = None,
        radius_km: float | None = None,
        kind: LocationKind | None = None,  # type: ignore[valid-type]
    ) -> LocationConnection:
        return await locations.locations(  # type: ignore[return-value]
            info.context,
            PageArgs(first=first, after=after, last=last, before=before),
            near=near.to_record() if near is not None else None,
            radius_km=radius_km,
            kind=kind,
        )
