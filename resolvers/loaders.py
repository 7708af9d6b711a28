"""Per-request DataLoaders: one upstream round trip per GraphQL level, results in key order.

Names follow `<Result>By<Key>Loader`; keys are ids only (compose with `await`, never with flags).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader

from adapters.ports import Upstreams
from adapters.records import (
    InventoryLevelRecord,
    LocationRecord,
    MemberRecord,
    ProductRecord,
    VariantRecord,
)

if TYPE_CHECKING:
    from resolvers.order_loaders import (
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

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


def one_per_key(keys: Sequence[K], records: Iterable[R], key: Callable[[R], K]) -> list[R | None]:
    found = {key(r): r for r in records}
    return [found.get(k) for k in keys]


def many_per_key(keys: Sequence[K], records: Iterable[R], key: Callable[[R], K]) -> list[list[R]]:
    groups: dict[K, list[R]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return [groups.get(k, []) for k in keys]


class ProductByIdLoader(DataLoader[int, ProductRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[int]) -> list[ProductRecord | None]:
        return one_per_key(keys, await self._catalog.products_by_ids(keys), lambda p: p.id)


class ProductByHandleLoader(DataLoader[str, ProductRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[str]) -> list[ProductRecord | None]:
        return one_per_key(keys, await self._catalog.products_by_handles(keys), lambda p: p.handle)


class VariantsByProductIdLoader(DataLoader[int, list[VariantRecord]]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[VariantRecord]]:
        rows = await self._catalog.variants_by_product_ids(keys)
        return many_per_key(keys, rows, lambda v: v.product_id)


class VariantByIdLoader(DataLoader[int, VariantRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._catalog = upstreams.catalog

    async def batch_load_fn(self, keys: Sequence[int]) -> list[VariantRecord | None]:
        return one_per_key(keys, await self._catalog.variants_by_ids(keys), lambda v: v.id)


class InventoryLevelsByVariantIdLoader(DataLoader[int, list[InventoryLevelRecord]]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._inventory = upstreams.inventory

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[InventoryLevelRecord]]:
        rows = await self._inventory.levels_by_variant_ids(keys)
        return many_per_key(keys, rows, lambda level: level.variant_id)


class LocationByIdLoader(DataLoader[int, LocationRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._locations = upstreams.locations

    async def batch_load_fn(self, keys: Sequence[int]) -> list[LocationRecord | None]:
        return one_per_key(keys, await self._locations.locations_by_ids(keys), lambda loc: loc.id)


class MemberByKeyLoader(DataLoader[str, MemberRecord | None]):
    def __init__(self, upstreams: Upstreams) -> None:
        super().__init__()
        self._members = upstreams.members

    async def batch_load_fn(self, keys: Sequence[str]) -> list[MemberRecord | None]:
        if self._members is None:
            return [None] * len(keys)
        return one_per_key(keys, await self._members.members_by_keys(keys), lambda m: m.key)


class BoughtTogetherByProductIdLoader(DataLoader[int, list[tuple[int, int]]]):
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


@dataclass(slots=True)
class Loaders:
    product_by_id: ProductByIdLoader
    product_by_handle: ProductByHandleLoader
    variants_by_product_id: VariantsByProductIdLoader
    variant_by_id: VariantByIdLoader
    inventory_levels_by_variant_id: InventoryLevelsByVariantIdLoader
    location_by_id: LocationByIdLoader
    all_locations: AllLocations
    cart_by_token: CartByTokenLoader
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

    @classmethod
    def for_request(cls, upstreams: Upstreams) -> Loaders:
        from resolvers import order_loaders as o  # it builds on this module's helpers

        location_by_id = LocationByIdLoader(upstreams)
        carts, orders = upstreams.carts, upstreams.orders
        return cls(
            product_by_id=ProductByIdLoader(upstreams),
            product_by_handle=ProductByHandleLoader(upstreams),
            variants_by_product_id=VariantsByProductIdLoader(upstreams),
            variant_by_id=VariantByIdLoader(upstreams),
            inventory_levels_by_variant_id=InventoryLevelsByVariantIdLoader(upstreams),
            location_by_id=location_by_id,
            all_locations=AllLocations(upstreams, location_by_id),
            cart_by_token=o.CartByTokenLoader(carts),
            cart_lines_by_cart_id=o.CartLinesByCartIdLoader(carts),
            order_by_id=o.OrderByIdLoader(orders),
            order_by_cart_id=o.OrderByCartIdLoader(orders),
            fulfillments_by_order_id=o.FulfillmentsByOrderIdLoader(orders),
            fulfillment_by_id=o.FulfillmentByIdLoader(orders),
            order_lines_by_order_id=o.OrderLinesByOrderIdLoader(orders),
            status_changes_by_order_id=o.StatusChangesByOrderIdLoader(orders),
            payments_by_order_id=o.PaymentsByOrderIdLoader(orders),
            returns_by_order_id=o.ReturnsByOrderIdLoader(orders),
            return_lines_by_return_id=o.ReturnLinesByReturnIdLoader(orders),
            member_by_key=MemberByKeyLoader(upstreams),
            bought_together_by_product_id=BoughtTogetherByProductIdLoader(upstreams),
        )
