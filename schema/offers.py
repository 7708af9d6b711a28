"""Offers for marketing to manage (a percentage off, targeted by segment, channel and place),
applied in cart pricing (`CartLine.discount`) and kept on orders (`OrderLine.discount`).
A member's own are `Member.offers`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.commerce import Channel as ChannelRecord
from adapters.ports.marketing import OfferRecord
from resolvers import offers
from resolvers.pagination import PageArgs
from resolvers.user_errors import UserError as UserErrorRecord
from schema.common import Channel, GeoPoint, GeoPointInput, Node, PageInfo, UserError
from schema.ids import decode_id, to_global_id
from schema.permissions import CanManageMarketing, check_marketing


@strawberry.type(
    description="A percentage off each unit, for a segment's members (or anyone), in some channels (or "
    "all), at some stores or within a radius of a point (or anywhere, shipped lines too), for a while."
)
class Offer(Node):
    record = OfferRecord

    code: str
    title: str
    percent_off: int
    radius_km: float | None
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool

    @strawberry.field
    def id(root: OfferRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Offer", root.id))

    @strawberry.field(description="The segment whose members it is for; null: anyone (guests too).")
    def segment_id(root: OfferRecord) -> strawberry.ID | None:
        return None if root.segment_id is None else strawberry.ID(to_global_id("Segment", root.segment_id))

    @strawberry.field(description="The channels it applies in; empty: every channel.")
    def channels(root: OfferRecord) -> list[Channel]:
        return [ChannelRecord(c) for c in root.channels]  # type: ignore[misc]

    @strawberry.field(
        description="Stores where it applies (lines picked up or reserved there, a store's own carts)."
    )
    def store_ids(root: OfferRecord) -> list[strawberry.ID]:
        return [strawberry.ID(to_global_id("Location", i)) for i in root.location_ids]

    @strawberry.field(description="With `radiusKm`: it applies at stores within that distance of this point.")
    def near(root: OfferRecord) -> GeoPoint | None:
        return root.near  # type: ignore[return-value]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[OfferRecord | None]:
        check_marketing(info)
        return await offers.offers_by_ids(info.context, keys)


@strawberry.input
class OfferInput:
    code: str
    title: str
    percent_off: int
    segment_id: strawberry.ID | None = None
    channels: list[Channel] | None = None  # type: ignore[valid-type]
    store_ids: list[strawberry.ID] | None = None
    near: GeoPointInput | None = None
    radius_km: float | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool = True

    def to_record(self, offer_id: int) -> OfferRecord:
        return OfferRecord(
            id=offer_id,
            code=self.code,
            title=self.title,
            percent_off=self.percent_off,
            segment_id=None
            if self.segment_id is None
            else decode_id(self.segment_id, "Segment", "segmentId"),
            channels=tuple(c.value for c in self.channels or ()),
            location_ids=tuple(decode_id(s, "Location", "storeIds") for s in self.store_ids or ()),
            near=None if self.near is None else self.near.to_record(),
            radius_km=self.radius_km,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            active=self.active,
        )


@strawberry.type
class OfferEdge:
    cursor: str
    node: Offer


@strawberry.type
class OfferConnection:
    edges: list[OfferEdge]
    nodes: list[Offer]
    page_info: PageInfo


@strawberry.type
class OfferPayload:
    offer: Offer | None
    user_errors: list[UserError]


@strawberry.type
class OfferDeletePayload:
    deleted_offer_id: strawberry.ID | None
    user_errors: list[UserError]


def _saved(result: Any) -> OfferPayload:
    return OfferPayload(offer=result.offer, user_errors=result.user_errors)


@strawberry.type
class OfferQuery:
    @strawberry.field(
        permission_classes=[CanManageMarketing], description="Marketing: every offer, oldest first."
    )
    async def offers(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> OfferConnection:  # fmt: skip
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await offers.offer_list(info.context, args)  # type: ignore[return-value]


@strawberry.type
class OfferMutation:
    @strawberry.mutation(permission_classes=[CanManageMarketing], description="Marketing: a new offer.")
    async def offer_create(self, info: Info, input: OfferInput) -> OfferPayload:
        return _saved(await offers.save_offer(info.context, input.to_record(0)))

    @strawberry.mutation(permission_classes=[CanManageMarketing], description="Marketing: an offer replaced.")
    async def offer_update(self, info: Info, id: strawberry.ID, input: OfferInput) -> OfferPayload:
        return _saved(await offers.save_offer(info.context, input.to_record(decode_id(id, "Offer"))))

    @strawberry.mutation(permission_classes=[CanManageMarketing], description="Marketing: an offer removed.")
    async def offer_delete(self, info: Info, id: strawberry.ID) -> OfferDeletePayload:
        errors: list[UserErrorRecord] = await offers.delete_offer(info.context, decode_id(id, "Offer"))
        return OfferDeletePayload(deleted_offer_id=None if errors else id, user_errors=errors)  # type: ignore[arg-type]


__all__ = ["Offer", "OfferMutation", "OfferQuery"]
