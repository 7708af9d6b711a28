"""The systems of record chosen by configuration, one per port (`Upstreams`)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.ports.analytics import AnalyticsSource, PurchaseHistory
from adapters.ports.carts import CartSource
from adapters.ports.catalog import CatalogSource, PriceSource
from adapters.ports.erp import OrderOutbox, OrderSink
from adapters.ports.inventory import InventorySource, LocationDirectory
from adapters.ports.loyalty import LoyaltyLedger
from adapters.ports.marketing import OfferStore, SegmentStore, TriggerStore
from adapters.ports.members import MemberCredentials, MemberData, MemberDirectory, SignInLog
from adapters.ports.orders import OrderSource
from adapters.ports.payments import GiftCardSource, PaymentGateway
from adapters.ports.support import AuditLog, MemberTimeline, TicketDesk


@dataclass(frozen=True, slots=True)
class Upstreams:
    """The systems of record chosen by configuration, one per port."""

    catalog: CatalogSource
    locations: LocationDirectory
    inventory: InventorySource
    carts: CartSource
    orders: OrderSource
    gift_cards: GiftCardSource
    payments: PaymentGateway
    members: MemberDirectory | None = None
    member_credentials: MemberCredentials | None = None
    loyalty: LoyaltyLedger | None = None
    purchases: PurchaseHistory | None = None
    order_sink: OrderSink | None = None  # the ERP that receives orders (through the outbox)
    outbox: OrderOutbox | None = None  # its messages: None when no order sink is configured
    prices: PriceSource | None = None  # None: every variant has its catalog price only
    member_data: MemberData | None = None  # consents, carts' owners: export and erasure
    segments: SegmentStore | None = None  # segment definitions, evaluated in SQL
    offers: OfferStore | None = None  # None: no offers, prices as the price lists say
    triggers: TriggerStore | None = None  # behavioral triggers and their webhook endpoints
    tickets: TicketDesk | None = None  # support conversations
    audit: AuditLog | None = None
    sign_ins: SignInLog | None = None  # members' sign-ins by channel
    # The gateway's own database answers these (adapters/store/analytics.py, timeline.py): SQL
    # aggregates over every channel's orders, and a member's history across channels.
    analytics: AnalyticsSource | None = None
    timeline: MemberTimeline | None = None
