"""Domain events raised by the use cases after their change is committed.

Each has a `topic` the bus fans out by; the subscriptions issue turns them into pushes. They
carry ids, not secrets: a cart is named by its internal id, never by the token a client holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from adapters.records import InventoryLevelRecord


@dataclass(frozen=True, slots=True)
class StockChanged:
    variant_id: int
    location_id: int
    on_hand: int
    reserved: int
    available: int
    reason: str  # an InventoryReason, or what moved `reserved`: HOLD, ALLOCATION, RELEASE...
    occurred_at: datetime

    topic = "stock"

    @classmethod
    def of(cls, level: InventoryLevelRecord, reason: str) -> StockChanged:
        """The event for a level as it stands after a committed change."""
        return cls(
            variant_id=level.variant_id,
            location_id=level.location_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            reason=reason,
            occurred_at=level.updated_at,
        )


@dataclass(frozen=True, slots=True)
class CartChanged:
    cart_id: int  # internal id; a subscriber resolves the client's token to it once
    reason: str  # CREATED, LINES_ADDED, LINES_UPDATED, LINES_REMOVED, HOLDS_EXPIRED, COMPLETED...
    occurred_at: datetime

    topic = "cart"


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    order_id: int
    status: str
    member_id: str | None
    location_ids: tuple[int, ...]  # every location fulfilling it: staff subscribe by location
    fulfillment_id: int | None
    fulfillment_status: str | None
    occurred_at: datetime

    topic = "order"


@dataclass(frozen=True, slots=True)
class ReturnCreated:
    order_id: int
    return_id: int
    location_id: int
    member_id: str | None
    refund_minor: int
    occurred_at: datetime

    topic = "order"


@dataclass(frozen=True, slots=True)
class CatalogChanged:
    """Products whose catalog data (titles, variants, prices) changed, e.g. from an ERP sync:
    whatever keeps copies of them (caches, search) forgets them."""

    product_ids: tuple[int, ...]
    reason: str
    occurred_at: datetime

    topic = "catalog"


@dataclass(frozen=True, slots=True)
class LoyaltyChanged:
    """A member's points changed (earned, reversed, spent, given back): `loyaltyChanged`."""

    member_id: str
    reason: str  # EARN, REVERSE, SPEND
    occurred_at: datetime

    topic = "loyalty"


@dataclass(frozen=True, slots=True)
class LocationsChanged:
    """Stores or warehouses appeared (e.g. added in the ERP after start): whatever keeps copies
    of the locations forgets them."""

    location_ids: tuple[int, ...]
    reason: str
    occurred_at: datetime

    topic = "locations"


@dataclass(frozen=True, slots=True)
class SyncRequested:
    """An upstream rang the doorbell (`/webhooks/<upstream>`) at some process: whichever one
    holds the polling lead polls it now."""

    upstream: str
    occurred_at: datetime

    topic = "sync"


@dataclass(frozen=True, slots=True)
class FeedSynced:
    """The polling leader polled a feed (`ok`, or failed with `error`): every process's
    freshness warnings say the same thing, not only the leader's."""

    upstream: str
    feed: str  # catalog, stock
    ok: bool
    error: str | None
    occurred_at: datetime

    topic = "sync"


DomainEvent = (
    StockChanged
    | CartChanged
    | OrderStatusChanged
    | ReturnCreated
    | CatalogChanged
    | LoyaltyChanged
    | LocationsChanged
    | SyncRequested
    | FeedSynced
)


class EventPublisher(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...
