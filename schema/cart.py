"""The cart that follows the customer, and checkout."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters import commerce
from adapters.commerce import CartLineRecord, CartRecord
from adapters.ports.orders import Buyer
from resolvers import carts, catalog, checkout, members
from resolvers.carts import CartResult, LineInput, LineUpdate, Market
from resolvers.inventory import StoreAvailability as StoreAvailabilityRecord
from schema.batch import batch, each, one
from schema.common import (
    AddressInput,
    Channel,
    CurrencyCode,
    DateTime,
    GeoPointInput,
    LineDiscount,
    Money,
    Node,
    UserError,
)
from schema.ids import CART_TOKEN, decode_id, decode_str_id, str_key, to_global_id
from schema.locations import Location
from schema.orders import (
    CheckoutCompletePayload,
    FulfillmentMode,
    Order,
    PaymentInput,
    checkout_payload,
)
from schema.permissions import CanOpenCart, CanOpenCartById, check_cart

if TYPE_CHECKING:
    from schema.catalog import ProductVariant
    from schema.inventory import StoreAvailability
    from schema.members import Member

ProductVariantRef = Annotated["ProductVariant", strawberry.lazy("schema.catalog")]
MemberRef = Annotated["Member", strawberry.lazy("schema.members")]
StoreAvailabilityRef = Annotated["StoreAvailability", strawberry.lazy("schema.inventory")]
CartStatus = strawberry.enum(commerce.CartStatus)
LineStatus = strawberry.enum(
    carts.LineStatus, description="Whether a line's quantity can be had where it is fulfilled."
)

CheckoutRedirect = strawberry.enum(checkout.CheckoutRedirect)


# Batch resolvers (schema/batch.py): each field's values for a whole level of carts or lines,
# so that the compiled path serves a cart in one round trip per loader, whatever its lines.


async def _location(ctx: Any, line: CartLineRecord) -> Any:
    return await carts.location_of(ctx, line)


async def _variant(ctx: Any, line: CartLineRecord) -> Any:
    return await catalog.variant(ctx, line.variant_id)


async def _status(ctx: Any, line: CartLineRecord) -> Any:
    return (await carts.availability(ctx, line)).status


async def _available(ctx: Any, line: CartLineRecord) -> int:
    return (await carts.availability(ctx, line)).available


async def _held(ctx: Any, lines: list[CartLineRecord]) -> list[int]:
    now = ctx.now()
    return [carts.live_hold(line, now) for line in lines]


async def _held_until(ctx: Any, lines: list[CartLineRecord]) -> list[Any]:
    now = ctx.now()
    return [line.held_until if carts.live_hold(line, now) else None for line in lines]


async def _alternatives(
    ctx: Any, line: CartLineRecord, near: GeoPointInput | None = None, first: int = 3
) -> list[StoreAvailabilityRecord]:
    return await carts.alternatives(ctx, line, None if near is None else near.to_record(), first)


async def _cart_location(ctx: Any, cart: CartRecord) -> Any:
    return None if cart.location_id is None else await ctx.loaders.location_by_id.load(cart.location_id)


async def _lines(ctx: Any, found: list[CartRecord]) -> list[list[CartLineRecord]]:
    return await each(carts.lines_of)(ctx, found)  # lines_of tells the lines their cart (prices)


async def _total_quantity(ctx: Any, found: list[CartRecord]) -> list[int]:
    return [sum(line.quantity for line in lines) for lines in await _lines(ctx, found)]


async def _member(ctx: Any, cart: CartRecord) -> Any:
    return None if cart.member_id is None else await members.member(ctx, cart.member_id)


async def _order(ctx: Any, found: list[CartRecord]) -> list[Any]:
    return list(await ctx.loaders.order_by_cart_id.load_many([cart.id for cart in found]))


@strawberry.type(description="How a cart line reaches the customer, and where.")
class Fulfillment:
    mode: FulfillmentMode  # type: ignore[valid-type]

    @strawberry.field(metadata=batch(each(_location)))
    async def location(root: CartLineRecord, info: Info) -> Location | None:
        return await one(each(_location), info, root)  # type: ignore[no-any-return]


@strawberry.type
class CartLine:
    quantity: int

    @strawberry.field
    def id(root: CartLineRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("CartLine", root.id))

    @strawberry.field(metadata=batch(each(_variant)))
    async def variant(root: CartLineRecord, info: Info) -> ProductVariantRef:
        return await one(each(_variant), info, root)  # type: ignore[no-any-return]

    @strawberry.field
    def fulfillment(root: CartLineRecord) -> Fulfillment:
        return root  # type: ignore[return-value]

    @strawberry.field(
        description="The price now in the cart's context: its channel, currency, store and "
        "member's tier (zero, with `priced` false, when nothing prices it there any more).",
        metadata=batch(each(carts.unit_price)),
    )
    async def unit_price(root: CartLineRecord, info: Info) -> Money:
        return await one(each(carts.unit_price), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="False when no price list prices this variant in the cart's currency and "
        "channel any more: checkout refuses the line (NOT_PRICED_IN_CURRENCY).",
        metadata=batch(each(carts.priced)),
    )
    async def priced(root: CartLineRecord, info: Info) -> bool:
        return await one(each(carts.priced), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The best offer that applies to this line now (`me.offers`), taken off each "
        "unit; `total` is net of it.",
        metadata=batch(each(carts.line_discount)),
    )
    async def discount(root: CartLineRecord, info: Info) -> LineDiscount | None:
        return await one(each(carts.line_discount), info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(carts.line_total)))
    async def total(root: CartLineRecord, info: Info) -> Money:
        return await one(each(carts.line_total), info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(_status)))
    async def status(root: CartLineRecord, info: Info) -> LineStatus:  # type: ignore[valid-type]
        return await one(each(_status), info, root)

    @strawberry.field(
        description="Units this line could have where it is fulfilled, its own hold included.",
        metadata=batch(each(_available)),
    )
    async def available(root: CartLineRecord, info: Info) -> int:
        return await one(each(_available), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Units held for this line at its store now (PICKUP, RESERVE).", metadata=batch(_held)
    )
    async def held(root: CartLineRecord, info: Info) -> int:
        return await one(_held, info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="When this line's hold ends unless the cart changes again.", metadata=batch(_held_until)
    )
    async def held_until(root: CartLineRecord, info: Info) -> DateTime | None:
        return await one(_held_until, info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Where else the whole quantity can be had: other stores for pickup, nearest "
        "first (to `near`, else to this line's store), then the ship option as a warehouse entry "
        "(location.kind WAREHOUSE, no distance) unless the line already ships.",
        metadata=batch(each(_alternatives)),
    )
    async def alternatives(
        root: CartLineRecord, info: Info, near: GeoPointInput | None = None, first: int = 3
    ) -> list[StoreAvailabilityRef]:
        return await one(each(_alternatives), info, root, near=near, first=first)  # type: ignore[no-any-return]


@strawberry.type(description="A cart: its id is the secret that opens it, from any device or channel.")
class Cart(Node):
    record = CartRecord

    channel: Channel  # type: ignore[valid-type]
    status: CartStatus  # type: ignore[valid-type]
    created_at: DateTime
    updated_at: DateTime
    expires_at: DateTime = strawberry.field(description="Forgotten after this unless it changes.")

    @strawberry.field
    def id(root: CartRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Cart", root.token))

    @strawberry.field(description="What the cart is priced in; it never changes.")
    def currency_code(root: CartRecord) -> CurrencyCode:
        return CurrencyCode(root.currency_code)

    @strawberry.field(
        description="The store the cart is built and priced at (a store tablet's cart); that "
        "store's staff may open it and attach it to a member.",
        metadata=batch(each(_cart_location)),
    )
    async def location(root: CartRecord, info: Info) -> Location | None:
        return await one(each(_cart_location), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Status MERGED: the cart its lines went to when its member attached a cart "
        "on another device (follow it: this cart no longer changes). Null otherwise."
    )
    async def merged_into(root: CartRecord, info: Info) -> Cart | None:
        found = await carts.merged_into(info.context, root)
        if found is not None:
            check_cart(info, found)
        return found  # type: ignore[return-value]

    @strawberry.field(metadata=batch(_lines))
    async def lines(root: CartRecord, info: Info) -> list[CartLine]:
        return await one(_lines, info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(_total_quantity))
    async def total_quantity(root: CartRecord, info: Info) -> int:
        return await one(_total_quantity, info, root)  # type: ignore[no-any-return]

    @strawberry.field(metadata=batch(each(carts.subtotal)))
    async def subtotal(root: CartRecord, info: Info) -> Money:
        return await one(each(carts.subtotal), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The subtotal; taxes and shipping are not priced yet.",
        metadata=batch(each(carts.subtotal)),
    )
    async def total(root: CartRecord, info: Info) -> Money:
        return await one(each(carts.subtotal), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Whose cart this is (a member's cart opens only for them).", metadata=batch(each(_member))
    )
    async def member(root: CartRecord, info: Info) -> MemberRef | None:
        return await one(each(_member), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The order placed from this cart, for whoever holds its id.", metadata=batch(_order)
    )
    async def order(root: CartRecord, info: Info) -> Order | None:
        return await one(_order, info, root)  # type: ignore[no-any-return]

    @classmethod
    def parse_key(cls, key: str, argument: str) -> Any:
        return str_key(key, CART_TOKEN, argument)

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[str]) -> list[CartRecord | None]:
        found = list(await asyncio.gather(*(carts.cart(info.context, key) for key in keys)))
        for cart in found:
            if cart is not None:
                check_cart(info, cart)
        return found


def _cart_token(value: strawberry.ID, argument: str = "cartId") -> str:
    return decode_str_id(value, "Cart", CART_TOKEN, argument)


@strawberry.input(description="Who an order is for: the retailer's ERP keeps its customers by email.")
class CheckoutBuyerInput:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    shipping_address: AddressInput | None = None

    def to_record(self) -> Buyer:
        return Buyer(self.email.strip(), self.first_name or "", self.last_name or "", self.phone)


@strawberry.input(description="`locationId`: the store for PICKUP, RESERVE and SHIP_FROM_STORE.")
class FulfillmentInput:
    mode: FulfillmentMode  # type: ignore[valid-type]
    location_id: strawberry.ID | None = None

    def location(self) -> int | None:
        if self.location_id is None:
            return None
        return decode_id(self.location_id, "Location", "locationId")


@strawberry.input
class CartLineInput:
    variant_id: strawberry.ID
    quantity: int = 1
    fulfillment: FulfillmentInput | None = strawberry.field(default=None, description="Default: SHIP.")

    def to_record(self) -> LineInput:
        f = self.fulfillment
        return LineInput(
            variant_id=decode_id(self.variant_id, "ProductVariant", "variantId"),
            quantity=self.quantity,
            mode=commerce.FulfillmentMode.SHIP if f is None else f.mode,
            location_id=None if f is None else f.location(),
        )


@strawberry.input(description="Change a line's quantity (0 removes it), its fulfillment, or both.")
class CartLineUpdateInput:
    id: strawberry.ID
    quantity: int | None = None
    fulfillment: FulfillmentInput | None = None

    def to_record(self) -> LineUpdate:
        f = self.fulfillment
        return LineUpdate(
            line_id=decode_id(self.id, "CartLine", "id"),
            quantity=self.quantity,
            mode=None if f is None else f.mode,
            location_id=None if f is None else f.location(),
        )


@strawberry.input(
    description="A cart is priced in its channel and currency for good: `currencyCode`, else the "
    "market of `country`, else that of the store `locationId`'s country, else the shop's."
)
class CartCreateInput:
    channel: Channel = commerce.Channel.WEB  # type: ignore[valid-type]
    lines: list[CartLineInput] = strawberry.field(default_factory=list)
    currency_code: CurrencyCode | None = None
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2, e.g. CA.")
    location_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The store the cart is built at (a store tablet): its prices, and its staff "
        "may open the cart and attach it to a member.",
    )

    def market(self) -> Market:
        location = None if self.location_id is None else decode_id(self.location_id, "Location", "locationId")
        currency = None if self.currency_code is None else self.currency_code.value
        return Market(currency, self.country, location)


@strawberry.type
class CartCreatePayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartLinesAddPayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartLinesUpdatePayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartLinesRemovePayload:
    cart: Cart | None
    user_errors: list[UserError]


def _fields(result: CartResult) -> dict[str, Any]:
    return {"cart": result.cart, "user_errors": result.user_errors}


@strawberry.type
class CartQuery:
    @strawberry.field(
        description="The cart this secret id opens; null when none (or expired). A member's cart "
        "opens only for that member.",
        permission_classes=[CanOpenCartById],
    )
    async def cart(self, info: Info, id: strawberry.ID) -> Cart | None:
        return await carts.cart(info.context, _cart_token(id, "id"))  # type: ignore[return-value]


@strawberry.type
class CartMutation:
    @strawberry.mutation(description="A new cart; signed-in members own theirs.")
    async def cart_create(self, info: Info, input: CartCreateInput) -> CartCreatePayload:
        lines = [line.to_record() for line in input.lines]
        result = await carts.create_cart(info.context, input.channel, lines, input.market())
        return CartCreatePayload(**_fields(result))

    @strawberry.mutation(
        description="Add lines; a line of the same variant and fulfillment grows.",
        permission_classes=[CanOpenCart],
    )
    async def cart_lines_add(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineInput]
    ) -> CartLinesAddPayload:
        records = [line.to_record() for line in lines]
        result = await carts.add_lines(info.context, _cart_token(cart_id), records)
        return CartLinesAddPayload(**_fields(result))

    @strawberry.mutation(
        description="Change quantities or move lines to another fulfillment.",
        permission_classes=[CanOpenCart],
    )
    async def cart_lines_update(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineUpdateInput]
    ) -> CartLinesUpdatePayload:
        records = [line.to_record() for line in lines]
        result = await carts.update_lines(info.context, _cart_token(cart_id), records)
        return CartLinesUpdatePayload(**_fields(result))

    @strawberry.mutation(permission_classes=[CanOpenCart])
    async def cart_lines_remove(
        self, info: Info, cart_id: strawberry.ID, line_ids: list[strawberry.ID]
    ) -> CartLinesRemovePayload:
        ids = [decode_id(line_id, "CartLine", "lineIds") for line_id in line_ids]
        result = await carts.remove_lines(info.context, _cart_token(cart_id), ids)
        return CartLinesRemovePayload(**_fields(result))

    @strawberry.mutation(
        description="Allocate every line, take the payment and place the order. The same "
        "idempotencyKey returns the same order and charges once, even when calls race. `buyer`: "
        "who the order is for; a member's order takes the member's email, name and first address "
        "unless given, a guest gives an email when the retailer's ERP receives orders (else "
        "BUYER_EMAIL_REQUIRED).",
        permission_classes=[CanOpenCart],
    )
    async def checkout_complete(
        self,
        info: Info,
        cart_id: strawberry.ID,
        payment: PaymentInput,
        idempotency_key: str,
        ship_to: Annotated[
            GeoPointInput | None,
            strawberry.argument(
                description="Where SHIP lines go: the `nearest` routing strategy ships from "
                "the locations closest to it."
            ),
        ] = None,
        redirect: Annotated[
            CheckoutRedirect,  # type: ignore[valid-type]
            strawberry.argument(
                description="What a PICKUP line whose store ran out becomes: FAIL the checkout, "
                "NEAREST_STORE that has it, or SHIP it. The order's fulfillments say what was "
                "redirected and why."
            ),
        ] = checkout.CheckoutRedirect.FAIL,
        buyer: CheckoutBuyerInput | None = None,
    ) -> CheckoutCompletePayload:
        result = await checkout.complete_checkout(
            info.context,
            _cart_token(cart_id),
            payment.to_record(),
            idempotency_key,
            ship_to.to_record() if ship_to is not None else None,
            checkout.CheckoutRedirect(redirect.value),
            None if buyer is None else buyer.to_record(),
            None if buyer is None or buyer.shipping_address is None else buyer.shipping_address.to_record(),
        )
        return checkout_payload(result)
