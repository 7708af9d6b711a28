"""The ports: what the gateway asks of a system of record, whichever system that is.

Each port is a Protocol with few methods, all batch-shaped (ids in, records out, any order), so a
resolver's DataLoader maps one GraphQL level to one upstream round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from adapters.records import (
    InventoryAdjustment,
    InventoryLevelRecord,
    InventoryReason,
    LocationRecord,
    MemberDraft,
    MemberRecord,
    OrderPush,
    ProductRecord,
    PushedOrder,
    StockChange,
    UpstreamLevel,
    UpstreamLocation,
    UpstreamProduct,
    VariantRecord,
)


@dataclass(frozen=True, slots=True)
class StockAdjusted:
    adjustments: list[InventoryAdjustment]
    levels: list[InventoryLevelRecord]  # the levels after the change, one per (variant, location)


class ProductSortKey(Enum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    terms: tuple[str, ...] = ()  # every term must match title, description, vendor, tags or a SKU
    category: str | None = None  # category name, case-insensitive
    available_at: tuple[int, ...] = ()  # some variant has available stock at one of these


@dataclass(frozen=True, slots=True)
class KeysetPage:
    """A window of an ordered listing: `limit` rows strictly between two keyset positions.

    A position is `(sort value, id)`; `descending` is the order rows are scanned in, so a
    backward page (`last`/`before`) scans in reverse and the caller flips it back.
    """

    limit: int
    after: tuple[Any, int] | None = None
    before: tuple[Any, int] | None = None
    descending: bool = False


class CatalogSource(Protocol):
    async def product_page(
        self, sort_key: ProductSortKey, page: KeysetPage, where: ProductFilter
    ) -> list[ProductRecord]: ...

    async def products_by_ids(self, ids: Sequence[int]) -> list[ProductRecord]: ...

    async def products_by_handles(self, handles: Sequence[str]) -> list[ProductRecord]: ...

    async def variants_by_product_ids(self, product_ids: Sequence[int]) -> list[VariantRecord]: ...

    async def variants_by_ids(self, ids: Sequence[int]) -> list[VariantRecord]: ...

    async def categories(self) -> list[str]: ...


class LocationDirectory(Protocol):
    async def all_locations(self) -> list[LocationRecord]: ...

    async def locations_by_ids(self, ids: Sequence[int]) -> list[LocationRecord]: ...


class InventorySource(Protocol):
    async def levels_by_variant_ids(self, variant_ids: Sequence[int]) -> list[InventoryLevelRecord]: ...

    async def adjust(
        self,
        changes: Sequence[StockChange],
        reason: InventoryReason,
        reference: str | None,
        actor: str,
    ) -> StockAdjusted:
        """Apply every change in one transaction, or none: raise `StockRejected` for a bad one."""
        ...

    async def ping(self) -> None: ...


class StockRejected(Exception):
    """An adjustment the stock records refuse (unknown variant/location, negative on hand)."""

    def __init__(self, index: int, code: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.code = code
        self.message = message


class MemberDirectory(Protocol):
    """Customers as the CRM keeps them (Tryton parties, SAP business partners)."""

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]: ...

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]: ...

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        """Update the member with this email, or create one."""
        ...


class OrderSink(Protocol):
    """Where orders are fulfilled and invoiced: the ERP."""

    async def push_order(self, order: OrderPush) -> PushedOrder:
        """Create and confirm the order unless one with its reference exists: safe to repeat."""
        ...

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]: ...


# --- Feeds: how an upstream's catalog and stock reach the gateway's read model ---


@dataclass(frozen=True, slots=True)
class CatalogChanges:
    products: list[UpstreamProduct]
    watermark: str | None  # pass back as `since` next time; opaque to the gateway


@dataclass(frozen=True, slots=True)
class StockChanges:
    levels: list[UpstreamLevel]
    watermark: str | None


class CatalogFeed(Protocol):
    async def catalog_changes(self, since: str | None) -> CatalogChanges:
        """Products changed after `since` (all of them when None), variants included."""
        ...


class StockFeed(Protocol):
    async def stock_locations(self) -> list[UpstreamLocation]: ...

    async def stock_changes(self, since: str | None) -> StockChanges:
        """Levels that may have changed after `since` (all when None). An upstream without
        timestamps returns a full snapshot each time; the read model keeps only differences."""
        ...


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The systems of record chosen by configuration, one per port."""

    catalog: CatalogSource
    locations: LocationDirectory
    inventory: InventorySource
    members: MemberDirectory | None = None
    order_sink: OrderSink | None = None  # the ERP that receives orders (through the outbox)
