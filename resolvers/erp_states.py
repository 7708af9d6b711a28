"""What the ERP did to the orders it has comes back to them: a sale shipped in the ERP ships
the order's fulfillments, a sale cancelled there cancels the order (stock released, payments
refunded), and `orderStatusChanged` tells subscribers. Run by the sweeper; the ERP is asked
about the orders it has not finished, in one batch call."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.commerce import FulfillmentMode, FulfillmentStatus, order_number
from adapters.ports.orders import FulfillmentChange
from adapters.ports.refused import Refused
from adapters.records import OrderState, erp_reference
from resolvers import lifecycle, refunds
from resolvers.orders import transitioned

if TYPE_CHECKING:
    from adapters.commerce import OrderRecord
    from adapters.ports.erp import OrderSink
    from resolvers.context import ResolverContext

log = logging.getLogger("omnigate.erp")

# Where a fulfillment goes when the ERP says the goods left, step by step from where it is.
_SHIPPED = {
    FulfillmentMode.SHIP: (FulfillmentStatus.SHIPPED,),
    FulfillmentMode.SHIP_FROM_STORE: (FulfillmentStatus.SHIPPED,),
    FulfillmentMode.PICKUP: (FulfillmentStatus.READY_FOR_PICKUP, FulfillmentStatus.PICKED_UP),
}


async def catch_up(ctx: ResolverContext, page: int = 100) -> int:
    """Ask the ERP about the orders it has not finished, a page per call; apply what changed.
    Returns how many orders changed."""
    sink = ctx.upstreams.order_sink
    if sink is None:
        return 0
    changed, after = 0, 0
    while True:
        waiting = await ctx.upstreams.orders.orders_awaiting_erp(page, after)
        if not waiting:
            return changed
        changed += await _apply(ctx, sink, waiting)
        if len(waiting) < page:
            return changed
        after = waiting[-1].id


async def _apply(ctx: ResolverContext, sink: OrderSink, waiting: list[OrderRecord]) -> int:
    by_reference = {erp_reference(order_number(o.id)): o for o in waiting}
    changed = 0
    for state in await sink.order_states(list(by_reference)):
        order = by_reference.get(state.reference)
        if order is None:
            continue
        if not await ctx.upstreams.orders.record_erp_state(order.id, state.external_id, state.state):
            continue
        changed += 1
        if state.state is OrderState.FULFILLED:
            await _ship(ctx, order)
        elif state.state is OrderState.CANCELLED:
            await _cancel(ctx, order)
    return changed


async def _move(ctx: ResolverContext, order: OrderRecord, changes: list[FulfillmentChange], why: str) -> bool:
    if not changes:
        return False
    try:
        done = await ctx.upstreams.orders.transition(
            order.id, changes, lifecycle.order_status, "erp", why, ctx.now(), tell_erp=False
        )
    except Refused as refused:  # staff moved it meanwhile: the next catch-up sees it again
        log.warning("order %s: the ERP's change could not be applied: %s", order.id, refused.message)
        return False
    await transitioned(ctx, done)
    return True


async def _ship(ctx: ResolverContext, order: OrderRecord) -> None:
    for _ in range(2):  # a pickup is made ready, then picked up
        fulfillments = await ctx.upstreams.orders.fulfillments_by_order_ids([order.id])
        changes = []
        for f in fulfillments:
            path = _SHIPPED.get(f.mode, ())
            nxt = next((s for s in path if lifecycle.can_move(f.mode, f.status, s)), None)
            if nxt is not None:
                changes.append(FulfillmentChange(f.id, f.status, nxt, lifecycle.stock_effect(nxt)))
        if not await _move(ctx, order, changes, "shipped in the ERP"):
            return


async def _cancel(ctx: ResolverContext, order: OrderRecord) -> None:
    fulfillments = await ctx.upstreams.orders.fulfillments_by_order_ids([order.id])
    cancelled = FulfillmentStatus.CANCELLED
    changes = [
        FulfillmentChange(f.id, f.status, cancelled, lifecycle.stock_effect(cancelled))
        for f in fulfillments
        if lifecycle.can_move(f.mode, f.status, cancelled)
    ]
    if await _move(ctx, order, changes, "cancelled in the ERP"):
        [current] = await ctx.upstreams.orders.orders_by_ids([order.id])
        await refunds.refund(ctx, current, None, f"cancel:order:{order.id}", None)
