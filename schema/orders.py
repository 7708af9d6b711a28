"""Orders from every channel: their fulfillments and lifecycle, store sales, returns, gift cards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters import commerce
from adapters.commerce import (
    FulfillmentRecord,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    StatusChangeRecord,
)
from adapters.records import Money as MoneyRecord
from resolvers import catalog, locations, members, orders, store_sales
from resolvers.checkout import CheckoutResult
from resolvers.errors import NotFound
from resolvers.offers import LineDiscount as LineDiscountRecord
from resolvers.orders import OrderResult
from resolvers.pagination import PageArgs
from resolvers.tenders import PaymentInput as PaymentInputRecord
from schema.batch import batch, each, one
from schema.common import Channel, CurrencyCode, DateTime, LineDiscount, Money, Node, UserError
from schema.ids import EXTERNAL_KEY, decode_id, decode_str_id, to_global_id
from schema.locations import Location
from schema.permissions import (
    CanCancelOrder,
    CanSeeOrder,
    SeesLocationOrders,
    WorksAtFulfillmentLocation,
    WorksAtInputLocation,
    may_see_order,
)
from schema.returns import Return

if TYPE_CHECKING:
    from schema.catalog import ProductVariant
    from schema.members import Member, OrderConnection

ProductVariantRef = Annotated["ProductVariant", strawberry.lazy("schema.catalog")]
MemberRef = Annotated["Member", strawberry.lazy("schema.members")]
OrderConnectionRef = Annotated["OrderConnection", strawberry.lazy("schema.members")]

OrderStatus = strawberry.enum(
    commerce.OrderStatus,
    description="Where an order stands, summed up from its fulfillments.",
)
FulfillmentStatus = strawberry.enum(commerce.FulfillmentStatus)
FulfillmentMode = strawberry.enum(
    commerce.FulfillmentMode,
    description="How a line reaches the customer. IN_STORE is a till sale: not for cart lines.",
)
PaymentMethod = strawberry.enum(commerce.PaymentMethod)
PaymentStatus = strawberry.enum(commerce.PaymentStatus)
RefundStatus = strawberry.enum(commerce.RefundStatus)


def _money(minor: int, currency_code: str) -> MoneyRecord:
    return MoneyRecord.from_minor(minor, currency_code)


# Batch resolvers (schema/batch.py): a field's values for a whole level of orders, lines or
# fulfillments at once, so that a member's orders cost one round trip per loader, whatever
# their number and size.


async def _fulfillment_location(ctx: Any, f: FulfillmentRecord) -> Any:
    return await locations.location(ctx, f.location_id)


async def _redirected_from(ctx: Any, f: FulfillmentRecord) -> Any:
    if f.redirected_from_id is None:
        return None
    return await locations.location(ctx, f.redirected_from_id)


async def _line_variant(ctx: Any, line: OrderLineRecord) -> Any:
    return await catalog.variant(ctx, line.variant_id)


async def _unit_prices(ctx: Any, lines: list[OrderLineRecord]) -> list[MoneyRecord]:
    return [_money(line.unit_price_minor, line.currency_code) for line in lines]


async def _line_totals(ctx: Any, lines: list[OrderLineRecord]) -> list[MoneyRecord]:
    return [_money(line.unit_price_minor * line.quantity, line.currency_code) for line in lines]


async def _discounts(ctx: Any, lines: list[OrderLineRecord]) -> list[Any]:
    return [
        None
        if not line.discount_minor or line.offer_code is None
        else LineDiscountRecord(
            line.offer_code, line.discount_minor // line.quantity, line.quantity, line.currency_code
        )
        for line in lines
    ]


async def _change_fulfillment(ctx: Any, change: StatusChangeRecord) -> Any:
    if change.fulfillment_id is None:
        return None
    return await ctx.loaders.fulfillment_by_id.load(change.fulfillment_id)


async def _order_member(ctx: Any, order: OrderRecord) -> Any:
    return None if order.member_id is None else await members.member(ctx, order.member_id)


async def _order_lines(ctx: Any, order: OrderRecord) -> Any:
    return await orders.lines_of(ctx, order.id)


async def _order_fulfillments(ctx: Any, order: OrderRecord) -> Any:
    return await orders.fulfillments_of(ctx, order.id)


def _by_order_id(loader: str) -> Any:
    async def load(ctx: Any, found: list[OrderRecord]) -> list[Any]:
        return list(await getattr(ctx.loaders, loader).load_many([order.id for order in found]))

    return load


_status_history = _by_order_id("status_changes_by_order_id")
_returns = _by_order_id("returns_by_order_id")
_payments = _by_order_id("payments_by_order_id")


@strawberry.type(description="What one location prepares and hands over one way.")
class OrderFulfillment:
    mode: FulfillmentMode  # type: ignore[valid-type]
    status: FulfillmentStatus  # type: ignore[valid-type]
    hold_expires_at: DateTime | None = strawberry.field(
        description="A reserve-in-store hold is let go at this time unless it is bought."
    )
    updated_at: DateTime

    @strawberry.field
    def id(root: FulfillmentRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("OrderFulfillment", root.id))

    @strawberry.field(metadata=batch(each(_fulfillment_location)))
    async def location(root: FulfillmentRecord, info: Info) -> Location:
        return await one(each(_fulfillment_location), info, root)  # type: ignore[no-any-return]

    redirect_reason: str | None = strawberry.field(
        description="Why the checkout sent this pickup here (its store ran out); null if it did not."
    )

    @strawberry.field(
        description="The pickup store this was redirected from at checkout (`redirect`); null "
        "when it was not redirected.",
        metadata=batch(each(_redirected_from)),
    )
    async def redirected_from(root: FulfillmentRecord, info: Info) -> Location | None:
        return await one(each(_redirected_from), info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(orders.lines_of_fulfillment)))
    async def lines(root: FulfillmentRecord, info: Info) -> list[OrderLine]:
        return await one(each(orders.lines_of_fulfillment), info, root)  # type: ignore[no-any-return]


@strawberry.type
class OrderLine:
    sku: str
    title: str
    quantity: int

    @strawberry.field
    def id(root: OrderLineRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("OrderLine", root.id))

    @strawberry.field(metadata=batch(each(_line_variant)))
    async def variant(root: OrderLineRecord, info: Info) -> ProductVariantRef:
        return await one(each(_line_variant), info, root)  # type: ignore[no-any-return]

    @strawberry.field(description="The price paid for one unit.", metadata=batch(_unit_prices))
    async def unit_price(root: OrderLineRecord, info: Info) -> Money:
        return await one(_unit_prices, info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The offer that was taken off this line, kept as it was at checkout (the unit "
        "price is net of it; a return refunds what was paid).",
        metadata=batch(_discounts),
    )
    async def discount(root: OrderLineRecord, info: Info) -> LineDiscount | None:
        return await one(_discounts, info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(_line_totals))
    async def total(root: OrderLineRecord, info: Info) -> Money:
        return await one(_line_totals, info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(orders.fulfillment_of_line)))
    async def fulfillment(root: OrderLineRecord, info: Info) -> OrderFulfillment:
        return await one(each(orders.fulfillment_of_line), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Units of this line that have come back.", metadata=batch(each(orders.returned_quantity))
    )
    async def returned_quantity(root: OrderLineRecord, info: Info) -> int:
        return await one(each(orders.returned_quantity), info, root)  # type: ignore[no-any-return]


@strawberry.type
class OrderStatusChange:
    status: OrderStatus = strawberry.field(description="The order's status after the change.")  # type: ignore[valid-type]
    fulfillment_status: FulfillmentStatus | None  # type: ignore[valid-type]
    reason: str | None

    @strawberry.field
    def occurred_at(root: StatusChangeRecord) -> DateTime:
        return root.created_at

    @strawberry.field(
        description="The fulfillment that moved, if one did.", metadata=batch(each(_change_fulfillment))
    )
    async def fulfillment(root: StatusChangeRecord, info: Info) -> OrderFulfillment | None:
        return await one(each(_change_fulfillment), info, root)  # type: ignore[no-any-return]


TillTender = strawberry.enum(commerce.TillTender)


@strawberry.input(description="Money staff took at the till for an order collected or bought in store.")
class TillPaymentInput:
    tender: TillTender = commerce.TillTender.OTHER  # type: ignore[valid-type]
    reference: str | None = strawberry.field(default=None, description="The till's receipt number.")

    def to_record(self) -> commerce.TillPayment:
        reference = None if self.reference is None else self.reference[:255]
        return commerce.TillPayment(commerce.TillTender(self.tender.value), reference)


@strawberry.type
class Payment:
    method: PaymentMethod  # type: ignore[valid-type]
    status: PaymentStatus  # type: ignore[valid-type]
    created_at: DateTime

    @strawberry.field(description="How it was paid at the till (CASH, CARD, OTHER); null elsewhere.")
    def till_tender(root: PaymentRecord) -> TillTender | None:  # type: ignore[valid-type]
        tender = root.provider.removeprefix("till:").upper()
        known = {t.value for t in commerce.TillTender}
        return commerce.TillTender(tender) if root.provider.startswith("till:") and tender in known else None

    @strawberry.field
    def amount(root: PaymentRecord) -> Money:
        return _money(root.amount_minor, root.currency_code)  # type: ignore[return-value]

    @strawberry.field
    def refunded(root: PaymentRecord) -> Money:
        return _money(root.refunded_minor, root.currency_code)  # type: ignore[return-value]


@strawberry.type(description="An order from any channel: web, app, store till or partner.")
class Order(Node):
    record = OrderRecord

    number: int = strawberry.field(description="What the customer reads on the receipt.")
    channel: Channel  # type: ignore[valid-type]
    status: OrderStatus  # type: ignore[valid-type]
    created_at: DateTime
    updated_at: DateTime

    @strawberry.field
    def id(root: OrderRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Order", root.id))

    @strawberry.field
    def currency_code(root: OrderRecord) -> CurrencyCode:
        return CurrencyCode(root.currency_code)

    @strawberry.field
    def subtotal(root: OrderRecord) -> Money:
        return _money(root.subtotal_minor, root.currency_code)  # type: ignore[return-value]

    @strawberry.field
    def total(root: OrderRecord) -> Money:
        return _money(root.total_minor, root.currency_code)  # type: ignore[return-value]

    @strawberry.field(
        description="Who placed it, when they were signed in or named at the till.",
        metadata=batch(each(_order_member)),
    )
    async def member(root: OrderRecord, info: Info) -> MemberRef | None:
        return await one(each(_order_member), info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(_order_lines)))
    async def lines(root: OrderRecord, info: Info) -> list[OrderLine]:
        return await one(each(_order_lines), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="One per location and way of handing over.", metadata=batch(each(_order_fulfillments))
    )
    async def fulfillments(root: OrderRecord, info: Info) -> list[OrderFulfillment]:
        return await one(each(_order_fulfillments), info, root)  # type: ignore[no-any-return]

    @strawberry.field(description="Every change, oldest first.", metadata=batch(_status_history))
    async def status_history(root: OrderRecord, info: Info) -> list[OrderStatusChange]:
        return await one(_status_history, info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(_returns))
    async def returns(root: OrderRecord, info: Info) -> list[Return]:
        return await one(_returns, info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Every tender that paid it, in the order they were taken.", metadata=batch(_payments)
    )
    async def payments(root: OrderRecord, info: Info) -> list[Payment]:
        return await one(_payments, info, root)  # type: ignore[no-any-return]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[OrderRecord | None]:
        found = await orders.orders_by_ids(info.context, keys)
        return [o if o is not None and await may_see_order(info, o) else None for o in found]


# -- inputs and payloads -------------------------------------------------------------------------


@strawberry.input(
    description="CARD needs `cardToken` (the built-in test provider documents its tokens); "
    "GIFT_CARD needs `giftCardCode`; PAY_AT_STORE is for orders collected in store. "
    "Split tender: `loyaltyPoints` pay part first, then a `giftCardCode` given with another "
    "method pays what its balance covers, and `method` pays the rest; the order then has "
    "several `payments`."
)
class PaymentInput:
    method: PaymentMethod  # type: ignore[valid-type]
    card_token: str | None = None
    gift_card_code: str | None = strawberry.field(
        default=None,
        description="GIFT_CARD: the card that pays. With CARD or PAY_AT_STORE: a gift card "
        "that pays what its balance covers first; `method` pays the rest.",
    )
    loyalty_points: int | None = strawberry.field(
        default=None,
        description="Points (one per minor currency unit) that pay part of the order before "
        "`method` pays the rest: at most the member's balance and what is due. Signed-in "
        "members only, on their own cart.",
    )

    def to_record(self) -> PaymentInputRecord:
        return PaymentInputRecord(self.method, self.card_token, self.gift_card_code, self.loyalty_points)


@strawberry.type
class CheckoutCompletePayload:
    order: Order | None
    user_errors: list[UserError]


def checkout_payload(result: CheckoutResult) -> CheckoutCompletePayload:
    return CheckoutCompletePayload(order=result.order, user_errors=result.user_errors)  # type: ignore[arg-type]


@strawberry.type
class OrderCancelPayload:
    order: Order | None
    user_errors: list[UserError]


@strawberry.type
class FulfillmentUpdateStatusPayload:
    fulfillment: OrderFulfillment | None
    order: Order | None
    user_errors: list[UserError]


@strawberry.input
class StoreSaleLineInput:
    variant_id: strawberry.ID
    quantity: int = 1


@strawberry.input(description="A sale at a store's till.")
class StoreSaleInput:
    location_id: strawberry.ID
    lines: list[StoreSaleLineInput]
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The member who identified at the till: the sale joins their history.",
    )
    payment: PaymentInput | None = strawberry.field(
        default=None,
        description="How it was paid; the till takes cash and cards itself, a gift card is "
        "charged here. Default: taken at the till.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="A till's retry with the same key records the sale once."
    )


@strawberry.type
class StoreSaleRecordPayload:
    order: Order | None
    user_errors: list[UserError]


def _order_payload(result: OrderResult) -> OrderCancelPayload:
    return OrderCancelPayload(order=result.order, user_errors=result.user_errors)  # type: ignore[arg-type]


@strawberry.type
class OrderQuery:
    @strawberry.field(
        description="An order: its member, staff of a location fulfilling it, or a key with orders:read.",
        permission_classes=[CanSeeOrder],
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        found = await orders.order(info.context, decode_id(id, "Order"))
        if found is None:
            raise NotFound("no order has this id", field="id")
        return found  # type: ignore[return-value]

    @strawberry.field(
        description="The orders a store or warehouse fulfils (a store tablet's pickup queue), newest "
        "first: its staff, or a key with orders:read. `statuses` keeps the orders whose "
        "fulfillment there is in one of them.",
        permission_classes=[SeesLocationOrders],
    )
    async def location_orders(
        self,
        info: Info,
        location_id: strawberry.ID,
        statuses: list[FulfillmentStatus] | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> OrderConnectionRef:
        return await orders.location_orders(  # type: ignore[return-value]
            info.context,
            decode_id(location_id, "Location", "locationId"),
            statuses,  # type: ignore[arg-type]
            PageArgs(first=first, after=after),
        )


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        description="Cancel what has not left yet; stock is released and payments refunded.",
        permission_classes=[CanCancelOrder],
    )
    async def order_cancel(
        self, info: Info, order_id: strawberry.ID, reason: str | None = None
    ) -> OrderCancelPayload:
        result = await orders.cancel_order(info.context, decode_id(order_id, "Order", "orderId"), reason)
        return _order_payload(result)

    @strawberry.mutation(
        description="Staff of the fulfilling location move it along: ready, shipped, picked up; "
        "a reserve-in-store hold is SOLD or RELEASED.",
        permission_classes=[WorksAtFulfillmentLocation],
    )
    async def fulfillment_update_status(
        self,
        info: Info,
        fulfillment_id: strawberry.ID,
        status: FulfillmentStatus,  # type: ignore[valid-type]
        payment: Annotated[
            TillPaymentInput | None,
            strawberry.argument(
                description="What was taken at the till: at PICKED_UP it captures a PAY_AT_STORE "
                "payment (the order is paid, and earns its points, only then); at SOLD it is the "
                "tender of the hold's payment (recorded with or without it)."
            ),
        ] = None,
    ) -> FulfillmentUpdateStatusPayload:
        fid = decode_id(fulfillment_id, "OrderFulfillment", "fulfillmentId")
        till = None if payment is None else payment.to_record()
        result = await orders.update_fulfillment_status(info.context, fid, status, till)
        return FulfillmentUpdateStatusPayload(
            fulfillment=result.fulfillment,  # type: ignore[arg-type]
            order=result.order,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )

    @strawberry.mutation(
        description="Record a sale at a store's till: the units leave that store's stock.",
        permission_classes=[WorksAtInputLocation],
    )
    async def store_sale_record(self, info: Info, input: StoreSaleInput) -> StoreSaleRecordPayload:
        lines = [(decode_id(ln.variant_id, "ProductVariant", "variantId"), ln.quantity) for ln in input.lines]
        member = (
            None
            if input.member_id is None
            else decode_str_id(input.member_id, "Member", EXTERNAL_KEY, "memberId")
        )
        payment = (
            input.payment.to_record()
            if input.payment is not None
            else PaymentInputRecord(commerce.PaymentMethod.PAY_AT_STORE)
        )
        result = await store_sales.record_store_sale(
            info.context,
            decode_id(input.location_id, "Location", "locationId"),
            lines,
            member,
            payment,
            input.idempotency_key,
        )
        return StoreSaleRecordPayload(order=result.order, user_errors=result.user_errors)  # type: ignore[arg-type]
