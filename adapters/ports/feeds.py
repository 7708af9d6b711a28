"""Feed ports: how an upstream's catalog and stock reach the gateway's read model, as changes.

The upstream hands over its own records (keys are its own, as strings), changed since a watermark
the gateway passes back; the read model (adapters/store/readmodel.py) keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters.records import LocationKind, Money, SelectedOption

# What upstream systems of record hand the gateway (keys are theirs, as strings).


@dataclass(frozen=True, slots=True)
class UpstreamVariant:
    key: str
    sku: str
    title: str
    selected_options: tuple[SelectedOption, ...]
    price: Money | None  # None: the upstream does not price it; the gateway keeps its own


@dataclass(frozen=True, slots=True)
class UpstreamProduct:
    key: str
    title: str
    description: str
    category: str
    vendor: str
    variants: tuple[UpstreamVariant, ...]


@dataclass(frozen=True, slots=True)
class UpstreamLocation:
    key: str
    code: str
    name: str
    kind: LocationKind


@dataclass(frozen=True, slots=True)
class UpstreamLevel:
    """Stock of one SKU at one location as the upstream counts it."""

    sku: str
    location_code: str
    on_hand: int
    # True when `on_hand` is already lowered by the orders the ERP has (Tryton's forecast): the
    # read model adds back what the gateway allocated to the orders it handed over.
    net_of_erp_orders: bool = False


@dataclass(frozen=True, slots=True)
class CatalogChanges:
    products: list[UpstreamProduct]
    watermark: str | None  # pass back as `since` next time; opaque to the gateway
    # The keys of every variant the upstream sells now (None: the feed does not say). A variant
    # it gave the gateway before and no longer sells (not salable, deactivated, deleted) is
    # withdrawn: it shows no stock and cannot be sold until the upstream sells it again.
    selling: frozenset[str] | None = None


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
