"""Catalog ports: products, variants, categories, and the price lists beyond the catalog price.

Products are listed, filtered and sorted here; stock is adapters/ports/inventory.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from adapters.ports.paging import KeysetPage
from adapters.records import MarketRecord, PriceListRecord, PriceRecord, ProductRecord, VariantRecord


class ProductSortKey(Enum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    terms: tuple[str, ...] = ()  # every term must match title, description, vendor, tags or a SKU
    category: str | None = None  # category name, case-insensitive
    available_at: tuple[int, ...] = ()  # some variant has available stock at one of these


class CatalogSource(Protocol):
    async def product_page(
        self, sort_key: ProductSortKey, page: KeysetPage, where: ProductFilter
    ) -> list[ProductRecord]: ...

    async def products_by_ids(self, ids: Sequence[int]) -> list[ProductRecord]: ...

    async def products_by_handles(self, handles: Sequence[str]) -> list[ProductRecord]: ...

    async def variants_by_product_ids(self, product_ids: Sequence[int]) -> list[VariantRecord]: ...

    async def variants_by_ids(self, ids: Sequence[int]) -> list[VariantRecord]: ...

    async def categories(self) -> list[str]: ...


class PriceSource(Protocol):
    """Price lists beyond the catalog's own price (which is the shop currency's market default)."""

    async def price_lists(self) -> tuple[PriceListRecord, ...]:
        """Every price list (a few dozen rows: read whole)."""
        ...

    async def markets(self) -> tuple[MarketRecord, ...]: ...

    async def prices_by_variant_ids(self, variant_ids: Sequence[int]) -> list[PriceRecord]:
        """Every list's price of these variants."""
        ...
