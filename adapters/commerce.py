"""The records of carts, orders, returns and payments: what the commerce ports speak.

Like `adapters.records`, these are frozen and cheap; schema types are views of them. Amounts are
integers in minor units here (the currency is on the parent record); resolvers turn them into
`Money` where a client sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Channel(Enum):
    WEB = "WEB"
    MOBILE_APP = "MOBILE_APP"
    STORE = "STORE"
    PARTNER = "PARTNER"


class FulfillmentMode(Enum):
    SHIP = "SHIP"  # from a warehouse the allocation strategy picks at checkout
    PICKUP = "PICKUP"  # collect at a store, paid
    RESERVE = "RESERVE"  # hold at a store to try on; paid at the till, or released
    SHIP_FROM_STORE = "SHIP_FROM_STORE"  # shipped by a store
    IN_STORE = "IN_STORE"  # a till sale: never on a cart line


class CartStatus(Enum):
    OPEN = "OPEN"
    CHECKING_OUT = "CHECKING_OUT"  # a checkout holds it while the payment is taken
    COMPLETED = "COMPLETED"
    MERGED = "MERGED"  # its lines went to the cart its member attached on another device


class OrderStatus(Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"  # stock allocated, charge in flight; never shown
    PLACED = "PLACED"
    ALLOCATED = "ALLOCATED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    SHIPPED = "SHIPPED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    PICKED_UP = "PICKED_UP"
    DELIVERED = "DELIVERED"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"
    HELD = "HELD"  # reserve to try on, nothing else: held at the store, not bought yet


class FulfillmentStatus(Enum):
    ALLOCATED = "ALLOCATED"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    PICKED_UP = "PICKED_UP"
    HELD = "HELD"  # reserve-in-store: on hold at the store
    SOLD = "SOLD"  # reserve-in-store: bought at the till
    RELEASED = "RELEASED"  # reserve-in-store: let go by staff
    EXPIRED = "EXPIRED"  # reserve-in-store: the hold ran out
    CANCELLED = "CANCELLED"


class StockEffect(Enum):
    """What a fulfillment transition does to its lines' stock."""

    NONE = "NONE"
    SHIP_OUT = "SHIP_OUT"  # the goods leave: on hand and reserved both go down
    RELEASE = "RELEASE"  # the promise ends: reserved goes down


class PaymentMethod(Enum):
    CARD = "CARD"
    GIFT_CARD = "GIFT_CARD"
    PAY_AT_STORE = "PAY_AT_STORE"
    LOYALTY_POINTS = "LOYALTY_POINTS"  # the signed-in member's points, one per minor unit by default


class PaymentStatus(Enum):
    CAPTURED = "CAPTURED"
    PENDING = "PENDING"  # pay at store: collected at the till
    VOIDED = "VOIDED"


class RefundStatus(Enum):
    NONE = "NONE"  # nothing to refund (an exchange)
    PENDING = "PENDING"  # goods are back; the refund has not gone through yet
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class CartRecord:
    id: int  # internal; never shown
    token: str  # the secret a client holds; the cart's global id is `Cart:<token>`
    channel: Channel
    member_id: str | None
    currency_code: str
    status: CartStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    location_id: int | None = None  # the store it is built and priced at (a store tablet)
    merged_into_id: int | None = None  # internal id of the cart it was merged into


@dataclass(frozen=True, slots=True)
class CartLineRecord:
    id: int
    cart_id: int
    variant_id: int
    quantity: int
    mode: FulfillmentMode
    location_id: int | None
    held: int  # units this line holds at its location (0 when none or expired)
    held_until: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CartLineChange:
    """One line as it should be after a cart mutation; `line_id` None adds a line."""

    line_id: int | None
    variant_id: int
    quantity: int  # 0 removes the line
    mode: FulfillmentMode
    location_id: int | None
    holds_stock: bool  # whether this line holds stock at its location while in the cart


@dataclass(frozen=True, slots=True)
class OrderRecord:
    id: int
    channel: Channel
    status: OrderStatus
    member_id: str | None
    cart_id: int | None
    currency_code: str
    subtotal_minor: int
    total_minor: int
    payment_key: str  # the provider's idempotency key: one order is charged once
    created_at: datetime
    updated_at: datetime

    @property
    def number(self) -> int:
        return order_number(self.id)


def order_number(order_id: int) -> int:
    """What a customer reads on a receipt; derived from the id, so it needs no sequence."""
    return 1000 + order_id


@dataclass(frozen=True, slots=True)
class FulfillmentRecord:
    id: int
    order_id: int
    location_id: int
    mode: FulfillmentMode
    status: FulfillmentStatus
    hold_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    redirected_from_id: int | None = None  # the pickup store that ran out at checkout
    redirect_reason: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    id: int
    order_id: int
    fulfillment_id: int
    variant_id: int
    sku: str
    title: str
    quantity: int
    unit_price_minor: int  # what was charged a unit: after an offer's discount
    currency_code: str  # the order's: what it was sold in
    discount_minor: int = 0  # what an offer took off the line (all its units)
    offer_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    id: int
    order_id: int
    status: OrderStatus
    fulfillment_id: int | None
    fulfillment_status: FulfillmentStatus | None
    actor: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    order_id: int
    method: PaymentMethod
    provider: str
    reference: str | None
    amount_minor: int
    refunded_minor: int
    currency_code: str
    status: PaymentStatus
    created_at: datetime


class TillTender(Enum):
    CASH = "CASH"
    CARD = "CARD"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class TillPayment:
    """What staff took at the till for an order collected or bought in the store."""

    tender: TillTender = TillTender.OTHER
    reference: str | None = None  # the till's receipt or terminal reference


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    id: int
    order_id: int
    location_id: int
    reason: str | None
    actor: str
    refund_minor: int
    refund_status: RefundStatus
    created_at: datetime
    currency_code: str  # the order's: a refund is in what was paid


@dataclass(frozen=True, slots=True)
class ReturnLineRecord:
    id: int
    return_id: int
    order_id: int
    order_line_id: int
    quantity: int
    exchange_variant_id: int | None


@dataclass(frozen=True, slots=True)
class CheckoutAttempt:
    """An idempotency key's record: what the first call with this key did."""

    scope: str
    key: str
    fingerprint: str
    status: str  # PENDING | COMPLETED | FAILED
    order_id: int | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
