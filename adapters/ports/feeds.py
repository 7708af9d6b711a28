"""Feed ports: how an upstream's catalog and stock reach the gateway's read model, in changes since
a watermark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters.records import UpstreamLevel, UpstreamLocation, UpstreamProduct


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
