"""Products and their variants."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.ports.catalog import ProductSortKey
from adapters.records import Money as MoneyRecord
from adapters.records import ProductRecord, VariantRecord
from resolvers import catalog, inventory, recommendations
from resolvers.inventory import StoreAvailability as StoreAvailabilityRecord
from resolvers.pagination import PageArgs
from schema.batch import CATALOG, batch, one
from schema.common import DateTime, GeoPointInput, Image, Money, Node, PageInfo, SelectedOption
from schema.ids import decode_ids, to_global_id

if TYPE_CHECKING:
    from schema.inventory import InventoryLevel, StoreAvailability

InventoryLevelRef = Annotated["InventoryLevel", strawberry.lazy("schema.inventory")]
StoreAvailabilityRef = Annotated["StoreAvailability", strawberry.lazy("schema.inventory")]


@strawberry.type
class PriceRange:
    cache_topics = CATALOG

    min_variant_price: Money
    max_variant_price: Money


@strawberry.enum
class ProductSortKeys(Enum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"


async def _variants(ctx: Any, products: list[ProductRecord]) -> list[list[VariantRecord]]:
    return await catalog.variants_of_products(ctx, [p.id for p in products])


async def _price_ranges(ctx: Any, products: list[ProductRecord]) -> list[catalog.PriceRange]:
    return await catalog.price_ranges(ctx, [p.id for p in products])


async def _prices(ctx: Any, variants: list[VariantRecord]) -> list[MoneyRecord]:
    return [p.price for p in await catalog.variant_prices(ctx, variants)]  # type: ignore[misc]


async def _compare_at_prices(ctx: Any, variants: list[VariantRecord]) -> list[MoneyRecord | None]:
    return [p.compare_at_price for p in await catalog.variant_prices(ctx, variants)]


async def _available_for_sale(ctx: Any, products: list[ProductRecord]) -> list[bool]:
    return await inventory.products_available_for_sale(ctx, [p.id for p in products])


async def _products(ctx: Any, variants: list[VariantRecord]) -> list[ProductRecord | None]:
    return await catalog.products_of_variants(ctx, variants)


async def _inventory(
    ctx: Any, variants: list[VariantRecord], location_ids: list[strawberry.ID] | None = None
) -> list[list[Any]]:
    wanted = decode_ids(location_ids, "Location", "locationIds")
    return await inventory.levels_of_variants(ctx, [v.id for v in variants], wanted)


async def _quantities(ctx: Any, variants: list[VariantRecord]) -> list[int]:
    return await inventory.quantities_available(ctx, [v.id for v in variants])


async def _store_availability(
    ctx: Any,
    variants: list[VariantRecord],
    near: GeoPointInput,
    radius_km: float | None = None,
    first: int | None = 5,
    in_stock_only: bool = False,
) -> list[list[StoreAvailabilityRecord]]:
    return await inventory.store_availability_of_variants(
        ctx,
        [v.id for v in variants],
        near=near.to_record(),
        radius_km=radius_km,
        first=5 if first is None else first,
        in_stock_only=in_stock_only,
    )


@strawberry.type
class Product(Node):
    record = ProductRecord
    cache_topics = CATALOG

    handle: str
    title: str
    description: str
    vendor: str
    category: str
    tags: list[str]
    images: list[Image]
    created_at: DateTime
    updated_at: DateTime

    @strawberry.field
    def id(root: ProductRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Product", root.id))

    @strawberry.field(metadata=batch(_variants))
    async def variants(root: ProductRecord, info: Info) -> list[ProductVariant]:
        return await one(_variants, info, root)

    @strawberry.field(metadata=batch(_price_ranges))
    async def price_range(root: ProductRecord, info: Info) -> PriceRange:
        return await one(_price_ranges, info, root)

    @strawberry.field(
        description="True when some variant can be sold from some location.",
        metadata=batch(_available_for_sale, depends=("stock",)),
    )
    async def available_for_sale(root: ProductRecord, info: Info) -> bool:
        return await one(_available_for_sale, info, root)

    @strawberry.field(
        description="Bought with this product in everyone's orders (every channel), most often "
        "first; only products for sale. Not served from the response cache: it moves with orders."
    )
    async def recommendations(root: ProductRecord, info: Info, first: int | None = 8) -> list[Product]:
        wanted = 8 if first is None else first
        return await recommendations.product_recommendations(info.context, root.id, wanted)  # type: ignore[return-value]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[ProductRecord | None]:
        return await catalog.products_by_ids(info.context, keys)


@strawberry.type
class ProductVariant(Node):
    record = VariantRecord
    cache_topics = CATALOG

    sku: str
    title: str
    selected_options: list[SelectedOption]

    @strawberry.field
    def id(root: VariantRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("ProductVariant", root.id))

    @strawberry.field(
        description="The price where the caller shops (`@inContext`: channel, market, store, "
        "member tier; resolvers/prices.py has the precedence), else the catalog's own price. A "
        "variant no list prices in the context's currency answers its catalog price.",
        metadata=batch(_prices),
    )
    async def price(root: VariantRecord, info: Info) -> Money:
        return await one(_prices, info, root)

    @strawberry.field(
        description="The compare-at (was) price of the same price list as `price`.",
        metadata=batch(_compare_at_prices),
    )
    async def compare_at_price(root: VariantRecord, info: Info) -> Money | None:
        return await one(_compare_at_prices, info, root)

    @strawberry.field(metadata=batch(_products))
    async def product(root: VariantRecord, info: Info) -> Product:
        return await one(_products, info, root)

    @strawberry.field(
        description="Stock at each location, or at the given ones.",
        metadata=batch(_inventory, depends=("stock",)),
    )
    async def inventory(
        root: VariantRecord, info: Info, location_ids: list[strawberry.ID] | None = None
    ) -> list[InventoryLevelRef]:
        return await one(_inventory, info, root, location_ids=location_ids)

    @strawberry.field(
        description="Units that can be sold now, over every location.",
        metadata=batch(_quantities, depends=("stock",)),
    )
    async def quantity_available(root: VariantRecord, info: Info) -> int:
        return await one(_quantities, info, root)

    @strawberry.field(
        description="Stores near a point, nearest first, with their stock of this variant.",
        metadata=batch(_store_availability, depends=("stock", "locations")),
    )
    async def store_availability(
        root: VariantRecord,
        info: Info,
        near: GeoPointInput,
        radius_km: float | None = None,
        first: int | None = 5,
        in_stock_only: bool = False,
    ) -> list[StoreAvailabilityRef]:
        return await one(
            _store_availability,
            info,
            root,
            near=near,
            radius_km=radius_km,
            first=first,
            in_stock_only=in_stock_only,
        )

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[VariantRecord | None]:
        return await catalog.variants_by_ids(info.context, keys)


@strawberry.type
class ProductEdge:
    cache_topics = CATALOG

    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    cache_topics = CATALOG

    edges: list[ProductEdge]
    nodes: list[Product]
    page_info: PageInfo


@strawberry.type
class CatalogQuery:
    @strawberry.field(description="A product by id or by handle; exactly one of them.")
    async def product(
        self, info: Info, id: strawberry.ID | None = None, handle: str | None = None
    ) -> Product | None:
        key = decode_ids([id], "Product", "id")[0] if id is not None else None  # type: ignore[index]
        return await catalog.product(info.context, id=key, handle=handle)  # type: ignore[return-value]

    @strawberry.field(
        description="Products, a page at a time; at most 250 per page.",
        metadata={"omnigate.depends_on_args": {"availableAt": "stock"}},
    )
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        query: str | None = None,
        category: str | None = None,
        available_at: list[strawberry.ID] | None = None,
        sort_key: ProductSortKeys = ProductSortKeys.ID,
        reverse: bool = False,
    ) -> ProductConnection:
        return await catalog.products(  # type: ignore[return-value]
            info.context,
            PageArgs(first=first, after=after, last=last, before=before),
            query=query,
            category=category,
            available_at=tuple(decode_ids(available_at, "Location", "availableAt") or ()),
            sort_key=ProductSortKey(sort_key.value),
            reverse=reverse,
        )

    @strawberry.field(description="The names of the catalog's categories.")
    async def categories(self, info: Info) -> list[str]:
        return await catalog.categories(info.context)
