"""Catalog use cases: products, their variants and prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.ports.catalog import ProductFilter, ProductSortKey
from adapters.records import Money, ProductRecord, VariantRecord
from resolvers import prices
from resolvers.errors import BadUserInput, NotFound
from resolvers.pagination import MAX_KEY, Connection, PageArgs, Position, keyset_connection

if TYPE_CHECKING:
    from resolvers.context import ResolverContext
    from resolvers.prices import VariantPrice

MAX_QUERY_TERMS = 10
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class PriceRange:
    min_variant_price: Money
    max_variant_price: Money


def _int(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_KEY:
        raise ValueError(value)
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(value)
    return value


def _datetime(value: Any) -> datetime:
    return datetime.fromisoformat(_str(value))


# ordering -> (how a cursor's sort value is read back, the sort value of a product)
_ORDERINGS = {
    ProductSortKey.ID: (_int, lambda p: p.id),
    ProductSortKey.TITLE: (_str, lambda p: p.title),
    ProductSortKey.CREATED_AT: (_datetime, lambda p: p.created_at),
}


def _terms(query: str | None) -> tuple[str, ...]:
    if query is None:
        return ()
    if len(query) > MAX_QUERY_LENGTH:
        raise BadUserInput(f"`query` is longer than {MAX_QUERY_LENGTH} characters", field="query")
    terms = tuple(dict.fromkeys(query.split()))
    if len(terms) > MAX_QUERY_TERMS:
        raise BadUserInput(f"`query` has more than {MAX_QUERY_TERMS} words", field="query")
    return terms


async def product(ctx: ResolverContext, *, id: int | None, handle: str | None) -> ProductRecord:
    if (id is None) == (handle is None):
        raise BadUserInput("pass exactly one of `id` or `handle`", field="id")
    if id is not None:
        found = await ctx.loaders.product_by_id.load(id)
        if found is None:
            raise NotFound("no product has this id", field="id")
        return found
    assert handle is not None
    found = await ctx.loaders.product_by_handle.load(handle)
    if found is None:
        raise NotFound(f"no product has the handle {handle!r}", field="handle")
    return found


async def products(
    ctx: ResolverContext,
    page: PageArgs,
    *,
    query: str | None = None,
    category: str | None = None,
    available_at: tuple[int, ...] = (),
    sort_key: ProductSortKey = ProductSortKey.ID,
    reverse: bool = False,
) -> Connection[ProductRecord]:
    where = ProductFilter(terms=_terms(query), category=category, available_at=available_at)
    parse_value, sort_value = _ORDERINGS[sort_key]

    def position(p: ProductRecord) -> Position:
        return sort_value(p), p.id

    async def fetch(window: Any) -> list[ProductRecord]:
        rows = await ctx.upstreams.catalog.product_page(sort_key, window, where)
        for p in rows:
            ctx.loaders.product_by_id.prime(p.id, p)
        return rows

    return await keyset_connection(
        page, ctx.policy, f"products:{sort_key.value}", parse_value, position, fetch, reverse=reverse
    )


async def products_by_ids(ctx: ResolverContext, ids: list[int]) -> list[ProductRecord | None]:
    return await ctx.loaders.product_by_id.load_many(ids)


async def variants_by_ids(ctx: ResolverContext, ids: list[int]) -> list[VariantRecord | None]:
    return await ctx.loaders.variant_by_id.load_many(ids)


async def variant(ctx: ResolverContext, id: int) -> VariantRecord:
    found = await ctx.loaders.variant_by_id.load(id)
    if found is None:
        raise NotFound("no product variant has this id", field="id")
    return found


async def variants_of_products(ctx: ResolverContext, product_ids: list[int]) -> list[list[VariantRecord]]:
    return await ctx.loaders.variants_by_product_id.load_many(product_ids)


async def products_of_variants(
    ctx: ResolverContext, variants: list[VariantRecord]
) -> list[ProductRecord | None]:
    return await products_by_ids(ctx, [v.product_id for v in variants])


async def variant_prices(ctx: ResolverContext, variants: list[VariantRecord]) -> list[VariantPrice]:
    """Each variant's price where the request says it shops (`@inContext`), else the catalog's.
    A variant that no list prices in the context's currency answers its catalog price, in the
    shop's currency (its `currencyCode` says so): exchange rates are never guessed."""
    found = await prices.in_request_context(ctx, variants)
    pairs = zip(variants, found, strict=True)
    return [p if p.price is not None else prices.catalog_price(v) for v, p in pairs]


async def price_ranges(ctx: ResolverContext, product_ids: list[int]) -> list[PriceRange]:
    """The lowest and highest price of each product's variants in the request's currency; a
    product none of whose variants is priced there answers its catalog range."""
    grouped = await variants_of_products(ctx, product_ids)
    found = iter(await variant_prices(ctx, [v for variants in grouped for v in variants]))
    wanted = ctx.pricing.currency_code if ctx.pricing is not None else ctx.policy.currency_code
    ranges = []
    for variants in grouped:
        amounts = [p.price for p in (next(found) for _ in variants) if p.price is not None]
        local = [m for m in amounts if m.currency_code == wanted]
        amounts = local or amounts
        if not amounts:
            zero = Money.from_minor(0, ctx.policy.currency_code)
            ranges.append(PriceRange(zero, zero))
        else:
            ranges.append(PriceRange(min(amounts, key=_amount), max(amounts, key=_amount)))
    return ranges


def _amount(money: Money) -> Any:
    return money.amount


async def categories(ctx: ResolverContext) -> list[str]:
    return await ctx.upstreams.catalog.categories()
