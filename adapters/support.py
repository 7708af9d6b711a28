"""The records of support, audit and analytics: conversations, timeline entries, audit entries,
report rows. Plain and immutable, like adapters/records.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum


class TicketChannel(Enum):
    WEB_CHAT = "WEB_CHAT"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    STORE = "STORE"


class TicketStatus(Enum):
    OPEN = "OPEN"
    PENDING = "PENDING"  # waiting for the member
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class TicketMessage:
    id: int
    ticket_id: int
    channel: TicketChannel
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    member_id: str
    subject: str
    channel: TicketChannel
    status: TicketStatus
    opened_by: str
    created_at: datetime
    updated_at: datetime


class TimelineKind(Enum):
    ORDER = "ORDER"
    TILL_SALE = "TILL_SALE"
    FULFILLMENT = "FULFILLMENT"  # a fulfillment moved (shipped, ready, picked up, ...)
    PICKUP = "PICKUP"  # collected at a store
    RETURN = "RETURN"
    CART = "CART"
    ABANDONED_CART = "ABANDONED_CART"
    LOYALTY = "LOYALTY"
    TICKET = "TICKET"
    SIGN_IN = "SIGN_IN"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: TimelineKind
    at: datetime
    ref: int  # the row's id in its own kind: order, status change, return, cart, entry, message
    channel: str | None  # Channel for commerce, TicketChannel for conversations
    location_id: int | None
    detail: str | None  # a status, a loyalty entry's kind, a conversation's subject
    amount: int | None  # minor units of an order or a refund, points of a loyalty entry
    parent: int | None  # the order of a fulfillment move, return or entry; the ticket of a message


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor: str
    member_id: str
    action: str
    fields: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class SalesRow:
    channel: str | None
    location_id: int | None
    period: date | None
    currency_code: str
    orders: int
    units: int
    sales_minor: int


@dataclass(frozen=True, slots=True)
class FulfillmentMixRow:
    mode: str
    currency_code: str
    orders: int
    units: int
    sales_minor: int


@dataclass(frozen=True, slots=True)
class ReturnsRow:
    channel: str
    units_sold: int
    units_returned: int
    returns_in_store: int
    returns_elsewhere: int  # at a warehouse: sent back
    cross_channel_returns: int  # returned through another channel than the sale's


@dataclass(frozen=True, slots=True)
class StockRow:
    location_id: int
    category: str
    on_hand: int
    units_sold: int


@dataclass(frozen=True, slots=True)
class LoyaltyRow:
    period: date
    earned: int
    spent: int
    reversed: int
    refunded: int
