"""Recommendations from the unified history: what is bought together across everyone's orders
(web, app, till and partner alike) and, for a member, what they tend to buy. Only products for
sale now, never what the member already bought; ties break by product id, so the same data
always gives the same answer.

`product_recommendations` depends on no one in particular (it may be shared); the member's
list is personal and is never cached."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from adapters.records import ProductRecord
from resolvers.errors import BadUserInput
from resolvers.geo import distance_km
from resolvers.inventory import products_available_for_sale
from resolvers.recommendation_strategy import Signals

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_RECOMMENDATIONS = 50


class RecommendationReason(Enum):
    """Why a product is recommended to a member, in the order the fallbacks are tried."""

    BOUGHT_TOGETHER = "BOUGHT_TOGETHER"  # bought in the same orders as what the member bought
    YOUR_CATEGORIES = "YOUR_CATEGORIES"  # a best seller in a category the member buys in
    POPULAR_NEAR_YOU = "POPULAR_NEAR_YOU"  # a best seller at the member's preferred store or region
    POPULAR = "POPULAR"  # a best seller anywhere: the last fallback, so the list is never empty


@dataclass(frozen=True, slots=True)
class Recommendation:
    product: ProductRecord
    reason: RecommendationReason


def _checked(first: int) -> int:
    if not 0 <= first <= MAX_RECOMMENDATIONS:
        raise BadUserInput(f"`first` must be between 0 and {MAX_RECOMMENDATIONS}", field="first")
    return first


async def _for_sale(ctx: ResolverContext, ranked: list[int], first: int) -> list[ProductRecord]:
    if not ranked or not first:
        return []
    candidates = ranked[: first * 4]  # enough to fill the list when some are sold out
    products = await ctx.loaders.product_by_id.load_many(candidates)
    found = [p for p in products if p is not None]
    sellable = await products_available_for_sale(ctx, [p.id for p in found])
    return [p for p, ok in zip(found, sellable, strict=True) if ok][:first]


async def product_recommendations(ctx: ResolverContext, product_id: int, first: int) -> list[ProductRecord]:
    """Bought with this product, most often first."""
    if not _checked(first):
        return []
    together = await ctx.loaders.bought_together_by_product_id.load(product_id)
    signals = Signals([(product_id, other, n) for other, n in together], {}, [])
    return await _for_sale(ctx, ctx.policy.recommendations.rank(signals, {product_id}), first)


async def member_recommendations(
    ctx: ResolverContext, member_id: str, first: int, preferred_location_id: int | None = None
) -> list[ProductRecord]:
    """The products of `member_recommendations_with_reasons`."""
    found = await member_recommendations_with_reasons(ctx, member_id, first, preferred_location_id)
    return [r.product for r in found]


async def member_recommendations_with_reasons(
    ctx: ResolverContext, member_id: str, first: int, preferred_location_id: int | None = None
) -> list[Recommendation]:
    """Always an answer while anything sells: what is bought with what the member bought (any
    channel) and best sellers of their categories, ranked by the retailer's strategy; then best
    sellers at the member's preferred store and the stores around it; then best sellers anywhere.
    Never what the member already has; only products for sale; each says why it is there."""
    history = ctx.upstreams.purchases
    if history is None or not _checked(first):
        return []
    bought = await history.bought_by_member(member_id)
    owned = {product for product, _, _ in bought}
    affinity: Counter[str] = Counter()
    for _, category, units in bought:
        affinity[category] += units
    together = await history.bought_together(sorted(owned)) if owned else []
    wanted = first * 4 + len(owned)
    popular = await history.best_sellers(sorted(affinity), limit=wanted) if affinity else []
    signals = Signals(together, dict(affinity), popular)
    with_owned = {other for _, other, _ in together}
    together_or_category = [
        (p, RecommendationReason.BOUGHT_TOGETHER if p in with_owned else RecommendationReason.YOUR_CATEGORIES)
        for p in ctx.policy.recommendations.rank(signals, owned)
    ]
    ranked = list(together_or_category)
    nearby = await _region(ctx, preferred_location_id)
    if nearby:
        local = await history.best_sellers_at(nearby, wanted)
        ranked += [(p, RecommendationReason.POPULAR_NEAR_YOU) for p, _, _ in local]
    anywhere = await history.best_sellers(None, wanted)
    ranked += [(p, RecommendationReason.POPULAR) for p, _, _ in anywhere]
    reasons: dict[int, RecommendationReason] = {}
    for product, reason in ranked:
        if product not in owned:
            reasons.setdefault(product, reason)  # the first (most specific) reason wins
    products = await _for_sale(ctx, list(reasons), first)
    return [Recommendation(p, reasons[p.id]) for p in products]


async def _region(ctx: ResolverContext, preferred_location_id: int | None) -> list[int]:
    """The member's preferred store and the stores within the default radius of it."""
    if preferred_location_id is None:
        return []
    locations = await ctx.loaders.all_locations.load()
    home = next((loc for loc in locations if loc.id == preferred_location_id), None)
    if home is None:
        return []
    radius = ctx.policy.default_radius_km
    return [loc.id for loc in locations if distance_km(home.geo, loc.geo) <= radius]
