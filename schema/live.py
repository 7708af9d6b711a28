"""Subscriptions: the bus's domain events, filtered and authorized per event, pushed as the
current record (read fresh for each event, never from a cache), over graphql-transport-ws.

Delivery is at-most-once: a client that reconnects reads the current state by query first.
A subscriber too slow to keep up is ended rather than slowing the rest: its connection is closed
by the transport (`context.too_slow`: websocket close code 4503, end of an SSE stream), or where
there is none, its subscription ends with SUBSCRIBER_TOO_SLOW.
`loyaltyChanged` is the signed-in member's own account, nobody else's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.commerce import CartRecord, CartStatus
from resolvers import carts, inventory, loyalty, orders
from resolvers.errors import GatewayError, NotFound
from resolvers.events import CartChanged, LoyaltyChanged, OrderStatusChanged, StockChanged
from resolvers.loaders import Loaders
from schema.cart import Cart, _cart_token
from schema.ids import decode_id, decode_ids
from schema.inventory import InventoryLevel
from schema.loyalty import LoyaltyAccount
from schema.orders import Order
from schema.permissions import CanFollowOrders, CanOpenCart, IsMember, check_cart, may_see_order


def _may_still_open(info: Info, cart: CartRecord) -> None:
    """A cart that became a member's (attached on sign-in) ends a subscription that may not
    open it now, saying so."""
    try:
        check_cart(info, cart)
    except GatewayError as refused:
        message = "this cart now belongs to a member: subscribe again signed in as them (`me.cart`)"
        raise type(refused)(message) from refused


class SubscriberTooSlow(GatewayError):
    code = "SUBSCRIBER_TOO_SLOW"


class PerEvent:
    """What one event's subscribers in this process share, made once for them all; kept for
    the last few events only (the event is held, so its id stays its own)."""

    def __init__(self, keep: int = 64) -> None:
        self._keep = keep
        self._made: OrderedDict[int, tuple[Any, Any]] = OrderedDict()

    def __call__(self, event: Any, make: Callable[[], Any]) -> Any:
        found = self._made.get(id(event))
        if found is not None and found[0] is event:
            return found[1]
        made = make()
        self._made[id(event)] = (event, made)
        while len(self._made) > self._keep:
            self._made.popitem(last=False)
        return made


class OneReadPerEvent(PerEvent):
    """The read an event triggers, made once for all the subscribers of this process that
    wait for it (a thousand tablets woken by one stock change would otherwise read the same
    row a thousand times at once): the state read after that event, never an answer to
    anything else."""

    async def read(self, event: Any, read: Callable[[], Awaitable[Any]]) -> Any:
        return await asyncio.shield(self(event, lambda: asyncio.ensure_future(read())))


_stock_reads = OneReadPerEvent()
_loaders = PerEvent()


async def _events(info: Info, topic: str) -> AsyncIterator[Any]:
    """The topic's events, each with fresh loaders on the context: what the pushed record and
    its fields read is current, not what an earlier event (or the socket's first query) saw.
    The subscribers of one event share its loaders (they hold records by id, nothing of who
    asks), so their reads batch together."""
    context = info.context
    async for event in context.events.subscribe(topic, context.too_slow, context.audience):
        context.loaders = _loaders(event, partial(Loaders.for_request, context.upstreams, context.clock))
        yield event
    # The bus ends a stream only when its subscriber fell too far behind.
    if context.too_slow is not None:
        return  # the transport is closing the connection, with its own code
    raise SubscriberTooSlow("this subscription fell too far behind and was ended; read the "
                            "current state by query, then subscribe again")  # fmt: skip


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stock levels as they change, of the given variants and/or locations."
    )
    async def stock_changed(
        self,
        info: Info,
        variant_ids: list[strawberry.ID] | None = None,
        location_ids: list[strawberry.ID] | None = None,
    ) -> AsyncGenerator[InventoryLevel, None]:
        variants = set(decode_ids(variant_ids, "ProductVariant", "variantIds") or ())
        locations = set(decode_ids(location_ids, "Location", "locationIds") or ())
        async for event in _events(info, StockChanged.topic):
            if not isinstance(event, StockChanged):
                continue
            if (variants and event.variant_id not in variants) or (
                locations and event.location_id not in locations
            ):
                continue
            found = await _stock_reads.read(
                event, partial(inventory.levels_of, info.context, event.variant_id, [event.location_id])
            )
            if found:
                yield found[0]  # type: ignore[misc]

    @strawberry.subscription(
        description="Orders as their status moves: a member's own, or a staff member's "
        "locations' (one order, or one location's).",
        permission_classes=[CanFollowOrders],
    )
    async def order_status_changed(
        self,
        info: Info,
        order_id: strawberry.ID | None = None,
        location_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[Order, None]:
        wanted_order = None if order_id is None else decode_id(order_id, "Order", "orderId")
        wanted_location = None if location_id is None else decode_id(location_id, "Location", "locationId")
        principal = info.context.principal
        async for event in _events(info, OrderStatusChanged.topic):
            if not isinstance(event, OrderStatusChanged):
                continue
            if wanted_order is not None and event.order_id != wanted_order:
                continue
            if wanted_location is not None and wanted_location not in event.location_ids:
                continue
            if not principal.may_see_order(event.member_id, set(event.location_ids)):
                continue  # a cheap first look; the record decides below
            found = await orders.order(info.context, event.order_id)
            if found is not None and await may_see_order(info, found):
                yield found  # type: ignore[misc]

    @strawberry.subscription(
        description="A cart as it changes (lines, holds, checkout), by its secret id; a member's "
        "cart for that member (and staff of the store it was built at), as `cart(id)`. When the "
        "cart is merged into the cart its member attached on another device, the push shows it "
        "MERGED with `mergedInto`, and the subscription follows that cart from then on (the "
        "pushes carry its id). A subscriber who may not open the cart any more (it became a "
        "member's) gets an UNAUTHENTICATED or FORBIDDEN error, and the subscription ends.",
        permission_classes=[CanOpenCart],
    )
    async def cart_changed(self, info: Info, cart_id: strawberry.ID) -> AsyncGenerator[Cart, None]:
        token = _cart_token(cart_id)
        following = await carts.cart(info.context, token)
        if following is None:
            raise NotFound("no cart has this id", field="cartId")
        check_cart(info, following)
        async for event in _events(info, CartChanged.topic):
            if not isinstance(event, CartChanged) or event.cart_id != following.id:
                continue
            current = await carts.cart(info.context, following.token)
            if current is None:
                return  # expired: nothing more will change
            _may_still_open(info, current)  # attached to a member since: theirs alone from now on
            yield current  # type: ignore[misc]
            if current.status is CartStatus.MERGED:
                target = await carts.merged_into(info.context, current)
                if target is None:
                    return
                _may_still_open(info, target)
                following = target

    @strawberry.subscription(
        description="The signed-in member's points and tier as they change, on any channel.",
        permission_classes=[IsMember],
    )
    async def loyalty_changed(self, info: Info) -> AsyncGenerator[LoyaltyAccount, None]:
        member_id = info.context.principal.member_id
        async for event in _events(info, LoyaltyChanged.topic):
            if isinstance(event, LoyaltyChanged) and event.member_id == member_id:
                yield await loyalty.account(info.context, member_id)  # type: ignore[misc]
