"""Till sales: a purchase at a store's register joins the unified order history.

The units leave that store's stock at once (channel STORE, one IN_STORE fulfillment, SOLD). The
till takes cash and cards itself, so the gateway records them as taken; a gift card, whose
balance lives in the gateway, is charged through the payment port. A till that retries with its
idempotency key records the sale once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.commerce import Channel, FulfillmentMode, PaymentMethod
from adapters.ports.orders import AttemptKey, AttemptTaken, OrderDraft, PlannedLine
from adapters.ports.refused import Refused
from adapters.records import LocationKind
from resolvers import buyers, lifecycle, prices
from resolvers.checkout import (
    MAX_KEY_LENGTH,
    CheckoutResult,
    PaymentInput,
    charge_and_confirm,
    due_now,
    failed,
    payment_errors,
    replay,
)
from resolvers.errors import BadUserInput
from resolvers.inventory import stock_moved
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_SALE_LINES = 250


async def record_store_sale(
    ctx: ResolverContext,
    location_id: int,
    lines: list[tuple[int, int]],
    member_id: str | None,
    payment: PaymentInput,
    idempotency_key: str | None,
) -> CheckoutResult:
    """A sale at a store's till: the units leave that store now, and the order joins the
    member's history when the customer identified themselves."""
    errors = await check_sale_lines(ctx, location_id, lines)
    if payment.method is PaymentMethod.GIFT_CARD:
        errors += payment_errors(payment)
    if errors:
        return CheckoutResult(None, errors)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise BadUserInput(
            f"`idempotencyKey` must have 1 to {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    attempt = (
        None
        if idempotency_key is None
        else AttemptKey(f"store:{location_id}", idempotency_key, payment.fingerprint(lines, member_id))
    )
    if attempt is not None:
        earlier = await ctx.upstreams.orders.find_attempt(attempt.scope, attempt.key)
        if earlier is not None:
            return await replay(ctx, earlier, attempt, payment, till=True)
    variants = await ctx.loaders.variant_by_id.load_many([v for v, _ in lines])
    products = await ctx.loaders.product_by_id.load_many([v.product_id for v in variants if v])
    # Sold at that store's prices: its market's currency, the STORE channel, the member's tier.
    context = await prices.resolve_context(
        ctx, channel=Channel.STORE, location_id=location_id, member_id=member_id
    )
    found = await prices.of_variants(ctx, [v for v in variants if v is not None], context)
    currency = context.currency_code
    unpriced = [
        UserError(["input", "lines", str(i), "variantId"],
                  f"this variant has no price in {currency} at this store", "NOT_PRICED_IN_CURRENCY")
        for i, p in enumerate(found)
        if p.price is None
    ]  # fmt: skip
    if unpriced:
        return CheckoutResult(None, unpriced)
    if currency != ctx.policy.currency_code and payment.uses_points:
        message = f"loyalty points pay orders in {ctx.policy.currency_code}; this store sells in {currency}"
        return failed(["input", "payment", "method"], message, "PAYMENT_METHOD_NOT_ALLOWED")
    draft = OrderDraft(
        channel=Channel.STORE,
        member_id=member_id,
        cart_id=None,
        currency_code=context.currency_code,
        lines=tuple(
            PlannedLine(
                variant_id=variant.id,
                sku=variant.sku,
                title=f"{product.title} - {variant.title}",
                quantity=quantity,
                unit_price_minor=price.price.to_minor(),
                mode=FulfillmentMode.IN_STORE,
                candidates=(location_id,),
            )
            for (_, quantity), variant, product, price in zip(lines, variants, products, found, strict=True)
            if variant is not None and product is not None and price.price is not None
        ),
        initial=lifecycle.INITIAL,
        attempt=attempt,
        buyer=await buyers.for_store_sale(ctx, member_id) if buyers.pushes_to_erp(ctx, till=True) else None,
    )
    try:
        placed = await ctx.upstreams.orders.place_order(draft, ctx.now())
    except AttemptTaken as taken:
        assert attempt is not None
        return await replay(ctx, taken.attempt, attempt, payment, till=True)
    except Refused as refused:
        field = ["input", "lines"] if refused.index is None else ["input", "lines", str(refused.index)]
        return failed(field, refused.message, refused.code)
    await stock_moved(ctx, placed.levels, "ALLOCATION")
    key = None if attempt is None else (attempt.scope, attempt.key)
    return await charge_and_confirm(ctx, placed.order, payment, key, due_now(draft), till=True)


async def check_sale_lines(
    ctx: ResolverContext, location_id: int, lines: list[tuple[int, int]]
) -> list[UserError]:
    if len(lines) > MAX_SALE_LINES:
        raise BadUserInput(f"at most {MAX_SALE_LINES} lines", field="lines")
    errors: list[UserError] = []
    location = await ctx.loaders.location_by_id.load(location_id)
    if location is None:
        errors.append(UserError(["input", "locationId"], "no location has this id", "LOCATION_NOT_FOUND"))
    elif location.kind is not LocationKind.STORE:
        errors.append(UserError(["input", "locationId"], f"{location.name} is not a store", "INVALID"))
    if not lines:
        errors.append(UserError(["input", "lines"], "a sale has at least one line", "INVALID"))
    variants = await ctx.loaders.variant_by_id.load_many([v for v, _ in lines])
    for index, ((_, quantity), variant) in enumerate(zip(lines, variants, strict=True)):
        at = ["input", "lines", str(index)]
        if not 1 <= quantity <= ctx.policy.max_line_quantity:
            errors.append(
                UserError(
                    [*at, "quantity"],
                    f"the quantity must be between 1 and {ctx.policy.max_line_quantity}",
                    "INVALID",
                )
            )
        if variant is None:
            errors.append(
                UserError([*at, "variantId"], "no product variant has this id", "VARIANT_NOT_FOUND")
            )
    return errors
