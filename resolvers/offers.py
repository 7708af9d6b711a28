"""Offers: a percentage off for a segment's members (or anyone), in some channels, at some
stores or near a point, for a while. Applied in cart pricing, line by line: a line gets the
best offer that applies to it (the largest percentage; the older offer on a tie), taken off
each unit and rounded down to the minor unit. The order keeps the discount on each line and
charges the net price, so a return refunds what was paid: the discount is reversed with it."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.ports.marketing import OfferCodeTaken, OfferRecord
from adapters.records import Money
from resolvers.errors import UpstreamUnavailable
from resolvers.events import CatalogChanged
from resolvers.geo import distance_km
from resolvers.pagination import Connection, PageArgs, keyset_connection
from resolvers.segments import tier_bands
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.commerce import CartLineRecord, CartRecord
    from adapters.ports.marketing import OfferStore
    from adapters.ports.upstreams import Upstreams
    from adapters.records import LocationRecord
    from resolvers.context import ResolverContext

CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class LineDiscount:
    offer_code: str
    unit_discount_minor: int
    quantity: int
    currency_code: str

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.unit_discount_minor * self.quantity, self.currency_code)


@dataclass(frozen=True, slots=True)
class OfferResult:
    offer: OfferRecord | None
    user_errors: list[UserError]


class AllOffers:
    """Every offer, read once per request (a cart's lines all consult them)."""

    def __init__(self, upstreams: Upstreams) -> None:
        self._offers = upstreams.offers
        self._task: Any = None

    async def load(self) -> list[OfferRecord]:
        if self._offers is None:
            return []
        if self._task is None:
            self._task = asyncio.ensure_future(self._offers.all_offers())
        return await self._task  # type: ignore[no-any-return]


class SegmentIdsOfMember:
    """The ids of the segments a member is in, evaluated once per member and request."""

    def __init__(self, upstreams: Upstreams) -> None:
        self._segments = upstreams.segments
        self._found: dict[str, Any] = {}

    async def load(self, ctx: ResolverContext, member_key: str) -> frozenset[int]:
        if self._segments is None:
            return frozenset()
        if member_key not in self._found:
            self._found[member_key] = asyncio.ensure_future(
                self._segments.segments_of_member(member_key, ctx.now(), tier_bands(ctx))
            )
        return frozenset(s.id for s in await self._found[member_key])


def _store(ctx: ResolverContext) -> OfferStore:
    if ctx.upstreams.offers is None:
        raise UpstreamUnavailable("no offer store is configured")
    return ctx.upstreams.offers


def live(offer: OfferRecord, now: datetime) -> bool:
    if not offer.active or (offer.valid_from is not None and now < offer.valid_from):
        return False
    return offer.valid_until is None or now < offer.valid_until


def applies_at(offer: OfferRecord, location: LocationRecord | None) -> bool:
    """An offer naming no place applies anywhere (shipped lines too); one naming stores or a
    radius applies to lines fulfilled at such a store (pickup, reserve, a store's own cart)."""
    if not offer.location_ids and offer.near is None:
        return True
    if location is None:
        return False
    if location.id in offer.location_ids:
        return True
    return (
        offer.near is not None
        and offer.radius_km is not None
        and (distance_km(offer.near, location.geo) <= offer.radius_km)
    )


async def _for_member(ctx: ResolverContext, offer: OfferRecord, member_key: str | None) -> bool:
    if offer.segment_id is None:
        return True
    if member_key is None:
        return False
    return offer.segment_id in await ctx.loaders.segment_ids_of_member.load(ctx, member_key)


async def best_for_line(
    ctx: ResolverContext, cart: CartRecord, line: CartLineRecord, unit_minor: int
) -> LineDiscount | None:
    """The discount the best applicable offer takes off this line now (None: none applies)."""
    now = ctx.now()
    candidates = [
        o for o in await ctx.loaders.all_offers.load()
        if live(o, now) and (not o.channels or cart.channel.value in o.channels)
    ]  # fmt: skip
    if not candidates or unit_minor <= 0:
        return None
    where = line.location_id if line.location_id is not None else cart.location_id
    location = None if where is None else await ctx.loaders.location_by_id.load(where)
    best = None
    for offer in sorted(candidates, key=lambda o: (-o.percent_off, o.id)):
        if applies_at(offer, location) and await _for_member(ctx, offer, cart.member_id):
            best = offer
            break
    if best is None:
        return None
    unit_discount = unit_minor * best.percent_off // 100
    return (
        LineDiscount(best.code, unit_discount, line.quantity, cart.currency_code) if unit_discount else None
    )


async def member_offers(ctx: ResolverContext, member_key: str) -> list[OfferRecord]:
    """The live offers this member qualifies for (everyone's and their segments'); where and in
    which channel each applies is on the offer."""
    now = ctx.now()
    found = [o for o in await ctx.loaders.all_offers.load() if live(o, now)]
    return [o for o in found if await _for_member(ctx, o, member_key)]


# -- marketing's management -------------------------------------------------------------------


async def offers_by_ids(ctx: ResolverContext, ids: list[int]) -> list[OfferRecord | None]:
    found = {o.id: o for o in await _store(ctx).offers_by_ids(ids)}
    return [found.get(i) for i in ids]


async def offer_list(ctx: ResolverContext, args: PageArgs) -> Connection[OfferRecord]:
    return await keyset_connection(
        args, ctx.policy, "offers", int, lambda o: (o.id, o.id), _store(ctx).offer_page
    )


async def save_offer(ctx: ResolverContext, offer: OfferRecord) -> OfferResult:
    """Create (id 0) or replace an offer."""
    errors = []
    if not CODE.fullmatch(offer.code):
        errors.append(UserError(["input", "code"], "1 to 64 letters, digits, - or _", "INVALID"))
    if not 1 <= len(offer.title) <= 255:
        errors.append(UserError(["input", "title"], "1 to 255 characters", "INVALID"))
    if not 1 <= offer.percent_off <= 100:
        errors.append(UserError(["input", "percentOff"], "between 1 and 100", "INVALID"))
    if (offer.near is None) != (offer.radius_km is None):
        errors.append(
            UserError(["input", "radiusKm"], "a radius goes with `near`, and `near` with a radius", "INVALID")
        )
    if offer.radius_km is not None and not 0 < offer.radius_km <= 20_100:
        errors.append(UserError(["input", "radiusKm"], "between 0 and 20100 km", "INVALID"))
    if offer.near is not None and not (
        -90 <= offer.near.latitude <= 90 and -180 <= offer.near.longitude <= 180
    ):
        errors.append(
            UserError(["input", "near"], "latitude in [-90, 90], longitude in [-180, 180]", "INVALID")
        )
    if offer.valid_from and offer.valid_until and offer.valid_until <= offer.valid_from:
        errors.append(UserError(["input", "validUntil"], "after validFrom", "INVALID"))
    if len(offer.location_ids) > 250:
        errors.append(UserError(["input", "storeIds"], "at most 250 stores", "INVALID"))
    for index, location_id in enumerate(offer.location_ids[:250]):
        if await ctx.loaders.location_by_id.load(location_id) is None:
            errors.append(UserError(["input", "storeIds", str(index)], "no such store", "LOCATION_NOT_FOUND"))
    segments = ctx.upstreams.segments
    if offer.segment_id is not None and segments and not await segments.segments_by_ids([offer.segment_id]):
        errors.append(UserError(["input", "segmentId"], "no such segment", "SEGMENT_NOT_FOUND"))
    if errors:
        return OfferResult(None, errors)
    try:
        saved = await _store(ctx).save_offer(offer, ctx.now())
    except OfferCodeTaken:
        return OfferResult(
            None, [UserError(["input", "code"], "another offer has this code", "OFFER_CODE_TAKEN")]
        )
    if saved is None:
        return OfferResult(None, [UserError(["id"], "no such offer", "OFFER_NOT_FOUND")])
    await _offers_changed(ctx)
    return OfferResult(saved, [])


async def delete_offer(ctx: ResolverContext, offer_id: int) -> list[UserError]:
    if not await _store(ctx).delete_offer(offer_id):
        return [UserError(["id"], "no such offer", "OFFER_NOT_FOUND")]
    await _offers_changed(ctx)
    return []


async def _offers_changed(ctx: ResolverContext) -> None:
    """Every process's copy of the offers forgets them (they price carts: a catalog change)."""
    await ctx.events.publish(CatalogChanged((), "OFFERS", ctx.now()))


def with_id(offer: OfferRecord, offer_id: int) -> OfferRecord:
    return dataclasses.replace(offer, id=offer_id)
