"""Prices in context: which price a shopper sees, given who and where they are.

A price context is a currency plus, optionally, a channel, a store and a member tier. A price
list applies to a context when its currency is the context's, each of its channel, store and
tier is either unset or the context's, and the moment falls in [valid_from, valid_until).
Among the lists that apply and price the variant, the most specific wins:

    store + tier  >  store  >  tier  >  channel  >  the market default (a list naming none)

a list naming a channel as well beats one that does not at the same level; ties go to the
latest `valid_from` (a dated sale beats the standing list), then to the newer list. The
catalog's own price (the demo's, or an ERP's list price) is the shop currency's market default,
below every list; another currency has only its lists: exchange rates are never guessed, so a
variant no list prices in that currency has no price there (`VariantPrice.price` None).

A request names its context with the `@inContext` directive (gateway/pricing.py); without it,
prices are the catalog's own, exactly as before price lists. A cart is always priced in its
own context: its channel, currency, store and its member's tier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from adapters.commerce import CartRecord, Channel
from adapters.records import Money, PriceListRecord, PriceRecord, VariantRecord
from resolvers.errors import BadUserInput

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class PriceContext:
    """Whom a price is for; hashable, so it is part of the keys of everything that caches it."""

    currency_code: str
    channel: Channel | None = None
    location_id: int | None = None
    tier: str | None = None  # the member's tier, when some list of this currency names tiers


@dataclass(frozen=True, slots=True)
class VariantPrice:
    price: Money | None  # None: nothing prices this variant in the context's currency
    compare_at_price: Money | None
    price_list: str | None = None  # the winning list's code; None: the catalog's own price


def applies(price_list: PriceListRecord, context: PriceContext, now: datetime) -> bool:
    if price_list.currency_code != context.currency_code:
        return False
    if price_list.channel is not None and (
        context.channel is None or price_list.channel != context.channel.value
    ):
        return False
    if price_list.location_id is not None and price_list.location_id != context.location_id:
        return False
    if price_list.member_tier is not None and price_list.member_tier != context.tier:
        return False
    if price_list.valid_from is not None and now < price_list.valid_from:
        return False
    return price_list.valid_until is None or now < price_list.valid_until


def specificity(price_list: PriceListRecord) -> tuple[bool, bool, bool, datetime, int]:
    """The precedence as a sort key: larger wins."""
    return (
        price_list.location_id is not None,
        price_list.member_tier is not None,
        price_list.channel is not None,
        price_list.valid_from or _EARLIEST,
        price_list.id,
    )


def applicable(
    lists: Sequence[PriceListRecord], context: PriceContext, now: datetime
) -> list[PriceListRecord]:
    """The lists that apply to `context` at `now`, most specific first."""
    return sorted((pl for pl in lists if applies(pl, context, now)), key=specificity, reverse=True)


def choose(
    variant: VariantRecord,
    rows: Sequence[PriceRecord],
    lists: Sequence[PriceListRecord],
    context: PriceContext,
) -> VariantPrice:
    """The variant's price from the first of `lists` (most specific first) that prices it."""
    by_list = {row.price_list_id: row for row in rows}
    for price_list in lists:
        row = by_list.get(price_list.id)
        if row is not None:
            currency = price_list.currency_code
            compare_at = (
                None if row.compare_at_minor is None else Money.from_minor(row.compare_at_minor, currency)
            )
            return VariantPrice(Money.from_minor(row.amount_minor, currency), compare_at, price_list.code)
    if variant.price.currency_code == context.currency_code:
        return VariantPrice(variant.price, variant.compare_at_price)
    return VariantPrice(None, None)


def catalog_price(variant: VariantRecord) -> VariantPrice:
    return VariantPrice(variant.price, variant.compare_at_price)


# -- reads ----------------------------------------------------------------------------------------


async def price_lists(ctx: ResolverContext) -> tuple[PriceListRecord, ...]:
    return await ctx.loaders.price_lists.load()


async def of_variants(
    ctx: ResolverContext, variants: Sequence[VariantRecord], context: PriceContext | None
) -> list[VariantPrice]:
    """Each variant's price in `context` (None: the catalog's own, as without price lists)."""
    if context is None:
        return [VariantPrice(v.price, v.compare_at_price) for v in variants]
    return await ctx.loaders.variant_price.prices_of(variants, context)


async def in_request_context(ctx: ResolverContext, variants: Sequence[VariantRecord]) -> list[VariantPrice]:
    """Prices in the context the request named with `@inContext` (None: the catalog's own)."""
    return await of_variants(ctx, variants, getattr(ctx, "pricing", None))


async def currencies(ctx: ResolverContext) -> frozenset[str]:
    """What anything is priced in: the shop's currency, and each list's."""
    return frozenset({ctx.policy.currency_code, *(pl.currency_code for pl in await price_lists(ctx))})


async def market_currency(ctx: ResolverContext, country_code: str) -> str:
    """The currency a country buys in (its market's), else the shop's."""
    source = ctx.upstreams.prices
    markets = () if source is None else await source.markets()
    return next(
        (m.currency_code for m in markets if m.country_code == country_code), ctx.policy.currency_code
    )


async def member_tier(ctx: ResolverContext, member_id: str | None, currency_code: str) -> str | None:
    """The member's loyalty tier, when a list of this currency prices by tier (else it cannot
    change a price, and is not looked up)."""
    if member_id is None or not any(
        pl.member_tier is not None and pl.currency_code == currency_code for pl in await price_lists(ctx)
    ):
        return None
    from resolvers.loyalty import account  # loyalty's own rules decide the tier

    return (await account(ctx, member_id)).tier


async def resolve_context(
    ctx: ResolverContext,
    *,
    channel: Channel | None = None,
    country: str | None = None,
    currency: str | None = None,
    location_id: int | None = None,
    member_id: str | None = None,
    field_prefix: str = "",
) -> PriceContext:
    """A context from what a caller says about itself: the currency is `currency`, else the
    market of `country`, else the market of the store's country, else the shop's. Refuses
    (BAD_USER_INPUT) what names nothing: an unknown store, a malformed country, a currency
    nothing is priced in."""
    location = None
    if location_id is not None:
        location = await ctx.loaders.location_by_id.load(location_id)
        if location is None:
            raise BadUserInput("no location has this id", field=f"{field_prefix}location")
    if country is not None and not _COUNTRY.fullmatch(country):
        raise BadUserInput(
            "`country` is an ISO 3166-1 alpha-2 code such as CA", field=f"{field_prefix}country"
        )
    if currency is None:
        where = country or (location.address.country_code if location is not None else None)
        currency = ctx.policy.currency_code if where is None else await market_currency(ctx, where)
    elif currency not in await currencies(ctx):
        raise BadUserInput(f"nothing is priced in {currency}", field=f"{field_prefix}currency")
    tier = await member_tier(ctx, member_id, currency)
    return PriceContext(currency, channel, location_id, tier)


async def of_cart(ctx: ResolverContext, cart: CartRecord) -> PriceContext:
    """A cart's prices: its channel, currency and store, and its member's tier."""
    tier = await member_tier(ctx, cart.member_id, cart.currency_code)
    return PriceContext(cart.currency_code, cart.channel, cart.location_id, tier)


async def cache_key(ctx: ResolverContext, context: PriceContext | None) -> tuple[object, ...]:
    """What a cached answer in `context` depends on beyond the request itself: the context and
    the lists that apply to it now (a list that starts or ends makes it another answer)."""
    if context is None:
        return ()
    lists = applicable(await price_lists(ctx), context, ctx.now())
    return (context, tuple(pl.id for pl in lists))
