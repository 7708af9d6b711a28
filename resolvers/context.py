"""What a use case may ask of the request it serves (the gateway's Context satisfies this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from resolvers.allocation import ShipAllocationStrategy, WarehousesFirst
from resolvers.cart_merge import AddQuantities, CartMergeStrategy
from resolvers.loyalty_program import LoyaltyProgram
from resolvers.recommendation_strategy import BoughtTogetherThenAffinity, RecommendationStrategy

if TYPE_CHECKING:
    from adapters.ports.upstreams import Upstreams
    from resolvers.events import EventPublisher
    from resolvers.loaders import Loaders
    from resolvers.prices import PriceContext
    from resolvers.principal import Principal


@dataclass(frozen=True, slots=True)
class CommercePolicy:
    """Business settings that retailers tune, read once from the gateway's settings."""

    currency_code: str = "USD"
    max_page_size: int = 250
    default_page_size: int = 50
    default_radius_km: float = 50.0
    pickup_lead_time: timedelta = timedelta(hours=2)
    cart_ttl: timedelta = timedelta(days=30)  # an idle cart is forgotten after this
    cart_hold: timedelta = timedelta(minutes=15)  # a pickup/reserve line holds stock this long
    reserve_hold: timedelta = timedelta(hours=48)  # a confirmed reserve-in-store hold
    cart_abandoned_after: timedelta = timedelta(hours=4)  # idle this long with items: abandoned
    reserve_expiring_within: timedelta = timedelta(hours=6)  # a reserve hold ends within: remind
    max_cart_lines: int = 100
    max_line_quantity: int = 999
    checkout_wait: timedelta = timedelta(seconds=15)  # a repeated key waits for the first call
    checkout_stale: timedelta = timedelta(minutes=10)  # a checkout stuck charging is undone
    idempotency_ttl: timedelta = timedelta(days=7)
    push_store_sales: bool = False  # till sales go to the order sink too
    walk_in_customer_email: str = "walk-in@example.com"  # the ERP customer of anonymous till sales
    ship_allocation: ShipAllocationStrategy = field(default_factory=WarehousesFirst)
    cart_merge: CartMergeStrategy = field(default_factory=AddQuantities)
    loyalty: LoyaltyProgram = field(default_factory=LoyaltyProgram)
    recommendations: RecommendationStrategy = field(default_factory=BoughtTogetherThenAffinity)


class SignInThrottle(Protocol):
    """Counts password attempts per account and client address (the gateway's, in Redis or in
    process); `admit` charges one and answers None, or refuses with the seconds to wait."""

    async def admit(self, email: str, address: str | None) -> int | None: ...

    async def succeeded(self, email: str, address: str | None) -> None: ...


class LookupThrottle(Protocol):
    """Counts lookups of secrets by code (a gift card's balance) per caller; `admit` charges
    one and answers None, or refuses with the seconds to wait."""

    async def admit(self, caller: str) -> int | None: ...


class ResolverContext(Protocol):
    upstreams: Upstreams
    loaders: Loaders
    events: EventPublisher
    principal: Principal
    policy: CommercePolicy
    client_address: str | None  # the caller's address as the gateway resolved it
    sign_in_throttle: SignInThrottle | None
    gift_card_lookups: LookupThrottle | None
    pricing: PriceContext | None  # the request's @inContext; None: the catalog's own prices

    def now(self) -> datetime: ...
