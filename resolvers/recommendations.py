"""Recommendations from the unified history: what is bought together across everyone's orders
(web, app, till and partner alike) and, for a member, what they tend to buy. Only products for
sale now, never what the member already bought; ties break by product id, so the same data
always gives the same answer.

`product_recommendations` depends on no one in particular (it may be shared); the member's
list is personal and is never cached."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from adapters.records import ProductRecord
from resolvers.errors import BadUserInput
from resolvers.inventory import products_available_for_sale
from resolvers.recommendation_strategy import Signals

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_RECOMMENDATIONS = 50


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


async def member_recommendations(ctx: ResolverContext, member_id: str, first: int) -> list[ProductRecord]:
    """Bought with what the member bought (any channel), lifted by their favourite categories;
    best sellers when they have bought nothing yet."""
    history = ctx.upstreams.purchases
    if history is None or not _checked(first):
        return []
    bought = await history.bought_by_member(member_id)
    owned = {product for product, _, _ in bought}
    affinity: Counter[str] = Counter()
    for _, category, units in bought:
        affinity[category] += units
    together = await history.bought_together(sorted(owned)) if owned else []
    popular = await history.best_sellers(sorted(affinity) or None, limit=first * 4 + len(owned))
    signals = Signals(together, dict(affinity), popular)
    return await _for_sale(ctx, ctx.policy.recommendations.rank(signals, owned), first)
