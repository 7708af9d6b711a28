"""Order ports: placing, paying for, fulfilling and returning orders, from carts and store sales.

With them the idempotency keys that make a checkout safe to repeat, and refunds. The ERP's side
of orders (sending them, reading their state back) is adapters/ports/erp.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.commerce import (
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
from adapters.ports.paging import KeysetPage
from adapters.records import Address, InventoryLevelRecord, OrderState


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
