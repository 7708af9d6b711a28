"""Products and their variants."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from adapters.ports import ProductSortKey
from adapters.records import ProductRecord, VariantRecord
from resolvers import catalog, inventory
from resolvers.inventory import StoreAvailability as StoreAvailabilityRecord
from resolvers.pagination import PageArgs
from schema.common import DateTime, GeoPointInput, Image, Money, Node, PageInfo, SelectedOption
from schema.ids import decode_ids, to_global_id

if TYPE_CHECKING:
    from schema.inventory import InventoryLevel, StoreAvailability

InventoryLevelRef = Annotated["InventoryLevel", strawberry.lazy("schema.inventory")]
StoreAvailabilityRef = Annotated["StoreAvailability", strawberry.lazy("schema.inventory")]


@strawberry.type
class PriceRange:
    min_variant_price: Money
    max_variant_price: Money


@strawberry.enum
class ProductSortKeys(Enum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"


@strawberry.type
class Product(Node):
    record = ProductRecord

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

    @strawberry.field
    async def variants(root: ProductRecord, info: Info) -> list[ProductVariant]:
        return await catalog.variants_of(info.context, root.id)  # type: ignore[return-value]

    @strawberry.field
    async def price_range(root: ProductRecord, info: Info) -> PriceRange:
        return await catalog.price_range(info.context, root.id)  # type: ignore[return-value]

    @strawberry.field(description="True when some variant can be sold from some location.")
    async def available_for_sale(root: ProductRecord, info: Info) -> bool:
        variants = await catalog.variants_of(info.context, root.id)
        return await inventory.product_available_for_sale(info.context, [v.id for v in variants])

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[ProductRecord | None]:
        return await catalog.products_by_ids(info.context, keys)


@strawberry.type
class ProductVariant(Node):
    record = VariantRecord

    sku: str
    title: str
    selected_options: list[SelectedOption]
    price: Money
    compare_at_price: Money | None

    @strawberry.field
    def id(root: VariantRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("ProductVariant", root.id))

    @strawberry.field
    async def product(root: VariantRecord, info: Info) -> Product:
        return await catalog.product_of(info.context, root)  # type: ignore[return-value]

    @strawberry.field(description="Stock at each location, or at the given ones.")
    async def inventory(
        root: VariantRecord, info: Info, location_ids: list[strawberry.ID] | None = None
    ) -> list[InventoryLevelRef]:
        wanted = decode_ids(location_ids, "Location", "locationIds")
        return await inventory.levels_of(info.context, root.id, wanted)  # type: ignore[return-value]

    @strawberry.field(description="Units that can be sold now, over every location.")
    async def quantity_available(root: VariantRecord, info: Info) -> int:
        return await inventory.quantity_available(info.context, root.id)

    @strawberry.field(
        description="Stores near a point, nearest first, with their stock of this variant."
    )
    async def store_availability(
        root: VariantRecord,
        info: Info,
        near: GeoPointInput,
        radius_km: float | None = None,
        first: int | None = 5,
        in_stock_only: bool = False,
    ) -> list[StoreAvailabilityRef]:
        found: list[StoreAvailabilityRecord] = await inventory.store_availability(
            info.context,
            root.id,
            near=near.to_record(),
            radius_km=radius_km,
            first=5 if first is None else first,
            in_stock_only=in_stock_only,
        )
        return found  # type: ignore[return-value]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[VariantRecord | None]:
        return await catalog.variants_by_ids(info.context, keys)


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
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

    @strawberry.field(description="Products, a page at a time; at most 250 per page.")
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
