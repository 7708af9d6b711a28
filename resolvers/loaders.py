"""Per-request DataLoaders: one upstream round trip per GraphQL level, results in key order.

Names follow `<Result>By<Key>Loader`; keys are ids only (compose with `await`, never with flags).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.ports.upstreams import Upstreams
from adapters.records import (
    InventoryLevelRecord,
    LocationRecord,
    MemberRecord,
    PriceListRecord,
    PriceRecord,
    ProductRecord,
    VariantRecord,
)
from resolvers import prices
from resolvers.batching import Loader, many_per_key, one_per_key
from resolvers.offers import AllOffers, SegmentIdsOfMember
from resolvers.order_loaders import (
    CartByIdLoader,
    CartByTokenLoader,
    CartLinesByCartIdLoader,
    FulfillmentByIdLoader,
    FulfillmentsByOrderIdLoader,
    OrderByCartIdLoader,
    OrderByIdLoader,
    OrderLinesByOrderIdLoader,
    PaymentsByOrderIdLoader,
    ReturnLinesByReturnIdLoader,
    ReturnsByOrderIdLoader,
    StatusChangesByOrderIdLoader,
)


class ProductByIdLoader(Loader[int, ProductRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[int]) -> list[ProductRecord | None]:
        return one_per_key(keys, await self._catalog.products_by_ids(keys), lambda p: p.id)


class ProductByHandleLoader(Loader[str, ProductRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[str]) -> list[ProductRecord | None]:
        return one_per_key(keys, await self._catalog.products_by_handles(keys), lambda p: p.handle)


class VariantsByProductIdLoader(Loader[int, list[VariantRecord]]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog
        # The entity cache keeps variants per product: no flattening and grouping again.
        self._grouped = getattr(upstreams.catalog, "variants_per_product", None)

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[VariantRecord]]:
        if self._grouped is not None:
            return await self._grouped(keys)
        rows = await self._catalog.variants_by_product_ids(keys)
        return many_per_key(keys, rows, lambda v: v.product_id)


class VariantByIdLoader(Loader[int, VariantRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[int]) -> list[VariantRecord | None]:
        return one_per_key(keys, await self._catalog.variants_by_ids(keys), lambda v: v.id)


class InventoryLevelsByVariantIdLoader(Loader[int, list[InventoryLevelRecord]]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._inventory = upstreams.inventory
        self._grouped = getattr(upstreams.inventory, "levels_per_variant", None)  # the entity cache

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[InventoryLevelRecord]]:
        if self._grouped is not None:
            return await self._grouped(keys)
        rows = await self._inventory.levels_by_variant_ids(keys)
        return many_per_key(keys, rows, lambda level: level.variant_id)


class LocationByIdLoader(Loader[int, LocationRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._locations = upstreams.locations

    async def batch_load_fn(self, keys: Sequence[int]) -> list[LocationRecord | None]:
        return one_per_key(keys, await self._locations.locations_by_ids(keys), lambda loc: loc.id)


class MemberByKeyLoader(Loader[str, MemberRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._members = upstreams.members

    async def batch_load_fn(self, keys: Sequence[str]) -> list[MemberRecord | None]:
        if self._members is None:
            return [None] * len(keys)
        return one_per_key(keys, await self._members.members_by_keys(keys), lambda m: m.key)


class BoughtTogetherByProductIdLoader(Loader[int, list[tuple[int, int]]]):
    """(other product, orders with both) per product: one query for a whole page of products."""

    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._purchases = upstreams.purchases

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[tuple[int, int]]]:
        if self._purchases is None:
            return [[] for _ in keys]
        rows = await self._purchases.bought_together(keys)
        grouped = many_per_key(keys, rows, lambda r: r[0])
        return [[(other, together) for _, other, together in group] for group in grouped]


class PricesByVariantIdLoader(Loader[int, list[PriceRecord]]):
    """Every price list's price of each variant: context-free rows (the entity cache keeps
    them per variant), from which `VariantPriceLoader` picks per context."""

    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._prices = upstreams.prices
        self._grouped = getattr(upstreams.prices, "prices_per_variant", None)  # the entity cache

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[PriceRecord]]:
        if self._prices is None:
            return [[] for _ in keys]
        if self._grouped is not None:
            return await self._grouped(keys)
        return many_per_key(keys, await self._prices.prices_by_variant_ids(keys), lambda p: p.variant_id)


class VariantPriceLoader(Loader[tuple[int, "prices.PriceContext"], "prices.VariantPrice"]):
    """A variant's price in a context: keys are (variant id, PriceContext), so two contexts
    in one request (the request's, a cart's) never share an answer. Every price of a request
    is taken at one instant, its first price lookup's."""

    def __init__(self, loaders: Loaders) -> None:
        super().__init__()
        self._loaders = loaders
        self._records: dict[int, VariantRecord] = {}  # the catalog price is the last resort
        self._now: datetime | None = None

    async def prices_of(
        self, variants: Sequence[VariantRecord], context: prices.PriceContext
    ) -> list[prices.VariantPrice]:
        for v in variants:
            self._records[v.id] = v
        return await self.load_many([(v.id, context) for v in variants])

    async def batch_load_fn(
        self, keys: Sequence[tuple[int, prices.PriceContext]]
    ) -> list[prices.VariantPrice]:
        if self._now is None:
            self._now = self._loaders.clock()
        every = await self._loaders.price_lists.load()
        missing = [k for k, _ in keys if k not in self._records]
        if missing:
            for v in await self._loaders.variant_by_id.load_many(missing):
                if v is not None:
                    self._records[v.id] = v
        lists = {ctx: prices.applicable(every, ctx, self._now) for ctx in {c for _, c in keys}}
        priced = [k for k, ctx in keys if lists[ctx]]
        rows = dict(zip(priced, await self._loaders.prices_by_variant_id.load_many(priced), strict=True))
        return [prices.choose(self._records[k], rows.get(k, ()), lists[ctx], ctx) for k, ctx in keys]


class AllPriceLists:
    """Every price list, read once per request (the context, then the prices, both need them)."""

    def __init__(self, upstreams: Upstreams) -> None:
        self._prices = upstreams.prices
        self._task: Any = None

    async def load(self) -> tuple[PriceListRecord, ...]:
        if self._prices is None:
            return ()
        if self._task is None:
            self._task = asyncio.ensure_future(self._prices.price_lists())
        return await self._task  # type: ignore[no-any-return]


class AllLocations:
    """Every location, read once per request; primes the by-id loader so later lookups are free."""

    def __init__(self, upstreams: Upstreams, by_id: LocationByIdLoader) -> None:
        self._locations = upstreams.locations
        self._by_id = by_id
        self._task: Any = None

    async def load(self) -> list[LocationRecord]:
        if self._task is None:
            self._task = self._by_id.loop.create_task(self._locations.all_locations())
            for loc in await self._task:
                self._by_id.prime(loc.id, loc)
        return await self._task


class Loaders:
    """The request's loaders, each built on first use (most requests need two or three)."""

    product_by_id: ProductByIdLoader
    product_by_handle: ProductByHandleLoader
    variants_by_product_id: VariantsByProductIdLoader
    variant_by_id: VariantByIdLoader
    inventory_levels_by_variant_id: InventoryLevelsByVariantIdLoader
    location_by_id: LocationByIdLoader
    all_locations: AllLocations
    cart_by_token: CartByTokenLoader
    cart_by_id: CartByIdLoader
    cart_lines_by_cart_id: CartLinesByCartIdLoader
    order_by_id: OrderByIdLoader
    order_by_cart_id: OrderByCartIdLoader
    fulfillments_by_order_id: FulfillmentsByOrderIdLoader
    fulfillment_by_id: FulfillmentByIdLoader
    order_lines_by_order_id: OrderLinesByOrderIdLoader
    status_changes_by_order_id: StatusChangesByOrderIdLoader
    payments_by_order_id: PaymentsByOrderIdLoader
    returns_by_order_id: ReturnsByOrderIdLoader
    return_lines_by_return_id: ReturnLinesByReturnIdLoader
    member_by_key: MemberByKeyLoader
    bought_together_by_product_id: BoughtTogetherByProductIdLoader
    prices_by_variant_id: PricesByVariantIdLoader
    variant_price: VariantPriceLoader
    price_lists: AllPriceLists
    all_offers: AllOffers
    segment_ids_of_member: SegmentIdsOfMember

    def __init__(self, upstreams: Upstreams, clock: Callable[[], datetime] | None = None) -> None:
        self._upstreams = upstreams
        self.clock = clock or _utc_now

    @classmethod
    def for_request(cls, upstreams: Upstreams, clock: Callable[[], datetime] | None = None) -> Loaders:
        return cls(upstreams, clock)

    def __getattr__(self, name: str) -> Any:  # only for a loader not built yet
        build = _BUILDERS.get(name)
        if build is None:
            raise AttributeError(name)
        loader = build(self, self._upstreams)
        setattr(self, name, loader)
        return loader


_BUILDERS: dict[str, Callable[[Loaders, Upstreams], Any]] = {
    "product_by_id": lambda _, u: ProductByIdLoader(u),
    "product_by_handle": lambda _, u: ProductByHandleLoader(u),
    "variants_by_product_id": lambda _, u: VariantsByProductIdLoader(u),
    "variant_by_id": lambda _, u: VariantByIdLoader(u),
    "inventory_levels_by_variant_id": lambda _, u: InventoryLevelsByVariantIdLoader(u),
    "location_by_id": lambda _, u: LocationByIdLoader(u),
    "all_locations": lambda loaders, u: AllLocations(u, loaders.location_by_id),
    "cart_by_token": lambda _, u: CartByTokenLoader(u.carts),
    "cart_by_id": lambda _, u: CartByIdLoader(u.carts),
    "cart_lines_by_cart_id": lambda _, u: CartLinesByCartIdLoader(u.carts),
    "order_by_id": lambda _, u: OrderByIdLoader(u.orders),
    "order_by_cart_id": lambda _, u: OrderByCartIdLoader(u.orders),
    "fulfillments_by_order_id": lambda _, u: FulfillmentsByOrderIdLoader(u.orders),
    "fulfillment_by_id": lambda _, u: FulfillmentByIdLoader(u.orders),
    "order_lines_by_order_id": lambda _, u: OrderLinesByOrderIdLoader(u.orders),
    "status_changes_by_order_id": lambda _, u: StatusChangesByOrderIdLoader(u.orders),
    "payments_by_order_id": lambda _, u: PaymentsByOrderIdLoader(u.orders),
    "returns_by_order_id": lambda _, u: ReturnsByOrderIdLoader(u.orders),
    "return_lines_by_return_id": lambda _, u: ReturnLinesByReturnIdLoader(u.orders),
    "member_by_key": lambda _, u: MemberByKeyLoader(u),
    "bought_together_by_product_id": lambda _, u: BoughtTogetherByProductIdLoader(u),
    "prices_by_variant_id": lambda _, u: PricesByVariantIdLoader(u),
    "variant_price": lambda loaders, _: VariantPriceLoader(loaders),
    "price_lists": lambda _, u: AllPriceLists(u),
    "all_offers": lambda _, u: AllOffers(u),
    "segment_ids_of_member": lambda _, u: SegmentIdsOfMember(u),
}


def _utc_now() -> datetime:
    return datetime.now(UTC)
