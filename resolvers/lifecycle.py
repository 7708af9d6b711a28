"""The order lifecycle: which fulfillment moves are legal, what each does to stock, and the
order status that a set of fulfillments adds up to. Pure: no I/O, tested as a table.

    SHIP, SHIP_FROM_STORE   ALLOCATED ─> SHIPPED ─> DELIVERED
    PICKUP                  ALLOCATED ─> READY_FOR_PICKUP ─> PICKED_UP
    RESERVE (try on)        HELD ─> SOLD (bought at the till) | RELEASED (by staff) | EXPIRED
    IN_STORE (till sale)    SOLD
    any of them, before the goods leave ─> CANCELLED (orderCancel, or staff for one fulfillment)
"""

from __future__ import annotations

from adapters.commerce import FulfillmentMode, FulfillmentStatus, OrderStatus, StockEffect

F = FulfillmentStatus
M = FulfillmentMode

_MOVES: dict[FulfillmentMode, dict[FulfillmentStatus, frozenset[FulfillmentStatus]]] = {
    M.SHIP: {F.ALLOCATED: frozenset({F.SHIPPED, F.CANCELLED}), F.SHIPPED: frozenset({F.DELIVERED})},
    M.PICKUP: {
        F.ALLOCATED: frozenset({F.READY_FOR_PICKUP, F.CANCELLED}),
        F.READY_FOR_PICKUP: frozenset({F.PICKED_UP, F.CANCELLED}),
    },
    M.RESERVE: {F.HELD: frozenset({F.SOLD, F.RELEASED, F.EXPIRED, F.CANCELLED})},
    M.IN_STORE: {},
}
_MOVES[M.SHIP_FROM_STORE] = _MOVES[M.SHIP]

# Only the system lets a hold run out; staff release it.
SYSTEM_ONLY = frozenset({F.EXPIRED})

_EFFECTS = {
    F.SHIPPED: StockEffect.SHIP_OUT,
    F.PICKED_UP: StockEffect.SHIP_OUT,
    F.SOLD: StockEffect.SHIP_OUT,
    F.CANCELLED: StockEffect.RELEASE,
    F.RELEASED: StockEffect.RELEASE,
    F.EXPIRED: StockEffect.RELEASE,
}

ENDED = frozenset({F.CANCELLED, F.RELEASED, F.EXPIRED})  # nothing of it reaches the customer
HANDED_OVER = frozenset({F.SHIPPED, F.DELIVERED, F.PICKED_UP, F.SOLD})  # returnable
_DONE = frozenset({F.DELIVERED, F.PICKED_UP, F.SOLD})
_SAME = {
    F.ALLOCATED: OrderStatus.ALLOCATED,
    F.HELD: OrderStatus.HELD,
    F.READY_FOR_PICKUP: OrderStatus.READY_FOR_PICKUP,
    F.SHIPPED: OrderStatus.SHIPPED,
    F.PICKED_UP: OrderStatus.PICKED_UP,
    F.DELIVERED: OrderStatus.DELIVERED,
    F.SOLD: OrderStatus.FULFILLED,
}

# Where each mode starts once its order is paid, and what that does to its stock.
INITIAL: dict[FulfillmentMode, tuple[FulfillmentStatus, StockEffect]] = {
    M.SHIP: (F.ALLOCATED, StockEffect.NONE),
    M.SHIP_FROM_STORE: (F.ALLOCATED, StockEffect.NONE),
    M.PICKUP: (F.ALLOCATED, StockEffect.NONE),
    M.RESERVE: (F.HELD, StockEffect.NONE),
    M.IN_STORE: (F.SOLD, StockEffect.SHIP_OUT),
}


def can_move(
    mode: FulfillmentMode,
    current: FulfillmentStatus,
    to: FulfillmentStatus,
    *,
    system: bool = False,
) -> bool:
    if to in SYSTEM_ONLY and not system:
        return False
    return to in _MOVES[mode].get(current, frozenset())


def stock_effect(to: FulfillmentStatus) -> StockEffect:
    return _EFFECTS.get(to, StockEffect.NONE)


def order_status(statuses: list[FulfillmentStatus]) -> OrderStatus:
    """What the customer sees: the one status all live fulfillments share, else a summary."""
    live = [s for s in statuses if s not in ENDED]
    if not live:
        return OrderStatus.CANCELLED
    if len(set(live)) == 1:
        return _SAME[live[0]]
    if all(s in _DONE for s in live):
        return OrderStatus.FULFILLED
    if any(s in HANDED_OVER for s in live):
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.ALLOCATED  # everything still at its location, some of it ready


def cancellable(statuses: list[FulfillmentStatus]) -> bool:
    """An order can be cancelled while nothing of it has left a location."""
    return not any(s in HANDED_OVER for s in statuses) and any(s not in ENDED for s in statuses)
