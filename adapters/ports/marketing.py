"""Marketing ports: offers, member segments, and behavioral triggers with their webhook endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from adapters.ports.paging import KeysetPage
from adapters.records import GeoPoint


@dataclass(frozen=True, slots=True)
class SegmentRules:
    """Conditions over the unified profile, all of which a member meets to be in a segment
    (None or empty: no condition). Spends are minor units of the shop's currency, as tiers are."""

    tiers: tuple[str, ...] = ()  # the loyalty tier, from the last 12 months' spend
    min_spend_minor: int | None = None  # the last 12 months' spend, at least
    max_spend_minor: int | None = None  # ... at most
    purchased_within_days: int | None = None  # a purchase in the last N days
    lapsed_days: int | None = None  # has bought, but not in the last N days
    channels_used: tuple[str, ...] = ()  # bought in any of these channels
    categories_bought: tuple[str, ...] = ()  # bought in any of these categories
    preferred_location_ids: tuple[int, ...] = ()  # prefers one of these stores
    consent_channel: str | None = None  # has consented to marketing on this channel


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    id: int
    code: str
    name: str
    rules: SegmentRules
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TierBands:
    """The loyalty program's tiers as spend bands in minor units: (name, floor), highest first,
    and the tier below the lowest floor."""

    bands: tuple[tuple[str, int], ...]
    base: str
    window: timedelta


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """A percentage off each unit, for whom (a segment's members, or anyone), in which channels
    (none: all), where (some stores, and/or stores within `radius_km` of `near`; neither: any
    line, shipped too), and when."""

    id: int
    code: str
    title: str
    percent_off: int
    segment_id: int | None = None
    channels: tuple[str, ...] = ()
    location_ids: tuple[int, ...] = ()
    near: GeoPoint | None = None
    radius_km: float | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool = True


WEBHOOK_TOPIC = "marketing.webhook"  # the outbox topic of behavioral trigger deliveries


@dataclass(frozen=True, slots=True)
class WebhookEndpointRecord:
    id: int
    url: str
    secret: str  # `whsec_` + base64: the Standard Webhooks signing key
    event_types: tuple[str, ...]  # () every event
    active: bool


@dataclass(frozen=True, slots=True)
class Occasion:
    """Something a behavioral trigger tells marketing about, once per `key`."""

    key: str  # fires once per key
    event_type: str
    data: dict[str, Any]
    member_key: str | None = None


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
