"""Checkout: allocate every line, take the payment, place the order; idempotent per key.

    place_order   one transaction: claim the key, allocate each line with a conditional update,
                  write the order as PENDING_PAYMENT (invisible to clients)
    charge        outside any transaction, with the idempotency key `order:<id>`
    confirm       one transaction: PLACED -> the fulfillments' status, the payment, cart done
    or abandon    one transaction: stock released, cart holds back, order deleted, key FAILED

A second call with the same key finds the key taken (on PostgreSQL its insert waits for the
first transaction), waits for the first call to finish and answers with the same order or the
same failure. If the first call died while charging, the second resumes it: it charges with the
same provider key (so the provider charges once) and confirms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from adapters import faults
from adapters.commerce import (
    CartLineRecord,
    CartRecord,
    CartStatus,
    CheckoutAttempt,
    FulfillmentMode,
    OrderRecord,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from adapters.ports.orders import AttemptKey, AttemptTaken, Buyer, OrderDraft, PaymentDraft, PlannedLine
from adapters.ports.payments import PaymentDeclined, PaymentUnavailable
from adapters.ports.refused import Refused
from adapters.records import GeoPoint, LocationKind, LocationRecord
from resolvers import buyers, carts, lifecycle, prices, tenders
from resolvers.allocation import ships
from resolvers.carts import HOLDING_MODES
from resolvers.errors import BadUserInput, UpstreamUnavailable
from resolvers.events import CartChanged, LoyaltyChanged
from resolvers.geo import checked_point, distance_km
from resolvers.inventory import levels_of, stock_moved
from resolvers.orders import UNPAID_MODES, order_changed
from resolvers.principal import PrincipalKind
from resolvers.tenders import PaymentInput
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.records import Address
    from resolvers.context import ResolverContext

MAX_KEY_LENGTH = 255
_POLL = 0.02  # seconds between looks at a key another call is using
_AT_STORE = frozenset({FulfillmentMode.PICKUP, FulfillmentMode.RESERVE})
CLAIM = timedelta(minutes=2)  # how long a stuck checkout's owner (sweeper or retry) holds it


class CheckoutRedirect(Enum):
    """What a pickup line whose store ran out becomes at checkout (the order says so)."""

    FAIL = "FAIL"  # refuse the checkout (INSUFFICIENT_STOCK), the default
    NEAREST_STORE = "NEAREST_STORE"  # pick up at the nearest store that has it all
    SHIP = "SHIP"  # ship it, routed like any SHIP line


@dataclass(frozen=True, slots=True)
class CheckoutResult:
    order: OrderRecord | None
    user_errors: list[UserError]


def failed(field: list[str], message: str, code: str) -> CheckoutResult:
    return CheckoutResult(None, [UserError(field, message, code)])


def payment_errors(payment: PaymentInput) -> list[UserError]:
    if payment.method is PaymentMethod.CARD and not payment.card_token:
        return [UserError(["payment", "cardToken"], "a card payment needs a cardToken", "INVALID")]
    if payment.method is PaymentMethod.GIFT_CARD and not payment.gift_card_code:
        return [UserError(["payment", "giftCardCode"], "give the gift card's code", "INVALID")]
    if payment.loyalty_points is not None and payment.loyalty_points < 0:
        return [UserError(["payment", "loyaltyPoints"], "points cannot be negative", "INVALID")]
    if payment.loyalty_points and payment.method is PaymentMethod.LOYALTY_POINTS:
        message = "loyaltyPoints pay part next to another method; LOYALTY_POINTS pays it all"
        return [UserError(["payment", "loyaltyPoints"], message, "INVALID")]
    return []


def loyalty_errors(ctx: ResolverContext, payment: PaymentInput, member_id: str | None) -> list[UserError]:
    """Points pay only for the member who owns them, signed in."""
    if not payment.uses_points:
        return []
    if ctx.principal.kind is PrincipalKind.MEMBER and member_id in (None, ctx.principal.member_id):
        return []
    message = "loyalty points pay only for the signed-in member's own cart"
    field = "method" if payment.method is PaymentMethod.LOYALTY_POINTS else "loyaltyPoints"
    return [UserError(["payment", field], message, "PAYMENT_METHOD_NOT_ALLOWED")]


async def complete_checkout(
    ctx: ResolverContext,
    token: str,
    payment: PaymentInput,
    idempotency_key: str,
    ship_to: GeoPoint | None = None,
    redirect: CheckoutRedirect = CheckoutRedirect.FAIL,
    buyer: Buyer | None = None,
    shipping_address: Address | None = None,
) -> CheckoutResult:
    if not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise BadUserInput(
            f"`idempotencyKey` must have 1 to {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    cart = await ctx.loaders.cart_by_token.load(token)
    if cart is None:
        return failed(["cartId"], "no cart has this id", "CART_NOT_FOUND")
    if cart.status is CartStatus.MERGED:
        message = "this cart was merged into another: use Cart.mergedInto"
        return failed(["cartId"], message, "CART_MERGED")
    attempt = AttemptKey(f"cart:{cart.id}", idempotency_key, payment.fingerprint())
    earlier = await ctx.upstreams.orders.find_attempt(attempt.scope, attempt.key)
    if earlier is not None:
        return await replay(ctx, earlier, attempt, payment)
    if cart.expires_at <= ctx.now():
        return failed(["cartId"], "no cart has this id", "CART_NOT_FOUND")
    errors = payment_errors(payment) + loyalty_errors(ctx, payment, cart.member_id)
    if errors:
        return CheckoutResult(None, errors)
    lines = await ctx.loaders.cart_lines_by_cart_id.load(cart.id)
    if not lines:
        return failed(["cartId"], "the cart is empty", "EMPTY_CART")
    if payment.method is PaymentMethod.PAY_AT_STORE and any(ln.mode not in _AT_STORE for ln in lines):
        return failed(
            ["payment", "method"],
            "pay at store is for orders collected in store; this cart has lines that ship",
            "PAYMENT_METHOD_NOT_ALLOWED",
        )
    if cart.currency_code != ctx.policy.currency_code and payment.uses_points:
        field = "method" if payment.method is PaymentMethod.LOYALTY_POINTS else "loyaltyPoints"
        shop = ctx.policy.currency_code
        message = f"loyalty points pay orders in {shop}; this cart is in {cart.currency_code}"
        return failed(["payment", field], message, "PAYMENT_METHOD_NOT_ALLOWED")
    if ship_to is not None:
        checked_point(ship_to, "shipTo")
    if redirect is CheckoutRedirect.SHIP and payment.method is PaymentMethod.PAY_AT_STORE:
        message = "an order paid at the store cannot have a pickup redirected to shipping"
        return failed(["redirect"], message, "PAYMENT_METHOD_NOT_ALLOWED")
    who = await buyers.for_checkout(ctx, cart.member_id or _member(ctx), buyer, shipping_address)
    if isinstance(who, UserError):
        return CheckoutResult(None, [who])
    draft = dataclasses.replace(await _draft(ctx, cart, attempt, ship_to, redirect), buyer=who)
    unpriced = [index for index, line in enumerate(draft.lines) if line.unit_price_minor < 0]
    if unpriced:
        where = f"{cart.currency_code} on {cart.channel.value}"
        message = f"nothing prices this line in {where} any more; remove it"
        return failed(["cartId", "lines", str(unpriced[0])], message, "NOT_PRICED_IN_CURRENCY")
    try:
        placed = await ctx.upstreams.orders.place_order(draft, ctx.now())
    except AttemptTaken as taken:
        return await replay(ctx, taken.attempt, attempt, payment)
    except Refused as refused:
        field = ["cartId"] if refused.index is None else ["cartId", "lines", str(refused.index)]
        return failed(field, refused.message, refused.code)
    await stock_moved(ctx, placed.levels, "ALLOCATION")
    faults.reach("after_allocation")
    due = due_now(draft)
    return await charge_and_confirm(ctx, placed.order, payment, (attempt.scope, attempt.key), due)


async def _draft(
    ctx: ResolverContext,
    cart: CartRecord,
    attempt: AttemptKey,
    ship_to: GeoPoint | None = None,
    redirect: CheckoutRedirect = CheckoutRedirect.FAIL,
) -> OrderDraft:
    now = ctx.now()
    lines = await carts.lines_of(ctx, cart)
    variants = await ctx.loaders.variant_by_id.load_many([ln.variant_id for ln in lines])
    products = await ctx.loaders.product_by_id.load_many([v.product_id for v in variants if v])
    # Sold at the cart's prices (its channel, currency, store, member's tier) as they are now;
    # -1 marks a line nothing prices there any more (refused above, before anything happens).
    found = await carts.prices_of(ctx, cart, [ln.variant_id for ln in lines])
    planned = []
    for line, variant, product, price in zip(lines, variants, products, found, strict=True):
        assert variant is not None and product is not None
        if line.mode is FulfillmentMode.SHIP:
            levels = await levels_of(ctx, line.variant_id)
            locations = await _ships_to_market(ctx, cart.currency_code)
            routing = ctx.policy.ship_allocation
            candidates = routing.ship_from(line.quantity, levels, locations, ship_to)
            if not candidates:  # nothing ships it: refused with its shortfall, like any line
                candidates = tuple(loc.id for loc in locations if ships(loc))
        else:
            assert line.location_id is not None
            candidates = (line.location_id,)
        redirect_to, redirect_mode = (), None
        if line.mode is FulfillmentMode.PICKUP and redirect is not CheckoutRedirect.FAIL:
            redirect_to, redirect_mode = await _redirect_targets(ctx, cart, line, redirect, ship_to)
        holds = line.mode in HOLDING_MODES  # a decline gives such a line its hold back
        discount = await carts.discount_of(ctx, cart, line, price)  # the best offer, kept on the line
        off = 0 if discount is None else discount.unit_discount_minor
        planned.append(
            PlannedLine(
                variant_id=variant.id,
                sku=variant.sku,
                title=f"{product.title} - {variant.title}",
                quantity=line.quantity,
                unit_price_minor=-1 if price.price is None else price.price.to_minor() - off,
                discount_minor=off * line.quantity,
                offer_code=None if discount is None else discount.offer_code,
                mode=line.mode,
                candidates=candidates,
                cart_line_id=line.id if holds else None,
                hold_expires_at=(
                    now + ctx.policy.reserve_hold if line.mode is FulfillmentMode.RESERVE else None
                ),
                redirect_to=redirect_to,
                redirect_mode=redirect_mode,
            )
        )
    return OrderDraft(
        channel=cart.channel,
        member_id=_member(ctx) or cart.member_id,
        cart_id=cart.id,
        currency_code=cart.currency_code,
        lines=tuple(planned),
        initial=lifecycle.INITIAL,
        attempt=attempt,
        cart_lines=frozenset((ln.id, ln.variant_id, ln.quantity, ln.mode, ln.location_id) for ln in lines),
    )


async def _ships_to_market(ctx: ResolverContext, currency_code: str) -> list[LocationRecord]:
    """The locations a cart in this currency may ship from: every warehouse, and the stores of
    its own market (a store across the border does not ship to this side of it)."""
    found = []
    for location in await ctx.loaders.all_locations.load():
        market = await prices.market_currency(ctx, location.address.country_code)
        if location.kind is LocationKind.WAREHOUSE or market == currency_code:
            found.append(location)
    return found


async def _redirect_targets(
    ctx: ResolverContext,
    cart: CartRecord,
    line: CartLineRecord,
    redirect: CheckoutRedirect,
    ship_to: GeoPoint | None,
) -> tuple[tuple[int, ...], FulfillmentMode]:
    """Where a pickup goes if its store cannot fill it: other pickup stores within the default
    radius of it, nearest first, that have it all; or the locations a SHIP line would use."""
    levels = await levels_of(ctx, line.variant_id)
    locations = await ctx.loaders.all_locations.load()
    store = next(loc for loc in locations if loc.id == line.location_id)
    if redirect is CheckoutRedirect.SHIP:
        routing = ctx.policy.ship_allocation
        shipping = await _ships_to_market(ctx, cart.currency_code)
        return routing.ship_from(line.quantity, levels, shipping, ship_to or store.geo), FulfillmentMode.SHIP
    stock = {lv.location_id: lv.available for lv in levels}
    near = [
        (distance_km(store.geo, loc.geo), loc.id)
        for loc in locations
        if loc.id != store.id and loc.pickup_enabled and loc.kind is LocationKind.STORE
        and stock.get(loc.id, 0) >= line.quantity
    ]  # fmt: skip
    within = [loc for distance, loc in sorted(near) if distance <= ctx.policy.default_radius_km]
    return tuple(within), FulfillmentMode.PICKUP


def _member(ctx: ResolverContext) -> str | None:
    return ctx.principal.member_id if ctx.principal.kind is PrincipalKind.MEMBER else None


def due_now(draft: OrderDraft) -> int:
    """What is paid now: everything but reserve-in-store lines (bought at the till, if at all)."""
    return sum(ln.quantity * ln.unit_price_minor for ln in draft.lines if ln.mode not in UNPAID_MODES)


async def amountdue_now(ctx: ResolverContext, order: OrderRecord) -> int:
    """`_due` of an order already placed (resuming a checkout)."""
    fulfillments = await ctx.upstreams.orders.fulfillments_by_order_ids([order.id])
    unpaid = {f.id for f in fulfillments if f.mode in UNPAID_MODES}
    lines = await ctx.upstreams.orders.lines_by_order_ids([order.id])
    return sum(ln.quantity * ln.unit_price_minor for ln in lines if ln.fulfillment_id not in unpaid)


async def charge_and_confirm(
    ctx: ResolverContext,
    order: OrderRecord,
    payment: PaymentInput,
    attempt: tuple[str, str] | None,
    due: int,
    *,
    till: bool = False,
) -> CheckoutResult:
    orders = ctx.upstreams.orders
    taken: list[PaymentDraft] = []
    if till and payment.method not in (PaymentMethod.GIFT_CARD, PaymentMethod.LOYALTY_POINTS):
        # A till sale: the register took cash or card itself; the gateway records it.
        taken.append(PaymentDraft(payment.method, "store", f"till:{order.id}", due, PaymentStatus.CAPTURED))
    elif due > 0:
        try:
            # Points, then a gift card, then the method for the rest: several payments.
            charges = await tenders.pay(ctx, order, payment, due)
        except PaymentDeclined as declined:
            await _abandon(ctx, order, "PAYMENT_DECLINED", declined.message)
            return failed(["payment"], declined.message, "PAYMENT_DECLINED")
        except PaymentUnavailable as exc:
            await tenders.void_all(ctx, order.payment_key)
            await _abandon(ctx, order, "PAYMENT_UNAVAILABLE", str(exc))
            if attempt is not None:
                await orders.forget_attempt(*attempt)  # nothing happened: the key may be retried
            raise UpstreamUnavailable(
                "the payment provider did not answer; nothing was charged, try again"
            ) from exc
        taken = [PaymentDraft(c.method, c.provider, c.reference, c.amount_minor, c.status) for c in charges]
        faults.reach("after_charge")
    try:
        confirmed = await orders.confirm_order(
            order.id,
            taken,
            lifecycle.INITIAL,
            lifecycle.order_status,
            ctx.principal.subject,
            ctx.now(),
            push_to_erp=buyers.pushes_to_erp(ctx, till=till),
        )
    except Refused as gone:
        if gone.code != "ORDER_NOT_FOUND":
            raise
        # The sweeper undid this checkout while the charge was on its way: nothing may stay
        # taken for an order that does not exist.
        await tenders.void_all(ctx, order.payment_key)
        message = "the checkout took too long and was undone; start again"
        return failed(["cartId"], message, "CHECKOUT_EXPIRED")
    await stock_moved(ctx, confirmed.levels, "SALE")
    if confirmed.order.cart_id is not None:
        await ctx.events.publish(CartChanged(confirmed.order.cart_id, "COMPLETED", ctx.now()))
    await order_changed(ctx, confirmed.order, None)
    if any(p.method is PaymentMethod.LOYALTY_POINTS for p in taken) and order.member_id:
        await ctx.events.publish(LoyaltyChanged(order.member_id, "SPEND", ctx.now()))
    faults.reach("before_response")
    return CheckoutResult(confirmed.order, [])


async def _abandon(ctx: ResolverContext, order: OrderRecord, code: str, message: str) -> None:
    now = ctx.now()
    levels = await ctx.upstreams.orders.abandon_order(
        order.id, code, message, now + ctx.policy.cart_hold, now
    )
    await stock_moved(ctx, levels, "RELEASE")
    if order.cart_id is not None:
        ctx.loaders.cart_lines_by_cart_id.clear(order.cart_id)
        await ctx.events.publish(CartChanged(order.cart_id, "CHECKOUT_FAILED", now))


async def replay(
    ctx: ResolverContext,
    found: CheckoutAttempt,
    wanted: AttemptKey,
    payment: PaymentInput,
    *,
    till: bool = False,
) -> CheckoutResult:
    """Answer a repeated key with what its first use did, waiting for it if it is running."""
    if found.fingerprint != wanted.fingerprint:
        return failed(
            ["idempotencyKey"],
            "this key was used for another request; use a new key for a new attempt",
            "IDEMPOTENCY_KEY_REUSED",
        )
    orders = ctx.upstreams.orders
    deadline = asyncio.get_running_loop().time() + ctx.policy.checkout_wait.total_seconds()
    attempt: CheckoutAttempt | None = found
    while attempt is not None and attempt.status == "PENDING":
        if asyncio.get_running_loop().time() >= deadline:
            return await _resume(ctx, attempt, payment, till=till)
        await asyncio.sleep(_POLL)
        attempt = await orders.find_attempt(wanted.scope, wanted.key)
    if attempt is None:  # the first call could not reach the provider and let the key go
        return failed(
            ["idempotencyKey"],
            "the first attempt did not go through; retry",
            "CHECKOUT_IN_PROGRESS",
        )
    if attempt.status == "FAILED":
        return failed(
            ["payment"],
            attempt.error_message or "declined",
            attempt.error_code or "PAYMENT_DECLINED",
        )
    assert attempt.order_id is not None
    [order] = await orders.orders_by_ids([attempt.order_id])
    return CheckoutResult(order, [])


async def _resume(
    ctx: ResolverContext, attempt: CheckoutAttempt, payment: PaymentInput, *, till: bool
) -> CheckoutResult:
    """The first call is gone (or stuck): finish its checkout; the provider key keeps it to
    one charge. The retry first claims the order: while the sweeper has it (asking the
    provider, voiding, undoing), the retry waits for what the sweeper decides instead of
    charging underneath it."""
    assert attempt.order_id is not None
    orders = ctx.upstreams.orders
    owner = f"retry:{secrets.token_hex(8)}"
    if not await orders.claim_checkout(attempt.order_id, owner, ctx.now() + CLAIM, ctx.now()):
        return await _await_owner(ctx, attempt)
    [order] = await orders.orders_by_ids([attempt.order_id]) or [None]
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT:
        return await _await_owner(ctx, attempt)
    due = await amountdue_now(ctx, order)
    key = (attempt.scope, attempt.key)
    return await charge_and_confirm(ctx, order, payment, key, due, till=till)


async def _await_owner(ctx: ResolverContext, attempt: CheckoutAttempt) -> CheckoutResult:
    """Someone else finishes this checkout: answer with what they decide, once they have."""
    orders = ctx.upstreams.orders
    deadline = asyncio.get_running_loop().time() + ctx.policy.checkout_wait.total_seconds()
    found: CheckoutAttempt | None = attempt
    while found is not None and found.status == "PENDING":
        if asyncio.get_running_loop().time() >= deadline:
            message = "this checkout is being finished; retry"
            return failed(["idempotencyKey"], message, "CHECKOUT_IN_PROGRESS")
        await asyncio.sleep(_POLL)
        found = await orders.find_attempt(attempt.scope, attempt.key)
    if found is None or found.status == "FAILED":
        message = (found.error_message if found else None) or "the checkout did not finish; start again"
        return failed(["payment"], message, (found.error_code if found else None) or "CHECKOUT_EXPIRED")
    assert found.order_id is not None
    [order] = await orders.orders_by_ids([found.order_id])
    return CheckoutResult(order, [])
