"""Cart use cases: a cart that follows the customer across app, web and store tablet.

The cart's id is its secret; whoever holds it may read and change the cart. PICKUP and RESERVE
lines hold stock at their store while the customer shops (`CommercePolicy.cart_hold`, renewed by
every change); a hold past its time is released by the sweeper, by the next checkout that needs
the stock, and when the cart is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from adapters.commerce import CartLineRecord, CartRecord, Channel, FulfillmentMode
from adapters.ports import CartChange, CartLineOp, HoldPolicy, Refused
from adapters.records import GeoPoint, LocationKind, LocationRecord, Money, VariantRecord
from resolvers.errors import BadUserInput
from resolvers.events import CartChanged
from resolvers.geo import checked_point, distance_km
from resolvers.inventory import StoreAvailability, levels_of, stock_moved
from resolvers.pickup import pickup_ready_by
from resolvers.principal import PrincipalKind
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

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
            return [
                UserError([*path, "locationId"], "no location has this id", "LOCATION_NOT_FOUND")
            ]
    problem = fulfillment_problem(mode, location)
    return [] if problem is None else [UserError(path, problem, "INVALID_FULFILLMENT")]


def _quantity_error(
    ctx: ResolverContext, quantity: int, path: list[str], low: int = 1
) -> list[UserError]:
    top = ctx.policy.max_line_quantity
    if low <= quantity <= top:
        return []
    return [UserError(path, f"the quantity must be between {low} and {top}", "INVALID")]


async def _check_new_lines(
    ctx: ResolverContext, lines: list[LineInput], path: list[str]
) -> list[UserError]:
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
    return await ctx.loaders.cart_lines_by_cart_id.load(cart.id)


async def _variant(ctx: ResolverContext, variant_id: int) -> VariantRecord:
    found = await ctx.loaders.variant_by_id.load(variant_id)
    assert found is not None, "a cart line's variant exists (foreign key)"
    return found


async def unit_price(ctx: ResolverContext, line: CartLineRecord) -> Money:
    """The catalog's price at the moment of reading."""
    return (await _variant(ctx, line.variant_id)).price


async def line_total(ctx: ResolverContext, line: CartLineRecord) -> Money:
    price = await unit_price(ctx, line)
    return Money.from_minor(price.to_minor() * line.quantity, price.currency_code)


async def subtotal(ctx: ResolverContext, cart: CartRecord) -> Money:
    lines = await lines_of(ctx, cart)
    # One batch for every line's variant, not one await per line.
    variants = await ctx.loaders.variant_by_id.load_many([ln.variant_id for ln in lines])
    total = sum(
        v.price.to_minor() * ln.quantity for ln, v in zip(lines, variants, strict=True) if v
    )
    return Money.from_minor(total, cart.currency_code)


async def location_of(ctx: ResolverContext, line: CartLineRecord) -> LocationRecord | None:
    """A line's store, from the request's one read of all locations (which a cart needs anyway
    for availability and alternatives), so a cart costs one locations query whatever it asks."""
    if line.location_id is None:
        return None
    return next(
        (loc for loc in await ctx.loaders.all_locations.load() if loc.id == line.location_id), None
    )


def live_hold(line: CartLineRecord, now: datetime) -> int:
    return line.held if line.held_until is not None and line.held_until > now else 0


async def availability(ctx: ResolverContext, line: CartLineRecord) -> LineAvailability:
    levels = await levels_of(ctx, line.variant_id)
    if line.mode is FulfillmentMode.SHIP:
        locations = await ctx.loaders.all_locations.load()
        warehouses = {loc.id for loc in locations if loc.kind is LocationKind.WAREHOUSE}
        available = max((lv.available for lv in levels if lv.location_id in warehouses), default=0)
    else:
        level = next((lv for lv in levels if lv.location_id == line.location_id), None)
        own = live_hold(line, ctx.now())
        available = 0 if level is None else max(level.on_hand - level.reserved + own, 0)
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
        raise BadUserInput(
            f"`first` must be between 0 and {ctx.policy.max_page_size}", field="first"
        )
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
        if (
            loc.kind is LocationKind.STORE
            and loc.pickup_enabled
            and enough
            and loc.id != line.location_id
        ):
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


async def create_cart(ctx: ResolverContext, channel: Channel, lines: list[LineInput]) -> CartResult:
    errors = await _check_new_lines(ctx, lines, ["input", "lines"])
    if errors:
        return CartResult(None, errors)
    now = ctx.now()
    member = ctx.principal.member_id if ctx.principal.kind is PrincipalKind.MEMBER else None
    ops = [CartLineOp(None, ln.variant_id, ln.quantity, ln.mode, ln.location_id) for ln in lines]
    try:
        change = await ctx.upstreams.carts.create_cart(
            channel, member, ops, _holds(ctx, now), now, now + ctx.policy.cart_ttl,
            ctx.policy.max_cart_lines,
        )  # fmt: skip
    except Refused as refused:
        return CartResult(None, [UserError(["input", "lines"], refused.message, refused.code)])
    return await _changed(ctx, change, "CREATED")


async def add_lines(ctx: ResolverContext, token: str, lines: list[LineInput]) -> CartResult:
    errors = await _check_new_lines(ctx, lines, ["lines"])
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
            errors += await _fulfillment_errors(
                ctx, update.mode, update.location_id, [*at, "fulfillment"]
            )
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


async def attach_member(ctx: ResolverContext, token: str) -> CartResult:
    """On sign-in: the cart becomes the member's, and their earlier open cart is merged into it
    by the policy's merge strategy (who may do this is decided in schema/permissions.py)."""
    member_id = ctx.principal.member_id
    assert member_id is not None, "a member principal (schema/permissions.py)"
    now = ctx.now()
    try:
        change = await ctx.upstreams.carts.attach_member(
            token, member_id, ctx.policy.cart_merge.merge, _holds(ctx, now), now,
            now + ctx.policy.cart_ttl, ctx.policy.max_cart_lines,
        )  # fmt: skip
    except Refused as refused:
        return CartResult(None, [UserError(["cartId"], refused.message, refused.code)])
    return await _changed(ctx, change, "MEMBER_ATTACHED")
