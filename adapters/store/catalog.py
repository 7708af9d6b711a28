"""Catalog reads from the gateway's own tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.ports.catalog import ProductFilter, ProductSortKey
from adapters.ports.paging import KeysetPage
from adapters.records import Image, Money, ProductRecord, SelectedOption, VariantRecord
from adapters.store.tables import inventory_levels, keys_in_range, products, variants

if TYPE_CHECKING:
    from adapters.store.engine import Database

_SORT_COLUMNS = {
    ProductSortKey.ID: products.c.id,
    ProductSortKey.TITLE: products.c.title,
    ProductSortKey.CREATED_AT: products.c.created_at,
}


def product_from_row(row: Any) -> ProductRecord:
    return ProductRecord(
        id=row.id,
        handle=row.handle,
        title=row.title,
        description=row.description,
        vendor=row.vendor,
        category=row.category,
        tags=tuple(row.tags),
        images=tuple(Image(i["url"], i.get("altText"), i.get("width"), i.get("height")) for i in row.images),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def variant_from_row(row: Any) -> VariantRecord:
    currency = row.currency_code
    compare_at = row.compare_at_minor
    return VariantRecord(
        id=row.id,
        product_id=row.product_id,
        sku=row.sku,
        title=row.title,
        selected_options=tuple(SelectedOption(o["name"], o["value"]) for o in row.options),
        position=row.position,
        price=Money.from_minor(row.price_minor, currency),
        compare_at_price=None if compare_at is None else Money.from_minor(compare_at, currency),
    )


def _matches(where: ProductFilter) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    for term in where.terms:
        sku_match = (
            sa.select(variants.c.id)
            .where(variants.c.product_id == products.c.id)
            .where(variants.c.sku.icontains(term, autoescape=True))
            .exists()
        )
        clauses.append(
            sa.or_(
                products.c.title.icontains(term, autoescape=True),
                products.c.description.icontains(term, autoescape=True),
                products.c.vendor.icontains(term, autoescape=True),
                sa.cast(products.c.tags, sa.String).icontains(term, autoescape=True),
                sku_match,
            )
        )
    if where.category is not None:
        clauses.append(sa.func.lower(products.c.category) == where.category.lower())
    if where.available_at:
        clauses.append(
            sa.select(inventory_levels.c.variant_id)
            .join(variants, variants.c.id == inventory_levels.c.variant_id)
            .where(variants.c.product_id == products.c.id)
            .where(inventory_levels.c.location_id.in_(where.available_at))
            .where(inventory_levels.c.on_hand - inventory_levels.c.reserved > inventory_levels.c.safety_stock)
            .exists()
        )
    return clauses


class StoreCatalog:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def product_page(
        self, sort_key: ProductSortKey, page: KeysetPage, where: ProductFilter
    ) -> list[ProductRecord]:
        column = _SORT_COLUMNS[sort_key]
        position = sa.tuple_(column, products.c.id)
        stmt = sa.select(products).where(*_matches(where))
        if page.after is not None:
            stmt = stmt.where(position > sa.tuple_(*map(sa.literal, page.after)))
        if page.before is not None:
            stmt = stmt.where(position < sa.tuple_(*map(sa.literal, page.before)))
        order = (column.desc(), products.c.id.desc()) if page.descending else (column, products.c.id)
        stmt = stmt.order_by(*order).limit(page.limit)
        async with self._store.reading() as conn:
            return [product_from_row(r) for r in (await conn.execute(stmt)).all()]

    async def products_by_ids(self, ids: Sequence[int]) -> list[ProductRecord]:
        return await self._products(products.c.id.in_(keys_in_range(ids)))

    async def products_by_handles(self, handles: Sequence[str]) -> list[ProductRecord]:
        return await self._products(products.c.handle.in_(handles))

    async def _products(self, where: sa.ColumnElement[bool]) -> list[ProductRecord]:
        async with self._store.reading() as conn:
            return [product_from_row(r) for r in await conn.execute(sa.select(products).where(where))]

    async def variants_by_product_ids(self, product_ids: Sequence[int]) -> list[VariantRecord]:
        return await self._variants(variants.c.product_id.in_(keys_in_range(product_ids)))

    async def variants_by_ids(self, ids: Sequence[int]) -> list[VariantRecord]:
        return await self._variants(variants.c.id.in_(keys_in_range(ids)))

    async def _variants(self, where: sa.ColumnElement[bool]) -> list[VariantRecord]:
        stmt = sa.select(variants).where(where).order_by(variants.c.product_id, variants.c.position)
        async with self._store.reading() as conn:
            return [variant_from_row(r) for r in (await conn.execute(stmt)).all()]

    async def categories(self) -> list[str]:
        stmt = sa.select(products.c.category).distinct().order_by(products.c.category)
        async with self._store.reading() as conn:
            return list((await conn.scalars(stmt)).all())
