"""The ports: what the gateway asks of a system of record, whichever system that is.

Each port is a Protocol with few methods, all batch-shaped (ids in, records out, any order), so a
resolver's DataLoader maps one GraphQL level to one upstream round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from adapters.commerce import (
    CartLineRecord,
    CartRecord,
    Channel,
    CheckoutAttempt,
    FulfillmentMode,
    FulfillmentRecord,
    FulfillmentStatus,
    OrderLineRecord,
    OrderRecord,
    OrderStatus,
    PaymentMethod,
    PaymentRecord,
    PaymentStatus,
    RefundStatus,
    ReturnLineRecord,
    ReturnRecord,
    StatusChangeRecord,
    StockEffect,
    TillPayment,
)
from adapters.records import (
    Address,
    InventoryAdjustment,
    InventoryLevelRecord,
    InventoryReason,
    LocationRecord,
    LoyaltyEntry,
    MarketRecord,
    MemberChanges,
    MemberDraft,
    MemberRecord,
    OfferRecord,
    OrderPush,
    OrderState,
    OutboxMessage,
    OutboxStats,
    PriceListRecord,
    PriceRecord,
    ProductRecord,
    PushedOrder,
    SafetyStockChange,
    SegmentRecord,
    SegmentRules,
    StockChange,
    TierBands,
    UpstreamLevel,
    UpstreamLocation,
    UpstreamProduct,
    VariantRecord,
    WebhookEndpointRecord,
)
from adapters.support import (
    AuditEntry,
    FulfillmentMixRow,
    LoyaltyRow,
    ReturnsRow,
    SalesRow,
    StockRow,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    TimelineKind,
)


@dataclass(frozen=True, slots=True)
class StockAdjusted:
    adjustments: list[InventoryAdjustment]
    levels: list[InventoryLevelRecord]  # the levels after the change, one per (variant, location)


class ProductSortKey(Enum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    terms: tuple[str, ...] = ()  # every term must match title, description, vendor, tags or a SKU
    category: str | None = None  # category name, case-insensitive
    available_at: tuple[int, ...] = ()  # some variant has available stock at one of these


@dataclass(frozen=True, slots=True)
class KeysetPage:
    """A window of an ordered listing: `limit` rows strictly between two keyset positions.

    A position is `(sort value, id)`; `descending` is the order rows are scanned in, so a
    backward page (`last`/`before`) scans in reverse and the caller flips it back.
    """

    limit: int
    after: tuple[Any, int] | None = None
    before: tuple[Any, int] | None = None
    descending: bool = False


class CatalogSource(Protocol):
    async def product_page(
        self, sort_key: ProductSortKey, page: KeysetPage, where: ProductFilter
    ) -> list[ProductRecord]: ...

    async def products_by_ids(self, ids: Sequence[int]) -> list[ProductRecord]: ...

    async def products_by_handles(self, handles: Sequence[str]) -> list[ProductRecord]: ...

    async def variants_by_product_ids(self, product_ids: Sequence[int]) -> list[VariantRecord]: ...

    async def variants_by_ids(self, ids: Sequence[int]) -> list[VariantRecord]: ...

    async def categories(self) -> list[str]: ...


class PriceSource(Protocol):
    """Price lists beyond the catalog's own price (which is the shop currency's market default)."""

    async def price_lists(self) -> tuple[PriceListRecord, ...]:
        """Every price list (a few dozen rows: read whole)."""
        ...

    async def markets(self) -> tuple[MarketRecord, ...]: ...

    async def prices_by_variant_ids(self, variant_ids: Sequence[int]) -> list[PriceRecord]:
        """Every list's price of these variants."""
        ...


class LocationDirectory(Protocol):
    async def all_locations(self) -> list[LocationRecord]: ...

    async def locations_by_ids(self, ids: Sequence[int]) -> list[LocationRecord]: ...


class InventorySource(Protocol):
    async def levels_by_variant_ids(self, variant_ids: Sequence[int]) -> list[InventoryLevelRecord]: ...

    async def adjust(
        self,
        changes: Sequence[StockChange],
        reason: InventoryReason,
        reference: str | None,
        actor: str,
    ) -> StockAdjusted:
        """Apply every change in one transaction, or none: raise `StockRejected` for a bad one."""
        ...

    async def set_safety_stock(self, change: SafetyStockChange, actor: str) -> InventoryLevelRecord:
        """Raise `StockRejected` (index 0) for an unknown variant or location."""
        ...

    async def ping(self) -> None: ...


class StockRejected(Exception):
    """An adjustment the stock records refuse (unknown variant/location, negative on hand)."""

    def __init__(self, index: int, code: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.code = code
        self.message = message


class Refused(Exception):
    """A write the records refuse for a business reason (`code` is a UserErrorCode member);
    nothing of it was applied. `index` points at the input line at fault, when there is one."""

    def __init__(self, code: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.index = index


# -- carts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartLineOp:
    """One change to a cart's lines.

    `line_id` None adds `quantity` of a variant (merged into the line with the same variant and
    fulfillment, if there is one). Otherwise it updates that line: a new `quantity` (0 removes
    it) and/or a new fulfillment (`mode`, `location_id`); `remove` drops it.
    """

    line_id: int | None = None
    variant_id: int | None = None
    quantity: int | None = None
    mode: FulfillmentMode | None = None
    location_id: int | None = None
    remove: bool = False


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """Which lines hold stock at their location while in a cart, and until when."""

    modes: frozenset[FulfillmentMode]
    until: datetime


@dataclass(frozen=True, slots=True)
class CartChange:
    cart: CartRecord
    levels: list[InventoryLevelRecord]  # stock levels whose `reserved` moved, after the change


@dataclass(frozen=True, slots=True)
class CartMerge(CartChange):
    merged: list[int] = field(default_factory=list)  # carts merged into `cart` (internal ids)


class CartSource(Protocol):
    async def carts_by_tokens(self, tokens: Sequence[str]) -> list[CartRecord]: ...

    async def carts_by_ids(self, ids: Sequence[int]) -> list[CartRecord]:
        """Carts whose token is kept (members' carts), by internal id."""
        ...

    async def carts_of_member(self, member_id: str, now: datetime) -> list[CartRecord]:
        """The member's open carts, most recently changed first."""
        ...

    async def lines_by_cart_ids(self, cart_ids: Sequence[int]) -> list[CartLineRecord]:
        """Lines with their hold, expired or not (`held_until` tells)."""
        ...

    async def create_cart(
        self,
        channel: Channel,
        member_id: str | None,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        currency_code: str | None = None,
        location_id: int | None = None,
    ) -> CartChange:
        """A new cart with a fresh unguessable token, and its first lines; priced in
        `currency_code` (default: the shop's), built at the store `location_id` if any."""
        ...

    async def change_lines(
        self,
        token: str,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
    ) -> CartChange:
        """Apply every op in one transaction, then take, resize or release each line's hold;
        raise `Refused` (CART_NOT_FOUND, CART_COMPLETED, CART_MERGED, LINE_NOT_FOUND,
        TOO_MANY_LINES)."""
        ...

    async def release_expired_holds(
        self, now: datetime, cart_ids: Sequence[int] | None = None
    ) -> tuple[list[int], list[InventoryLevelRecord]]:
        """Release cart holds past their time (of these carts, or all): the carts touched and
        the levels after."""
        ...

    async def delete_expired_carts(self, now: datetime) -> tuple[int, list[InventoryLevelRecord]]: ...

    async def attach_member(
        self,
        token: str,
        member_id: str,
        merge: Callable[[list[CartLineOp], list[CartLineOp]], list[CartLineOp]],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        carried: Callable[[int], bool] = ...,
    ) -> CartMerge:
        """Make the cart the member's, merging their other open carts into it (`merge` gives the
        ops on this cart from its lines and theirs; a line whose variant is not `carried` stays
        behind); the merged carts stay, MERGED into this one. Refuses CART_NOT_FOUND,
        CART_COMPLETED, CART_MERGED."""
        ...


# -- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """An order line to allocate: the first location in `candidates` that has the stock wins."""

    variant_id: int
    sku: str
    title: str
    quantity: int
    unit_price_minor: int
    mode: FulfillmentMode
    candidates: tuple[int, ...]
    cart_line_id: int | None = None  # its cart hold, if any, becomes the allocation
    hold_expires_at: datetime | None = None  # a reserve-in-store hold's end
    discount_minor: int = 0  # an offer's, on the whole line (unit_price_minor is net of it)
    offer_code: str | None = None
    # Where a pickup goes when its store (the one candidate) cannot fill it, as `redirect_mode`;
    # empty: the line fails instead (checkout's `redirect` policy).
    redirect_to: tuple[int, ...] = ()
    redirect_mode: FulfillmentMode | None = None


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who an order is for, kept with it: the ERP's order message needs an email and, for what
    ships, an address."""

    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    shipping_address: Address | None = None


@dataclass(frozen=True, slots=True)
class AttemptKey:
    scope: str  # whose key it is: "cart:17", "store:3"
    key: str
    fingerprint: str  # the request the key was first used with


@dataclass(frozen=True, slots=True)
class OrderDraft:
    channel: Channel
    member_id: str | None
    cart_id: int | None
    currency_code: str
    lines: tuple[PlannedLine, ...]
    # Each mode's first fulfillment status, and what confirming the order does to its stock.
    initial: dict[FulfillmentMode, tuple[FulfillmentStatus, StockEffect]]
    attempt: AttemptKey | None = None
    # The cart's lines the draft was made from, as (line id, variant, quantity, mode, location):
    # if the cart changed since, the order would not be what the shopper saw.
    cart_lines: frozenset[tuple[int, int, int, FulfillmentMode, int | None]] = frozenset()
    buyer: Buyer | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    order: OrderRecord
    levels: list[InventoryLevelRecord]


@dataclass(frozen=True, slots=True)
class PaymentDraft:
    method: PaymentMethod
    provider: str
    reference: str | None
    amount_minor: int
    status: PaymentStatus


@dataclass(frozen=True, slots=True)
class FulfillmentChange:
    fulfillment_id: int
    from_status: FulfillmentStatus
    to_status: FulfillmentStatus
    effect: StockEffect


@dataclass(frozen=True, slots=True)
class Transitioned:
    order: OrderRecord
    fulfillments: list[FulfillmentRecord]  # the changed ones, after
    levels: list[InventoryLevelRecord]
    order_status_changed: bool


@dataclass(frozen=True, slots=True)
class ReturnLineDraft:
    order_line_id: int
    quantity: int
    exchange_variant_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReturnDraft:
    order_id: int
    location_id: int
    lines: tuple[ReturnLineDraft, ...]
    reason: str | None
    refund_minor: int
    returnable: frozenset[FulfillmentStatus]  # lines of these fulfillments can come back


@dataclass(frozen=True, slots=True)
class Returned:
    record: ReturnRecord
    levels: list[InventoryLevelRecord]


class AttemptTaken(Exception):
    """Another call already used this idempotency key; here is what it did (or is doing)."""

    def __init__(self, attempt: CheckoutAttempt) -> None:
        super().__init__(attempt.key)
        self.attempt = attempt


OrderStatusRule = Callable[[list[FulfillmentStatus]], OrderStatus]


class OrderSource(Protocol):
    async def orders_by_ids(self, ids: Sequence[int]) -> list[OrderRecord]: ...

    async def orders_by_cart_ids(self, cart_ids: Sequence[int]) -> list[OrderRecord]: ...

    async def order_page_of_member(self, member_id: str, page: KeysetPage) -> list[OrderRecord]:
        """The member's orders from every channel, newest first unless the page says otherwise."""
        ...

    async def order_page_at_location(
        self, location_id: int, statuses: Sequence[str] | None, page: KeysetPage
    ) -> list[OrderRecord]:
        """Orders with a fulfillment at the location (in one of `statuses`, when given), newest
        first unless the page says otherwise."""
        ...

    async def fulfillments_by_order_ids(self, order_ids: Sequence[int]) -> list[FulfillmentRecord]: ...

    async def fulfillments_by_ids(self, ids: Sequence[int]) -> list[FulfillmentRecord]: ...

    async def lines_by_order_ids(self, order_ids: Sequence[int]) -> list[OrderLineRecord]: ...

    async def status_changes_by_order_ids(self, order_ids: Sequence[int]) -> list[StatusChangeRecord]: ...

    async def payments_by_order_ids(self, order_ids: Sequence[int]) -> list[PaymentRecord]: ...

    async def returns_by_order_ids(self, order_ids: Sequence[int]) -> list[ReturnRecord]: ...

    async def return_lines_by_return_ids(self, return_ids: Sequence[int]) -> list[ReturnLineRecord]: ...

    async def find_attempt(self, scope: str, key: str) -> CheckoutAttempt | None: ...

    async def place_order(self, draft: OrderDraft, now: datetime) -> Placed:
        """Claim the idempotency key, allocate every line and write the order as
        PENDING_PAYMENT, all in one transaction. Raise `AttemptTaken` when the key is in use,
        `Refused` (INSUFFICIENT_STOCK with the line's index, CART_COMPLETED) otherwise."""
        ...

    async def confirm_order(
        self,
        order_id: int,
        payments: Sequence[PaymentDraft],
        initial: dict[FulfillmentMode, tuple[FulfillmentStatus, StockEffect]],
        status_rule: OrderStatusRule,
        actor: str,
        now: datetime,
        *,
        push_to_erp: bool = False,
    ) -> Placed:
        """Payments taken (one per tender, none for a free or till-collected order): PLACED,
        then the status of its fulfillments; the cart completes. With `push_to_erp` the same
        transaction writes the order's message to the ERP (ORDER_PUSH_TOPIC) in the outbox."""
        ...

    async def abandon_order(
        self,
        order_id: int,
        error_code: str,
        error_message: str,
        hold_until: datetime,
        now: datetime,
    ) -> list[InventoryLevelRecord]:
        """Payment failed: release every allocation, give cart lines back their holds, delete
        the order and record the failure on its idempotency key."""
        ...

    async def forget_attempt(self, scope: str, key: str) -> None: ...

    async def transition(
        self,
        order_id: int,
        changes: Sequence[FulfillmentChange],
        status_rule: OrderStatusRule,
        actor: str,
        reason: str | None,
        now: datetime,
        till: TillPayment | None = None,
        *,
        tell_erp: bool = True,
    ) -> Transitioned:
        """Move fulfillments (each only from the status it is expected to be in, else `Refused`
        INVALID_TRANSITION), apply their stock effects, derive the order status. With `till`
        (or a RESERVE hold SOLD) the money taken in the store is recorded in the same
        transaction: a pending pay-at-store payment captured, a sold hold's payment added. For an
        order the ERP has, goods that left or never will are a message to it in the same
        transaction, unless the ERP made the change itself (`tell_erp=False`)."""
        ...

    async def create_return(self, draft: ReturnDraft, actor: str, now: datetime) -> Returned:
        """Record a return, restock at its location and hand out exchanges, in one transaction."""
        ...

    async def record_refund(
        self,
        payment_id: int | None,
        return_id: int | None,
        amount_minor: int,
        status: RefundStatus,
    ) -> None: ...

    async def expired_holds(self, now: datetime) -> list[FulfillmentRecord]:
        """Reserve-in-store fulfillments still HELD after their hold ended."""
        ...

    async def orders_awaiting_erp(self, limit: int, after: int = 0) -> list[OrderRecord]:
        """Orders the ERP has (pushed) and has not finished, oldest first, after order `after`."""
        ...

    async def record_erp_state(self, order_id: int, erp_reference: str, state: OrderState) -> bool:
        """What the ERP says of an order it has; True when that changed."""
        ...

    async def claim_checkout(self, order_id: int, owner: str, until: datetime, now: datetime) -> bool:
        """Make `owner` the one finishing a pending checkout until `until` (the sweeper or a
        client's retry, before either asks the payment provider anything); False when another
        owner's claim has not run out or the order is no longer pending."""
        ...

    async def stale_checkouts(self, older_than: datetime) -> list[OrderRecord]:
        """Orders left PENDING_PAYMENT (a process died while charging)."""
        ...

    async def delete_attempts(self, older_than: datetime) -> int: ...


# -- payments ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    method: PaymentMethod
    amount_minor: int
    currency_code: str
    idempotency_key: str  # the same key never charges twice
    card_token: str | None = None
    gift_card_code: str | None = field(default=None, repr=False)
    description: str = ""
    member_id: str | None = None  # whose loyalty points pay (LOYALTY_POINTS)
    order_id: int | None = None  # the order it pays (a points SPEND entry names it)
    # A gift card paying part of a split: it takes what its balance covers when charged, at most
    # `amount_minor` (the Charge says how much), rather than declining for less.
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Charge:
    method: PaymentMethod
    provider: str
    reference: str
    amount_minor: int
    currency_code: str
    status: PaymentStatus


@dataclass(frozen=True, slots=True)
class RefundRequest:
    method: PaymentMethod
    provider: str
    reference: str | None  # the charge's reference
    amount_minor: int
    currency_code: str
    idempotency_key: str


class PaymentDeclined(Exception):
    """The provider said no (a declined card, a gift card without the balance)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PaymentUnavailable(Exception):
    """The provider could not be reached or failed; the outcome is unknown."""


class PaymentGateway(Protocol):
    async def charge(self, request: ChargeRequest) -> Charge:
        """Take the money, once per idempotency key; raise `PaymentDeclined` or
        `PaymentUnavailable`."""
        ...

    async def void(self, idempotency_key: str) -> None:
        """Cancel whatever a charge with this key did, if anything (recovering a checkout)."""
        ...

    async def charged(self, idempotency_key: str) -> Charge | None:
        """The card charge taken under this key and not voided, if the provider knows one
        (finishing a checkout whose process died after charging)."""
        ...

    async def refund(self, request: RefundRequest) -> str:
        """Give money back against a charge, once per idempotency key; the refund's reference."""
        ...

    async def spendable(self, request: ChargeRequest) -> int | None:
        """How much of `request.amount_minor` a stored-value tender (loyalty points, a gift
        card) can pay: its balance plus what a charge under the request's key already took, so
        a resumed checkout plans the same split. None for tenders without a balance (cards,
        pay at store). Raise `PaymentDeclined` for a gift card code nobody issued."""
        ...


class GiftCardSource(Protocol):
    async def issue(self, amount_minor: int, currency_code: str, now: datetime) -> tuple[str, int]:
        """A new gift card: its code (shown once) and balance."""
        ...

    async def charge(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> str:
        """Take from the card, once per key; decline (`currency_mismatch`) a card that holds
        another currency than `currency_code`: its balance is never converted."""
        ...

    async def charge_up_to(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> tuple[str, int]:
        """Take what the balance covers, at most `amount_minor`, in one step (checkouts racing for
        one card each take what is left); the charge's reference and what it took. Once per key:
        a repeated key answers what the first call took. Declined like `charge` for another
        currency."""
        ...

    async def credit(self, reference: str, amount_minor: int, key: str, now: datetime) -> str: ...

    async def reverse(self, key: str, now: datetime) -> None: ...

    async def balance(self, code: str) -> int | None:
        """What is left on the card with this code (None: no such card)."""
        ...

    async def balance_with_currency(self, code: str) -> tuple[int, str] | None:
        """What is left on the card with this code and the currency it holds (None: no such card)."""
        ...

    async def charged(self, key: str) -> int:
        """What the charge made with `key` took (0: none was made)."""
        ...


@runtime_checkable
class MembersByPhone(Protocol):
    """A member directory that can find members by phone (the gateway's own can; a CRM adapter
    may)."""

    async def members_by_phone(self, digits: str, limit: int) -> list[MemberRecord]:
        """Members whose phone's digits end with `digits`, at most `limit`."""
        ...


class MemberDirectory(Protocol):
    """Customers as the CRM keeps them (Tryton parties, SAP business partners)."""

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]: ...

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]: ...

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        """Update the member with this email, or create one."""
        ...

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        """The member's profile edited (None: no such member)."""
        ...


class GatewayProfiles(Protocol):
    """Profile fields the gateway keeps for members a CRM holds (adapters/profiles.py)."""

    async def profiles_of(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Member key -> the gateway-kept fields (`phone`, `preferred_location_id`,
        `marketing_consent`) of the members that have a row."""
        ...

    async def save_profile(self, key: str, values: Mapping[str, Any], now: datetime) -> None: ...


class MemberPrivacy(Protocol):
    """A member directory's side of a data export and an erasure (optional methods of a
    `MemberDirectory`: a CRM adapter without them is reported as not erasing, and its export is
    its member record)."""

    async def export_member(self, key: str) -> dict[str, Any] | None:
        """Everything the directory holds about the member, JSON-ready (None: unknown member)."""
        ...

    async def erase_member(self, key: str, now: datetime) -> bool | None:
        """Personal fields removed or anonymized, the key kept (orders name it). False: unknown
        member; None: this directory cannot erase."""
        ...


class MemberData(Protocol):
    """What the gateway keeps about a member beside the directory: consent per channel, the
    member's link to their carts (adapters/store/privacy.py)."""

    async def consents_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[bool, datetime]]]:
        """Member key -> channel (EMAIL, SMS, PUSH) -> (granted, when), channels answered only."""
        ...

    async def save_consents(self, key: str, granted: Mapping[str, bool], now: datetime) -> None: ...

    async def erase_member_data(self, key: str, now: datetime) -> dict[str, int]:
        """Consents and gateway-kept profile fields deleted, carts let go; rows changed by kind."""
        ...


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


class LoyaltyLedger(Protocol):
    """Members' points as a ledger: every change an entry, the balance their sum."""

    async def record(
        self, member_id: str, key: str, kind: str, points: int, spend_minor: int,
        order_id: int | None, now: datetime,
    ) -> bool:  # fmt: skip
        """Write the entry unless one with this key exists (then False: a repeated event)."""
        ...

    async def spend(
        self, member_id: str, points: int, key: str, now: datetime, order_id: int | None = None
    ) -> str:
        """Take points for a payment of `order_id`, once per key; raise PaymentDeclined when
        they fall short."""
        ...

    async def take_back(
        self, member_id: str, key: str, points: int, spend_minor: int, order_id: int, now: datetime
    ) -> bool:
        """A REVERSE of `points` earned, once per key; when the balance cannot cover it (the
        points were spent) a SHORTFALL entry writes off the rest in the same transaction, so
        the balance never goes below zero. False for a repeated key."""
        ...

    async def spent(self, key: str) -> int:
        """Points the spend with this key took (0: no such spend)."""
        ...

    async def give_back(self, reference: str, points: int, key: str, now: datetime) -> str:
        """Points back against the spend `reference` (0: all of it), once per key."""
        ...

    async def balances(self, member_ids: Sequence[str]) -> list[tuple[str, int]]: ...

    async def spend_since(self, member_id: str, since: datetime) -> int: ...

    async def entries_of_order(self, order_id: int) -> list[LoyaltyEntry]: ...

    async def entry_page(self, member_id: str, page: KeysetPage) -> list[LoyaltyEntry]: ...

    async def orders_without_points(self, statuses: Sequence[str], limit: int) -> list[OrderRecord]:
        """Members' orders in `statuses` that have no EARN entry (catch-up after a crash)."""
        ...


class PurchaseHistory(Protocol):
    """What was bought, across every channel: what recommendations learn from."""

    async def bought_together(self, product_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(product, other product, number of orders with both) for each of `product_ids`."""
        ...

    async def bought_by_member(self, member_id: str) -> list[tuple[int, str, int]]:
        """(product, category, units) the member bought."""
        ...

    async def best_sellers(self, categories: Sequence[str] | None, limit: int) -> list[tuple[int, str, int]]:
        """(product, category, orders) of the most ordered products, most first, then by id."""
        ...

    async def best_sellers_at(self, location_ids: Sequence[int], limit: int) -> list[tuple[int, str, int]]:
        """As `best_sellers`, counting only what was sold or fulfilled at `location_ids`."""
        ...


class MemberCredentials(Protocol):
    """Passwords of members who sign in at the gateway itself (not through an identity provider)."""

    async def password_hash_of(self, email: str) -> tuple[str, str] | None:
        """(member key, argon2 hash) of the member with this email, if they have a password."""
        ...


class OrderSink(Protocol):
    """Where orders are fulfilled and invoiced: the ERP."""

    async def push_order(self, order: OrderPush) -> PushedOrder:
        """Create and confirm the order unless one with its reference exists: safe to repeat."""
        ...

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]: ...


# --- Feeds: how an upstream's catalog and stock reach the gateway's read model ---


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


class TicketDesk(Protocol):
    """Support conversations: the gateway's own store by default; an external help desk's
    adapter fits the same port (it then owns tickets and messages)."""

    async def open_ticket(
        self, member_id: str, subject: str, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket: ...

    async def add_message(
        self, ticket_id: int, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket | None: ...

    async def set_status(self, ticket_id: int, status: TicketStatus, now: datetime) -> Ticket | None: ...

    async def tickets_by_ids(self, ids: Sequence[int]) -> list[Ticket | None]: ...

    async def tickets_of_member(self, member_id: str, page: KeysetPage) -> list[Ticket]: ...

    async def messages_of(self, ticket_ids: Sequence[int]) -> list[list[TicketMessage]]: ...


class AnalyticsSource(Protocol):
    """The analytics reports' aggregates over [since, until), of some locations (None: all)."""

    async def sales(
        self, since: datetime, until: datetime, locations: Collection[int] | None, *,
        by_channel: bool, by_location: bool, period: str | None,
    ) -> list[SalesRow]: ...  # fmt: skip

    async def fulfillment_mix(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[FulfillmentMixRow]: ...

    async def returns(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[ReturnsRow]: ...

    async def stock(
        self, since: datetime, until: datetime, locations: Collection[int] | None
    ) -> list[StockRow]: ...

    async def loyalty(self, since: datetime, until: datetime, period: str) -> list[LoyaltyRow]: ...

    async def points_outstanding(self, until: datetime) -> int: ...


class MemberTimeline(Protocol):
    """A member's events across channels, by (at, kind, ref)."""

    async def entry_page(
        self, member_id: str, page: KeysetPage, *, kinds: Collection[TimelineKind] | None,
        channels: Collection[str] | None, abandoned_before: datetime,
    ) -> list[TimelineEntry]: ...  # fmt: skip


class SignInLog(Protocol):
    async def record(self, member_id: str, channel: str, at: datetime) -> None: ...


class AuditLog(Protocol):
    """Who read or changed which member's personal data, and when."""

    async def record(
        self, actor: str, member_id: str, action: str, fields: Sequence[str], at: datetime
    ) -> None: ...

    async def entry_page(self, member_id: str | None, page: KeysetPage) -> list[AuditEntry]: ...


class OrderOutbox(Protocol):
    """The messages on their way to the ERP, as back-office staff run them."""

    async def dead_letters(self, limit: int = 100) -> list[OutboxMessage]: ...

    async def messages(self, ids: list[int]) -> list[OutboxMessage]: ...

    async def replay(self, ids: list[int]) -> list[int]:
        """Dead letters among `ids` are tried again (attempts from zero); returns those."""
        ...

    async def stats(self) -> OutboxStats: ...


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
