"""Cart use cases: a cart that follows the customer across app, web and store tablet.

The cart's id is its secret; whoever holds it may read and change the cart. PICKUP and RESERVE
lines hold stock at their store while the customer shops (`CommercePolicy.cart_hold`, renewed by
every change); a hold past its time is released by the sweeper, by the next checkout that needs
the stock, and when the cart is read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from adapters.commerce import CartLineRecord, CartRecord, Channel, FulfillmentMode
from adapters.ports.carts import CartChange, CartLineOp, HoldPolicy
from adapters.ports.refused import Refused
from adapters.records import GeoPoint, LocationKind, LocationRecord, Money
from resolvers import offers, prices
from resolvers.errors import BadUserInput
from resolvers.events import CartChanged
from resolvers.geo import checked_point, distance_km
from resolvers.inventory import StoreAvailability, levels_of, stock_moved
from resolvers.pickup import pickup_ready_by
from resolvers.principal import PrincipalKind
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext
    from resolvers.prices import PriceContext, VariantPrice

MAX_INPUT_LINES = 250  # per mutation: more is a malformed request, not a business failure
HOLDING_MODES = frozenset({FulfillmentMode.PICKUP, FulfillmentMode.RESERVE})


class LineStatus(Enum):
    AVAILABLE = "AVAILABLE"  # the whole quantity can be had where the line says
    SHORT = "SHORT"  # some of it
    UNAVAILABLE = "UNAVAILABLE"  # none of it


@dataclass(frozen=True, slots=True)
class LineInput:
    variant_id: int
    quantity: int
    mode: FulfillmentMode
    location_id: int | None


@dataclass(frozen=True, slots=True)
class LineUpdate:
    line_id: int
    quantity: int | None = None
    mode: FulfillmentMode | None = None  # None keeps the line's fulfillment
    location_id: int | None = None


@dataclass(frozen=True, slots=True)
class CartResult:
    cart: CartRecord | None
    user_errors: list[UserError]


@dataclass(frozen=True, slots=True)
class LineAvailability:
    status: LineStatus
    available: int  # units this line could have where it is fulfilled, its own hold included


def fulfillment_problem(mode: FulfillmentMode, location: LocationRecord | None) -> str | None:
    """Why a line cannot be fulfilled this way at this location, or None when it can."""
    if mode is FulfillmentMode.IN_STORE:
        return "IN_STORE is for till sales; a cart line ships, or is picked up or reserved"
    if mode is FulfillmentMode.SHIP:
        if location is not None:
            return "a SHIP line leaves from the warehouse checkout picks; give no location"
        return None
    if location is None:
        return f"a {mode.value} line needs the store's locationId"
    if location.kind is not LocationKind.STORE:
        return f"{location.name} is not a store"
    if mode in HOLDING_MODES and not location.pickup_enabled:
        return f"{location.name} does not offer pickup"
    if mode is FulfillmentMode.SHIP_FROM_STORE and not location.ship_from_store_enabled:
        return f"{location.name} does not ship orders"
    return None


async def _fulfillment_errors(
    ctx: ResolverContext, mode: FulfillmentMode, location_id: int | None, path: list[str]
) -> list[UserError]:
    location = None
    if location_id is not None:
        location = await ctx.loaders.location_by_id.load(location_id)
        if location is None:
            return [UserError([*path, "locationId"], "no location has this id", "LOCATION_NOT_FOUND")]
    problem = fulfillment_problem(mode, location)
    return [] if problem is None else [UserError(path, problem, "INVALID_FULFILLMENT")]


def _quantity_error(ctx: ResolverContext, quantity: int, path: list[str], low: int = 1) -> list[UserError]:
    top = ctx.policy.max_line_quantity
    if low <= quantity <= top:
        return []
    return [UserError(path, f"the quantity must be between {low} and {top}", "INVALID")]


async def _check_new_lines(ctx: ResolverContext, lines: list[LineInput], path: list[str]) -> list[UserError]:
    if len(lines) > MAX_INPUT_LINES:
        raise BadUserInput(f"at most {MAX_INPUT_LINES} lines at a time", field=path[-1])
    variants = await ctx.loaders.variant_by_id.load_many([line.variant_id for line in lines])
    errors: list[UserError] = []
    for index, (line, variant) in enumerate(zip(lines, variants, strict=True)):
        at = [*path, str(index)]
        errors += _quantity_error(ctx, line.quantity, [*at, "quantity"])
        if variant is None:
            errors.append(
                UserError([*at, "variantId"], "no product variant has this id", "VARIANT_NOT_FOUND")
            )
        errors += await _fulfillment_errors(ctx, line.mode, line.location_id, [*at, "fulfillment"])
    return errors


def _holds(ctx: ResolverContext, now: datetime) -> HoldPolicy:
    return HoldPolicy(modes=HOLDING_MODES, until=now + ctx.policy.cart_hold)


def _refusal(refused: Refused, list_argument: str) -> UserError:
    field = ["cartId"] if refused.code.startswith("CART_") else [list_argument]
    if refused.index is not None:
        field = [list_argument, str(refused.index)]
    return UserError(field, refused.message, refused.code)


async def _changed(ctx: ResolverContext, change: CartChange, reason: str) -> CartResult:
    ctx.loaders.cart_by_token.clear(change.cart.token).prime(change.cart.token, change.cart)
    ctx.loaders.cart_lines_by_cart_id.clear(change.cart.id)
    await stock_moved(ctx, change.levels, "HOLD")
    await ctx.events.publish(CartChanged(change.cart.id, reason, change.cart.updated_at))
    return CartResult(change.cart, [])


async def _change(
    ctx: ResolverContext, token: str, ops: list[CartLineOp], reason: str, list_argument: str
) -> CartResult:
    now = ctx.now()
    try:
        change = await ctx.upstreams.carts.change_lines(
            token, ops, _holds(ctx, now), now, now + ctx.policy.cart_ttl, ctx.policy.max_cart_lines
        )
    except Refused as refused:
        return CartResult(None, [_refusal(refused, list_argument)])
    return await _changed(ctx, change, reason)


# -- reads -----------------------------------------------------------------------------------


async def cart(ctx: ResolverContext, token: str) -> CartRecord | None:
    """The cart this secret opens; None when there is none (or it expired)."""
    found = await ctx.loaders.cart_by_token.load(token)
    now = ctx.now()
    if found is None or found.expires_at <= now:
        return None
    lines = await ctx.loaders.cart_lines_by_cart_id.load(found.id)
    if any(ln.held and ln.held_until is not None and ln.held_until <= now for ln in lines):
        # Release on read: the shopper sees the stock as it is, and so does everyone else.
        _, levels = await ctx.upstreams.carts.release_expired_holds(now, [found.id])
        ctx.loaders.cart_lines_by_cart_id.clear(found.id)
        await stock_moved(ctx, levels, "RELEASE")
        await ctx.events.publish(CartChanged(found.id, "HOLDS_EXPIRED", now))
    return found


async def lines_of(ctx: ResolverContext, cart: CartRecord) -> list[CartLineRecord]:
    # Its lines price in its context: they find the cart by its id, without a query.
    ctx.loaders.cart_by_id.clear(cart.id).prime(cart.id, cart)
    return await ctx.loaders.cart_lines_by_cart_id.load(cart.id)


async def _cart_of(ctx: ResolverContext, line: CartLineRecord) -> CartRecord:
    found = await ctx.loaders.cart_by_id.load(line.cart_id)
    assert found is not None, "a line is reached through its cart (lines_of)"
    return found


async def prices_of(ctx: ResolverContext, cart: CartRecord, variant_ids: list[int]) -> list[VariantPrice]:
    """Prices in the cart's context (its channel, currency, store, member's tier), now."""
    variants = await ctx.loaders.variant_by_id.load_many(variant_ids)
    assert all(variants), "a cart line's variant exists (foreign key)"
    return await prices.of_variants(ctx, variants, await prices.of_cart(ctx, cart))  # type: ignore[arg-type]


async def line_price(ctx: ResolverContext, line: CartLineRecord) -> VariantPrice:
    [found] = await prices_of(ctx, await _cart_of(ctx, line), [line.variant_id])
    return found


async def unit_price(ctx: ResolverContext, line: CartLineRecord) -> Money:
    """The price in the cart's context at the moment of reading; zero in the cart's currency
    when nothing prices the variant there any more (`priced` false: checkout refuses it)."""
    found = await line_price(ctx, line)
    if found.price is None:
        return Money.from_minor(0, (await _cart_of(ctx, line)).currency_code)
    return found.price


async def priced(ctx: ResolverContext, line: CartLineRecord) -> bool:
    return (await line_price(ctx, line)).price is not None


async def discount_of(
    ctx: ResolverContext, cart: CartRecord, line: CartLineRecord, price: VariantPrice
) -> offers.LineDiscount | None:
    """The best offer's discount on the line at this price (resolvers/offers.py)."""
    if price.price is None:
        return None
    return await offers.best_for_line(ctx, cart, line, price.price.to_minor())


async def line_discount(ctx: ResolverContext, line: CartLineRecord) -> offers.LineDiscount | None:
    return await discount_of(ctx, await _cart_of(ctx, line), line, await line_price(ctx, line))


async def line_total(ctx: ResolverContext, line: CartLineRecord) -> Money:
    """The line's units at the unit price, less the offer's discount."""
    price = await unit_price(ctx, line)
    discount = await line_discount(ctx, line)
    off = 0 if discount is None else discount.unit_discount_minor
    return Money.from_minor((price.to_minor() - off) * line.quantity, price.currency_code)


async def subtotal(ctx: ResolverContext, cart: CartRecord) -> Money:
    lines = await lines_of(ctx, cart)
    # One batch for every line's price, not one await per line.
    found = await prices_of(ctx, cart, [ln.variant_id for ln in lines])
    total = 0
    for ln, p in zip(lines, found, strict=True):
        if p.price:
            discount = await discount_of(ctx, cart, ln, p)
            total += (p.price.to_minor() - (discount.unit_discount_minor if discount else 0)) * ln.quantity
    return Money.from_minor(total, cart.currency_code)


async def merged_into(ctx: ResolverContext, cart: CartRecord) -> CartRecord | None:
    """The cart a MERGED cart's lines went to (and, if that one was merged too, its own)."""
    seen = {cart.id}
    found = cart
    while found.merged_into_id is not None and found.merged_into_id not in seen:
        seen.add(found.merged_into_id)
        target = await ctx.loaders.cart_by_id.load(found.merged_into_id)
        if target is None:
            return None
        found = target
    return None if found is cart else found


async def member_cart(ctx: ResolverContext, member_id: str) -> CartRecord | None:
    """The member's active cart: their open cart changed last (from any device)."""
    for found in await ctx.upstreams.carts.carts_of_member(member_id, ctx.now()):
        if found.token:  # a cart from before tokens were kept is named by its own device only
            ctx.loaders.cart_by_token.prime(found.token, found)
            return found
    return None


async def location_of(ctx: ResolverContext, line: CartLineRecord) -> LocationRecord | None:
    """A line's store, from the request's one read of all locations (which a cart needs anyway
    for availability and alternatives), so a cart costs one locations query whatever it asks."""
    if line.location_id is None:
        return None
    return next((loc for loc in await ctx.loaders.all_locations.load() if loc.id == line.location_id), None)


def live_hold(line: CartLineRecord, now: datetime) -> int:
    return line.held if line.held_until is not None and line.held_until > now else 0


async def availability(ctx: ResolverContext, line: CartLineRecord) -> LineAvailability:
    levels = await levels_of(ctx, line.variant_id)
    if line.mode is FulfillmentMode.SHIP:
        locations = await ctx.loaders.all_locations.load()
        # A shipped line may be split across the locations the routing rule ships from
        # (resolvers/allocation.py): what they have together is what it can get.
        shipping = set(ctx.policy.ship_allocation.ship_from(line.quantity, levels, locations))
        available = sum(lv.available for lv in levels if lv.location_id in shipping)
    else:
        level = next((lv for lv in levels if lv.location_id == line.location_id), None)
        own = live_hold(line, ctx.now())
        available = 0 if level is None else max(level.on_hand - level.reserved - level.safety_stock + own, 0)
    if available >= line.quantity:
        status = LineStatus.AVAILABLE
    elif available > 0:
        status = LineStatus.SHORT
    else:
        status = LineStatus.UNAVAILABLE
    return LineAvailability(status, available)


async def alternatives(
    ctx: ResolverContext, line: CartLineRecord, near: GeoPoint | None, first: int
) -> list[StoreAvailability]:
    """Other stores with the whole quantity for pickup, nearest (to `near`, else to the line's
    store) first; then the ship option (a warehouse entry) unless the line already ships."""
    if not 0 <= first <= ctx.policy.max_page_size:
        raise BadUserInput(f"`first` must be between 0 and {ctx.policy.max_page_size}", field="first")
    locations = await ctx.loaders.all_locations.load()
    stock = {lv.location_id: lv.available for lv in await levels_of(ctx, line.variant_id)}
    origin = checked_point(near) if near is not None else None
    if origin is None and line.location_id is not None:
        here = next((loc for loc in locations if loc.id == line.location_id), None)
        origin = here.geo if here is not None else None
    now = ctx.now()
    stores = []
    for loc in locations:
        enough = stock.get(loc.id, 0) >= line.quantity
        if loc.kind is LocationKind.STORE and loc.pickup_enabled and enough and loc.id != line.location_id:
            distance = None if origin is None else round(distance_km(origin, loc.geo), 3)
            stores.append((distance if distance is not None else 0.0, loc.id, loc, distance))
    stores.sort(key=lambda s: (s[0], s[1]))
    found = [
        StoreAvailability(
            loc, stock[loc.id], distance, pickup_ready_by(loc, now, ctx.policy.pickup_lead_time)
        )
        for _, _, loc, distance in stores[:first]
    ]
    if line.mode is not FulfillmentMode.SHIP:
        ship = [
            loc
            for loc in locations
            if loc.kind is LocationKind.WAREHOUSE and stock.get(loc.id, 0) >= line.quantity
        ]
        if ship:
            best = max(ship, key=lambda loc: (stock[loc.id], -loc.id))
            found.append(StoreAvailability(best, stock[best.id], None, None))
    return found


# -- mutations ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Market:
    """Where a new cart is priced: `currency_code`, else the `country`'s market, else the
    market of the store's country, else the shop's currency."""

    currency_code: str | None = None
    country: str | None = None
    location_id: int | None = None  # the store it is built at (a store tablet)


_MARKET_ERRORS = {  # resolve_context's refusals, as the cart's input names them
    "location": (["input", "locationId"], "LOCATION_NOT_FOUND"),
    "country": (["input", "country"], "INVALID"),
    "currency": (["input", "currencyCode"], "NOT_PRICED_IN_CURRENCY"),
}


async def _unpriced(
    ctx: ResolverContext, context: PriceContext, lines: list[LineInput], path: list[str]
) -> list[UserError]:
    """A line cannot join a cart whose currency and channel nothing prices it in."""
    variants = await ctx.loaders.variant_by_id.load_many([ln.variant_id for ln in lines])
    known = [v for v in variants if v is not None]
    found = dict(zip([v.id for v in known], await prices.of_variants(ctx, known, context), strict=True))
    channel = context.channel.value if context.channel is not None else "any channel"
    return [
        UserError(
            [*path, str(index), "variantId"],
            f"this variant has no price in {context.currency_code} on {channel}",
            "NOT_PRICED_IN_CURRENCY",
        )
        for index, line in enumerate(lines)
        if line.variant_id in found and found[line.variant_id].price is None
    ]


async def create_cart(
    ctx: ResolverContext, channel: Channel, lines: list[LineInput], market: Market | None = None
) -> CartResult:
    market = market or Market()
    errors = await _check_new_lines(ctx, lines, ["input", "lines"])
    member = ctx.principal.member_id if ctx.principal.kind is PrincipalKind.MEMBER else None
    try:
        context = await prices.resolve_context(
            ctx, channel=channel, country=market.country, currency=market.currency_code,
            location_id=market.location_id, member_id=member,
        )  # fmt: skip
    except BadUserInput as refused:
        field, code = _MARKET_ERRORS[refused.field or "currency"]
        return CartResult(None, [*errors, UserError(field, refused.message, code)])
    if market.location_id is not None:
        store = await ctx.loaders.location_by_id.load(market.location_id)
        if store is not None and store.kind is not LocationKind.STORE:
            errors.append(UserError(["input", "locationId"], f"{store.name} is not a store", "INVALID"))
    if errors:
        return CartResult(None, errors)
    errors = await _unpriced(ctx, context, lines, ["input", "lines"])
    if errors:
        return CartResult(None, errors)
    now = ctx.now()
    ops = [CartLineOp(None, ln.variant_id, ln.quantity, ln.mode, ln.location_id) for ln in lines]
    try:
        change = await ctx.upstreams.carts.create_cart(
            channel, member, ops, _holds(ctx, now), now, now + ctx.policy.cart_ttl,
            ctx.policy.max_cart_lines, context.currency_code, market.location_id,
        )  # fmt: skip
    except Refused as refused:
        return CartResult(None, [UserError(["input", "lines"], refused.message, refused.code)])
    return await _changed(ctx, change, "CREATED")


async def add_lines(ctx: ResolverContext, token: str, lines: list[LineInput]) -> CartResult:
    errors = await _check_new_lines(ctx, lines, ["lines"])
    if errors:
        return CartResult(None, errors)
    found = await ctx.loaders.cart_by_token.load(token)
    if found is not None:  # else the store answers why not (gone, checked out, merged)
        errors = await _unpriced(ctx, await prices.of_cart(ctx, found), lines, ["lines"])
        if errors:
            return CartResult(None, errors)
    ops = [CartLineOp(None, ln.variant_id, ln.quantity, ln.mode, ln.location_id) for ln in lines]
    return await _change(ctx, token, ops, "LINES_ADDED", "lines")


async def update_lines(ctx: ResolverContext, token: str, updates: list[LineUpdate]) -> CartResult:
    if len(updates) > MAX_INPUT_LINES:
        raise BadUserInput(f"at most {MAX_INPUT_LINES} lines at a time", field="lines")
    errors: list[UserError] = []
    for index, update in enumerate(updates):
        at = ["lines", str(index)]
        if update.quantity is not None:
            errors += _quantity_error(ctx, update.quantity, [*at, "quantity"], low=0)
        if update.mode is not None:
            errors += await _fulfillment_errors(ctx, update.mode, update.location_id, [*at, "fulfillment"])
        elif update.quantity is None:
            errors.append(UserError(at, "give a quantity, a fulfillment or both", "INVALID"))
    if errors:
        return CartResult(None, errors)
    ops = [
        CartLineOp(line_id=u.line_id, quantity=u.quantity, mode=u.mode, location_id=u.location_id)
        for u in updates
    ]
    return await _change(ctx, token, ops, "LINES_UPDATED", "lines")


async def remove_lines(ctx: ResolverContext, token: str, line_ids: list[int]) -> CartResult:
    if len(line_ids) > MAX_INPUT_LINES:
        raise BadUserInput(f"at most {MAX_INPUT_LINES} lines at a time", field="lineIds")
    ops = [CartLineOp(line_id=line_id, remove=True) for line_id in line_ids]
    return await _change(ctx, token, ops, "LINES_REMOVED", "lineIds")


async def _carried(ctx: ResolverContext, cart: CartRecord, member_id: str) -> set[int]:
    """Variants of the member's other open carts that the cart in hand can price (its currency
    and channel, the member's tier): what a merge may carry over."""
    others = [c for c in await ctx.upstreams.carts.carts_of_member(member_id, ctx.now()) if c.id != cart.id]
    groups = await ctx.loaders.cart_lines_by_cart_id.load_many([c.id for c in others])
    lines = [ln for group in groups for ln in group]
    wanted = sorted({ln.variant_id for ln in lines})
    if not wanted:
        return set()
    context = dataclasses.replace(
        await prices.of_cart(ctx, cart),
        tier=await prices.member_tier(ctx, member_id, cart.currency_code),
    )
    variants = [v for v in await ctx.loaders.variant_by_id.load_many(wanted) if v is not None]
    found = await prices.of_variants(ctx, variants, context)
    return {v.id for v, p in zip(variants, found, strict=True) if p.price is not None}


async def attach_member(ctx: ResolverContext, token: str, member_id: str | None = None) -> CartResult:
    """The cart becomes the member's (the signed-in member's, or `member_id` when staff attach a
    store cart to a customer), and their other open carts are merged into it by the policy's
    merge strategy: each merged cart stays, MERGED, naming this one (`Cart.mergedInto`), so every
    device's cart id still answers and its `cartChanged` follows here. Lines this cart cannot
    price (another currency) stay on the merged cart. Who may do this: schema/permissions.py."""
    member_id = member_id or ctx.principal.member_id
    assert member_id is not None, "a member, or staff naming one (schema/permissions.py)"
    found = await ctx.loaders.cart_by_token.load(token)
    carried = set() if found is None else await _carried(ctx, found, member_id)
    now = ctx.now()
    try:
        change = await ctx.upstreams.carts.attach_member(
            token, member_id, ctx.policy.cart_merge.merge, _holds(ctx, now), now,
            now + ctx.policy.cart_ttl, ctx.policy.max_cart_lines, carried.__contains__,
        )  # fmt: skip
    except Refused as refused:
        return CartResult(None, [UserError(["cartId"], refused.message, refused.code)])
    for merged in change.merged:
        ctx.loaders.cart_lines_by_cart_id.clear(merged)
        await ctx.events.publish(CartChanged(merged, "MERGED", now))
    return await _changed(ctx, change, "MEMBER_ATTACHED")


async def assign_member(
    ctx: ResolverContext, token: str, member_key: str | None, email: str | None
) -> CartResult:
    """Staff at a store attach the cart they built to a customer, by member id or email: the
    same as the customer's own `cartAttachMember` (their other open carts merge into it)."""
    if (member_key is None) == (email is None):
        raise BadUserInput("give exactly one of `memberId` or `email`", field="memberId")
    directory = ctx.upstreams.members
    if member_key is not None:
        found = await ctx.loaders.member_by_key.load(member_key)
    else:
        assert email is not None
        matches = [] if directory is None else await directory.members_by_emails([email.strip().lower()])
        found = matches[0] if matches else None
    if found is None:
        field = "memberId" if member_key is not None else "email"
        return CartResult(None, [UserError([field], "no member has this id or email", "MEMBER_NOT_FOUND")])
    return await attach_member(ctx, token, found.key)
