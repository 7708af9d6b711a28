"""Types every domain shares: Node, Money, geography, pages, user errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

import strawberry
from strawberry.types import Info

from adapters import commerce, records
from resolvers.user_errors import UserError as UserErrorRecord
from schema.batch import CATALOG, LOCATIONS, NO_TOPICS
from schema.ids import int_key

DateTime = datetime


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID

    # Set by each implementing type: its GraphQL name and the record class it views.
    record: ClassVar[type]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, (cls, cls.record))

    @classmethod
    def parse_key(cls, key: str, argument: str) -> Any:
        """The key part of this type's global ids; most types are keyed by an integer."""
        return int_key(key, argument)

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[Any]) -> list[Any]:
        raise NotImplementedError


@strawberry.enum(description="ISO 4217 currency codes the gateway prices in.")
class CurrencyCode(Enum):
    USD = "USD"
    CAD = "CAD"
    EUR = "EUR"
    GBP = "GBP"
    CHF = "CHF"
    SEK = "SEK"
    NOK = "NOK"
    DKK = "DKK"
    PLN = "PLN"
    AUD = "AUD"
    NZD = "NZD"
    JPY = "JPY"
    MXN = "MXN"


_CURRENCIES = {c.value: c for c in CurrencyCode}  # every Money of a listing asks: a lookup, not a call

Channel = strawberry.enum(commerce.Channel)


@strawberry.type(description="An amount in a currency; the amount is an exact decimal string.")
class Money:
    cache_topics = CATALOG

    amount: Decimal

    @strawberry.field
    def currency_code(root: records.Money) -> CurrencyCode:
        return _CURRENCIES.get(root.currency_code) or CurrencyCode(root.currency_code)


@strawberry.type
class PageInfo:
    cache_topics = NO_TOPICS

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class GeoPoint:
    cache_topics = LOCATIONS

    latitude: float
    longitude: float


@strawberry.input(description="A point on the Earth, in decimal degrees (WGS 84).")
class GeoPointInput:
    latitude: float
    longitude: float

    def to_record(self) -> records.GeoPoint:
        return records.GeoPoint(self.latitude, self.longitude)


@strawberry.type
class Address:
    cache_topics = LOCATIONS

    address1: str
    address2: str | None
    city: str
    province: str | None
    province_code: str | None
    zip: str | None
    country: str
    country_code: str
    phone: str | None


@strawberry.type
class Image:
    cache_topics = CATALOG

    url: str
    alt_text: str | None
    width: int | None
    height: int | None


@strawberry.type
class SelectedOption:
    cache_topics = CATALOG

    name: str
    value: str


@strawberry.enum(description="Why a mutation did not do what was asked.")
class UserErrorCode(Enum):
    INVALID = "INVALID"
    VARIANT_NOT_FOUND = "VARIANT_NOT_FOUND"
    LOCATION_NOT_FOUND = "LOCATION_NOT_FOUND"
    NEGATIVE_ON_HAND = "NEGATIVE_ON_HAND"
    # carts
    CART_NOT_FOUND = "CART_NOT_FOUND"
    CART_COMPLETED = "CART_COMPLETED"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    INVALID_FULFILLMENT = "INVALID_FULFILLMENT"
    CART_MERGED = "CART_MERGED"
    NOT_PRICED_IN_CURRENCY = "NOT_PRICED_IN_CURRENCY"
    # checkout
    EMPTY_CART = "EMPTY_CART"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_METHOD_NOT_ALLOWED = "PAYMENT_METHOD_NOT_ALLOWED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    CHECKOUT_IN_PROGRESS = "CHECKOUT_IN_PROGRESS"
    CHECKOUT_EXPIRED = "CHECKOUT_EXPIRED"
    CART_CHANGED = "CART_CHANGED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    # orders and returns
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    FULFILLMENT_NOT_FOUND = "FULFILLMENT_NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    ORDER_LINE_NOT_FOUND = "ORDER_LINE_NOT_FOUND"
    NOT_RETURNABLE = "NOT_RETURNABLE"
    RETURN_QUANTITY_EXCEEDED = "RETURN_QUANTITY_EXCEEDED"
    EXCHANGE_NOT_ALLOWED = "EXCHANGE_NOT_ALLOWED"
    # members
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    SIGN_IN_UNAVAILABLE = "SIGN_IN_UNAVAILABLE"
    PROFILE_READ_ONLY = "PROFILE_READ_ONLY"
    # support
    TICKET_NOT_FOUND = "TICKET_NOT_FOUND"


@strawberry.type(description="A business failure of a mutation; nothing of that mutation was applied.")
class UserError:
    field: list[str] | None
    message: str

    @strawberry.field
    def code(root: UserErrorRecord) -> UserErrorCode:
        return UserErrorCode(root.code)
