"""The records the ports speak: plain, immutable, cheap to build and to read.

Schema types are views of these records (strawberry reads their attributes directly), so an
adapter never builds GraphQL objects and a compiled executor can walk the same objects. Records
that only one domain speaks sit with its ports instead (adapters/ports/feeds.py, marketing.py, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum


class LocationKind(Enum):
    STORE = "STORE"
    WAREHOUSE = "WAREHOUSE"


class DayOfWeek(Enum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


# ISO 4217 minor units for the currencies we price in; anything else has two.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "JOD": 3}


def minor_units(currency_code: str) -> int:
    return _MINOR_UNITS.get(currency_code, 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency_code: str

    @classmethod
    def from_minor(cls, minor: int, currency_code: str) -> Money:
        # scaleb keeps it exact: no float ever touches an amount
        return cls(Decimal(minor).scaleb(-minor_units(currency_code)), currency_code)

    def to_minor(self) -> int:
        return int(self.amount.scaleb(minor_units(self.currency_code)))


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt_text: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class SelectedOption:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: int
    handle: str
    title: str
    description: str
    vendor: str
    category: str
    tags: tuple[str, ...]
    images: tuple[Image, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VariantRecord:
    id: int
    product_id: int
    sku: str
    title: str
    selected_options: tuple[SelectedOption, ...]
    position: int
    price: Money
    compare_at_price: Money | None


@dataclass(frozen=True, slots=True)
class Address:
    address1: str
    address2: str | None
    city: str
    province: str | None
    province_code: str | None
    zip: str | None
    country: str
    country_code: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class GeoPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class OpeningHours:
    day: DayOfWeek
    opens: str  # "HH:MM", the store's local time
    closes: str


@dataclass(frozen=True, slots=True)
class LocationRecord:
    id: int
    code: str
    name: str
    kind: LocationKind
    address: Address
    geo: GeoPoint
    timezone: str
    pickup_enabled: bool
    ship_from_store_enabled: bool
    opening_hours: tuple[OpeningHours, ...]


@dataclass(frozen=True, slots=True)
class InventoryLevelRecord:
    variant_id: int
    location_id: int
    on_hand: int
    reserved: int
    updated_at: datetime
    safety_stock: int = 0  # kept out of online availability, not out of a sale at the till
    # What can be promised online. A count below what is promised shows as none left, not as a
    # negative stock. Kept, not computed on each read: a listing reads it thousands of times.
    available: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        free = self.on_hand - self.reserved - self.safety_stock
        object.__setattr__(self, "available", max(free, 0))


@dataclass(frozen=True, slots=True)
class PriceListRecord:
    """Prices in one currency for whoever the list names: a channel, a store, a member tier
    (None: any), between `valid_from` and `valid_until` (None: open). The more a list names,
    the more specific it is (resolvers/prices.py has the precedence)."""

    id: int
    code: str
    name: str
    currency_code: str
    channel: str | None
    location_id: int | None
    member_tier: str | None
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """One variant's price (and compare-at price) on one price list, in the list's currency."""

    price_list_id: int
    variant_id: int
    amount_minor: int
    compare_at_minor: int | None


@dataclass(frozen=True, slots=True)
class MarketRecord:
    """The currency a country buys in."""

    country_code: str
    currency_code: str


class InventoryReason(Enum):
    CYCLE_COUNT = "CYCLE_COUNT"
    RECEIPT = "RECEIPT"
    RFID_SCAN = "RFID_SCAN"
    DAMAGED = "DAMAGED"
    SHRINKAGE = "SHRINKAGE"
    TRANSFER = "TRANSFER"
    RETURN_RESTOCK = "RETURN_RESTOCK"
    CORRECTION = "CORRECTION"
    SALE = "SALE"  # goods left with a customer: shipped, picked up, sold at a till


@dataclass(frozen=True, slots=True)
class StockChange:
    """One line of an adjustment: either a delta or an absolute count, never both."""

    variant_id: int
    location_id: int
    delta: int | None = None
    on_hand: int | None = None


@dataclass(frozen=True, slots=True)
class SafetyStockChange:
    """How many units of a variant a location keeps out of online availability."""

    variant_id: int
    location_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class InventoryAdjustment:
    id: int
    variant_id: int
    location_id: int
    delta: int
    on_hand_after: int
    reason: InventoryReason
    reference: str | None
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRecord:
    key: str  # the directory's own id (Tryton party id, SAP BusinessPartner)
    email: str | None
    first_name: str
    last_name: str
    phone: str | None
    addresses: tuple[Address, ...]
    preferred_location_id: int | None = None
    marketing_consent: bool = False


@dataclass(frozen=True, slots=True)
class LoyaltyEntry:
    id: int
    member_id: str
    key: str  # the order event that made it: one entry per event
    kind: str  # EARN, REVERSE, SPEND, REFUND
    points: int  # signed
    spend_minor: int  # what it adds to (or takes from) the rolling spend that sets the tier
    order_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberChanges:
    """A profile edit: None leaves a field as it is."""

    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    addresses: tuple[Address, ...] | None = None
    preferred_location_id: int | None = None
    marketing_consent: bool | None = None


@dataclass(frozen=True, slots=True)
class MemberDraft:
    email: str
    first_name: str
    last_name: str
    phone: str | None = None
    address: Address | None = None


class OrderState(Enum):
    PENDING = "PENDING"  # received, not yet confirmed by the ERP
    CONFIRMED = "CONFIRMED"
    PROCESSING = "PROCESSING"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class OrderLinePush:
    sku: str
    quantity: int
    unit_price: Money


ORDER_PUSH_TOPIC = "order.push"  # outbox topic: the payload is `OrderPush.to_payload()`
# What happens to a pushed order afterwards, each its own message (adapters/store/erp_messages.py):
ORDER_FULFILLMENT_TOPIC = "order.fulfillment"  # a fulfillment's goods left, or never will
ORDER_RETURN_TOPIC = "order.return"  # goods came back


def erp_reference(order_number: int) -> str:
    """The order's number as the ERP keeps it (sale reference, PurchaseOrderByCustomer)."""
    return f"OMNI-{order_number}"


@dataclass(frozen=True, slots=True)
class OrderPush:
    """An order on its way to the ERP; `reference` (the gateway's order number) is the
    natural idempotency key: the sink looks it up before creating anything."""

    reference: str
    customer: MemberDraft
    lines: tuple[OrderLinePush, ...]
    currency_code: str
    location_code: str | None = None  # ship-from warehouse or store, if chosen

    def to_payload(self) -> dict[str, object]:
        c = self.customer
        return {
            "reference": self.reference,
            "currency_code": self.currency_code,
            "location_code": self.location_code,
            "customer": {
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "phone": c.phone,
                "address": None if c.address is None else _address_payload(c.address),
            },
            "lines": [
                {"sku": ln.sku, "quantity": ln.quantity, "unit_price": str(ln.unit_price.amount)}
                for ln in self.lines
            ],
        }

    @classmethod
    def from_payload(cls, data: dict[str, object]) -> OrderPush:
        customer = data["customer"]
        currency = str(data["currency_code"])
        assert isinstance(customer, dict)
        lines = data["lines"]
        assert isinstance(lines, list)
        return cls(
            reference=str(data["reference"]),
            customer=MemberDraft(
                email=customer["email"],
                first_name=customer["first_name"],
                last_name=customer["last_name"],
                phone=customer.get("phone"),
                address=Address(**customer["address"]) if customer.get("address") else None,
            ),
            lines=tuple(
                OrderLinePush(ln["sku"], int(ln["quantity"]), Money(Decimal(ln["unit_price"]), currency))
                for ln in lines
            ),
            currency_code=currency,
            location_code=data.get("location_code"),  # type: ignore[arg-type]
        )


def _address_payload(a: Address) -> dict[str, str | None]:
    return {name: getattr(a, name) for name in Address.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class PushedOrder:
    reference: str
    external_id: str  # the ERP's number (Tryton sale id, SAP SalesOrder)
    state: OrderState
    created: bool = False  # False when the push found the order already there


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to an upstream in the outbox, as staff see it."""

    id: int
    topic: str
    order_id: int | None
    attempts: int
    created_at: datetime
    last_error: str | None
    dead_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxStats:
    backlog: int  # waiting for delivery, dead letters not counted
    oldest_age_s: float  # age of the oldest message waiting; 0 when none
    dead: int  # dead letters waiting for staff
    retrying: int  # waiting messages that failed at least once
