"""Marketing ports: offers, member segments, and behavioral triggers with their webhook endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from adapters.ports.paging import KeysetPage
from adapters.records import OfferRecord, SegmentRecord, SegmentRules, TierBands, WebhookEndpointRecord


class OfferCodeTaken(Exception):
    """Another offer has this code."""


class OfferStore(Protocol):
    """Offer definitions (where and for whom they apply is resolvers/offers.py's decision)."""

    async def all_offers(self) -> list[OfferRecord]: ...

    async def offers_by_ids(self, ids: Sequence[int]) -> list[OfferRecord]: ...

    async def offer_page(self, page: KeysetPage) -> list[OfferRecord]: ...

    async def save_offer(self, offer: OfferRecord, now: datetime) -> OfferRecord | None:
        """Create (id 0) or replace; None: no such offer; OfferCodeTaken: code in use."""
        ...

    async def delete_offer(self, offer_id: int) -> bool: ...


class TriggerStore(Protocol):
    """Webhook endpoints, stock watches and the occasions behavioral triggers look for
    (adapters/store/triggers.py); firing an occasion queues its webhooks in the outbox."""

    async def endpoints_by_ids(self, ids: Sequence[int]) -> list[WebhookEndpointRecord]: ...

    async def endpoint_page(self, page: KeysetPage) -> list[WebhookEndpointRecord]: ...

    async def save_endpoint(
        self, endpoint_id: int | None, url: str, event_types: Sequence[str], active: bool, now: datetime
    ) -> WebhookEndpointRecord | None: ...

    async def delete_endpoint(self, endpoint_id: int) -> bool: ...

    async def watch(self, member_key: str, variant_id: int, location_id: int, now: datetime) -> None: ...

    async def unwatch(self, member_key: str, variant_id: int, location_id: int) -> bool: ...

    async def watches_of(self, member_key: str) -> list[tuple[int, int, datetime, datetime | None]]: ...

    async def idle_carts(self, idle_since: datetime, now: datetime) -> list[Any]: ...

    async def pickups_ready(self) -> list[Any]: ...

    async def reserve_holds_ending(self, now: datetime, until: datetime) -> list[Any]: ...

    async def watched_in_stock(self) -> list[Any]: ...

    async def spend_by_member(self, since: datetime) -> list[tuple[str, int]]: ...

    async def marks(self, keys: Sequence[str]) -> dict[str, str | None]: ...

    async def fire(
        self,
        occasion: Any,
        now: datetime,
        *,
        mark: tuple[str, str | None] | None = None,
        deliver: bool = True,
    ) -> int: ...


class SegmentCodeTaken(Exception):
    """Another segment has this code."""


class SegmentStore(Protocol):
    """Segment definitions, and their rules evaluated where the profile data is (in SQL)."""

    async def segments_by_ids(self, ids: Sequence[int]) -> list[SegmentRecord]: ...

    async def segment_page(self, page: KeysetPage) -> list[SegmentRecord]: ...

    async def save_segment(
        self, segment_id: int | None, code: str, name: str, rules: SegmentRules, now: datetime
    ) -> SegmentRecord | None:
        """Create (no id) or replace; None: no such segment; SegmentCodeTaken: code in use."""
        ...

    async def delete_segment(self, segment_id: int) -> bool: ...

    async def member_page(
        self, rules: SegmentRules, now: datetime, tiers: TierBands, page: KeysetPage
    ) -> list[str]:
        """Keys of the members meeting the rules, in key order; positions are (key, 0)."""
        ...

    async def segments_of_member(
        self, member_key: str, now: datetime, tiers: TierBands
    ) -> list[SegmentRecord]: ...
