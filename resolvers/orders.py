"""Order use cases: reading an order, moving its fulfillments, cancelling it, refunding.

Who may do each is decided in the schema's permission classes (`schema/permissions.py`); these
functions assume the caller was allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.commerce import (
    FulfillmentMode,
    FulfillmentRecord,
    FulfillmentStatus,
    OrderLineRecord,
    OrderRecord,
    OrderStatus,
    TillPayment,
)
from adapters.ports.orders import FulfillmentChange, Transitioned
from adapters.ports.refused import Refused
from resolvers import lifecycle, loyalty, refunds
from resolvers.events import OrderStatusChanged
from resolvers.inventory import stock_moved
from resolvers.pagination import Connection, PageArgs, keyset_connection
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

UNPAID_MODES = frozenset({FulfillmentMode.RESERVE})  # paid at the till, if bought at all


@dataclass(frozen=True, slots=True)
class OrderResult:
    order: OrderRecord | None
    user_errors: list[UserError]
    fulfillment: FulfillmentRecord | None = None


# -- reads -----------------------------------------------------------------------------------


async def order(ctx: ResolverContext, order_id: int) -> OrderRecord | None:
    """An order, or None when there is none; a reserve-in-store hold past its time is let go
    first (release on read), so nobody sees a hold that no longer holds."""
    found = await ctx.loaders.order_by_id.load(order_id)
    if found is None or found.status is OrderStatus.PENDING_PAYMENT:
        return None
    now = ctx.now()
    expired = [
        f
        for f in await fulfillments_of(ctx, found.id)
        if f.status is FulfillmentStatus.HELD and f.hold_expires_at and f.hold_expires_at <= now
    ]
    for hold in expired:
        await expire_hold(ctx, hold)
    if expired:
        found = await ctx.loaders.order_by_id.load(order_id)
    return found


async def orders_by_ids(ctx: ResolverContext, ids: list[int]) -> list[OrderRecord | None]:
    found = await ctx.loaders.order_by_id.load_many(ids)
    return [o if o is not None and o.status is not OrderStatus.PENDING_PAYMENT else None for o in found]


async def location_ids_of(ctx: ResolverContext, order_id: int) -> set[int]:
    return {f.location_id for f in await fulfillments_of(ctx, order_id)}


async def fulfillments_of(ctx: ResolverContext, order_id: int) -> list[FulfillmentRecord]:
    return await ctx.loaders.fulfillments_by_order_id.load(order_id)


async def lines_of(ctx: ResolverContext, order_id: int) -> list[OrderLineRecord]:
    return await ctx.loaders.order_lines_by_order_id.load(order_id)


async def lines_of_fulfillment(ctx: ResolverContext, fulfillment: FulfillmentRecord) -> list[OrderLineRecord]:
    return [ln for ln in await lines_of(ctx, fulfillment.order_id) if ln.fulfillment_id == fulfillment.id]


async def fulfillment_of_line(ctx: ResolverContext, line: OrderLineRecord) -> FulfillmentRecord:
    return next(f for f in await fulfillments_of(ctx, line.order_id) if f.id == line.fulfillment_id)


async def returned_quantity(ctx: ResolverContext, line: OrderLineRecord) -> int:
    total = 0
    for ret in await ctx.loaders.returns_by_order_id.load(line.order_id):
        for rl in await ctx.loaders.return_lines_by_return_id.load(ret.id):
            if rl.order_line_id == line.id:
                total += rl.quantity
    return total


async def member_orders(ctx: ResolverContext, member_id: str, page: PageArgs) -> Connection[OrderRecord]:
    """A member's unified history: web, app and till orders alike, newest first. (The members
    issue exposes it as `Member.orders`.)"""

    def parse(value: object) -> int:
        if type(value) is not int:
            raise ValueError(value)
        return value

    async def fetch(window: object) -> list[OrderRecord]:
        rows = await ctx.upstreams.orders.order_page_of_member(member_id, window)  # type: ignore[arg-type]
        for row in rows:
            ctx.loaders.order_by_id.prime(row.id, row)
        return rows

    return await keyset_connection(
        page, ctx.policy, "ORDER_ID", parse, lambda o: (o.id, o.id), fetch, reverse=True
    )


async def location_orders(
    ctx: ResolverContext, location_id: int, statuses: list[FulfillmentStatus] | None, page: PageArgs
) -> Connection[OrderRecord]:
    """The orders a store or warehouse fulfils (a tablet's pickup queue), newest first; with
    `statuses`, those whose fulfillment there is in one of them."""
    wanted = None if statuses is None else [s.value for s in statuses]

    def parse(value: object) -> int:
        if type(value) is not int:
            raise ValueError(value)
        return value

    async def fetch(window: object) -> list[OrderRecord]:
        rows = await ctx.upstreams.orders.order_page_at_location(location_id, wanted, window)  # type: ignore[arg-type]
        for row in rows:
            ctx.loaders.order_by_id.prime(row.id, row)
        return rows

    return await keyset_connection(
        page, ctx.policy, "ORDER_ID", parse, lambda o: (o.id, o.id), fetch, reverse=True
    )


# -- events ----------------------------------------------------------------------------------


def forget_order(ctx: ResolverContext, record: OrderRecord) -> None:
    """Drop what this request cached of an order that just changed."""
    for loader in (
        ctx.loaders.fulfillments_by_order_id,
        ctx.loaders.status_changes_by_order_id,
        ctx.loaders.payments_by_order_id,
        ctx.loaders.returns_by_order_id,
        ctx.loaders.order_lines_by_order_id,
    ):
        loader.clear(record.id)
    ctx.loaders.order_by_id.clear(record.id).prime(record.id, record)


async def order_changed(
    ctx: ResolverContext, record: OrderRecord, fulfillment: FulfillmentRecord | None
) -> None:
    forget_order(ctx, record)
    if fulfillment is not None:
        ctx.loaders.fulfillment_by_id.clear(fulfillment.id).prime(fulfillment.id, fulfillment)
    await ctx.events.publish(
        OrderStatusChanged(
            order_id=record.id,
            status=record.status.value,
            member_id=record.member_id,
            location_ids=tuple(sorted(await location_ids_of(ctx, record.id))),
            fulfillment_id=None if fulfillment is None else fulfillment.id,
            fulfillment_status=None if fulfillment is None else fulfillment.status.value,
            occurred_at=record.updated_at,
        )
    )
    await loyalty.order_changed(ctx, record)


async def transitioned(ctx: ResolverContext, done: Transitioned) -> None:
    await stock_moved(ctx, done.levels, "SALE" if _shipped(done) else "RELEASE")
    if not done.fulfillments:
        await order_changed(ctx, done.order, None)
    for fulfillment in done.fulfillments:
        await order_changed(ctx, done.order, fulfillment)


def _shipped(done: Transitioned) -> bool:
    return any(f.status in lifecycle.HANDED_OVER for f in done.fulfillments)


# -- lifecycle -------------------------------------------------------------------------------


async def update_fulfillment_status(
    ctx: ResolverContext,
    fulfillment_id: int,
    status: FulfillmentStatus,
    till: TillPayment | None = None,
) -> OrderResult:
    """Staff move one fulfillment along its lifecycle; only legal moves are made."""
    fulfillment = await ctx.loaders.fulfillment_by_id.load(fulfillment_id)
    record = None if fulfillment is None else await order(ctx, fulfillment.order_id)
    if fulfillment is None or record is None:
        return OrderResult(
            None, [UserError(["fulfillmentId"], "no such fulfillment", "FULFILLMENT_NOT_FOUND")]
        )
    fulfillment = await ctx.loaders.fulfillment_by_id.load(fulfillment_id)
    assert fulfillment is not None
    if not lifecycle.can_move(fulfillment.mode, fulfillment.status, status):
        message = (
            f"a {fulfillment.mode.value} fulfillment cannot go from "
            f"{fulfillment.status.value} to {status.value}"
        )
        return OrderResult(record, [UserError(["status"], message, "INVALID_TRANSITION")], fulfillment)
    change = FulfillmentChange(fulfillment.id, fulfillment.status, status, lifecycle.stock_effect(status))
    try:
        done = await ctx.upstreams.orders.transition(
            record.id, [change], lifecycle.order_status, ctx.principal.subject, None, ctx.now(),
            till=till,
        )
    except Refused as refused:
        return OrderResult(record, [UserError(["status"], refused.message, refused.code)], fulfillment)
    await transitioned(ctx, done)
    if status is FulfillmentStatus.CANCELLED and fulfillment.mode not in UNPAID_MODES:
        lines = await ctx.upstreams.orders.lines_by_order_ids([record.id])
        amount = sum(ln.quantity * ln.unit_price_minor for ln in lines if ln.fulfillment_id == fulfillment.id)
        await refunds.refund(ctx, done.order, amount, f"cancel:fulfillment:{fulfillment.id}", None)
    return OrderResult(done.order, [], done.fulfillments[0])


async def cancel_order(ctx: ResolverContext, order_id: int, reason: str | None) -> OrderResult:
    """Cancel what has not left yet: every allocation and hold is released, payments refunded."""
    record = await order(ctx, order_id)
    if record is None:
        return OrderResult(None, [UserError(["orderId"], "no such order", "ORDER_NOT_FOUND")])
    if reason is not None and len(reason) > 500:
        return OrderResult(record, [UserError(["reason"], "at most 500 characters", "INVALID")])
    fulfillments = await fulfillments_of(ctx, record.id)
    if not lifecycle.cancellable([f.status for f in fulfillments]):
        message = f"an order that is {record.status.value} cannot be cancelled"
        return OrderResult(record, [UserError(["orderId"], message, "INVALID_TRANSITION")])
    changes = [
        FulfillmentChange(
            f.id,
            f.status,
            FulfillmentStatus.CANCELLED,
            lifecycle.stock_effect(FulfillmentStatus.CANCELLED),
        )
        for f in fulfillments
        if f.status not in lifecycle.ENDED
    ]
    try:
        done = await ctx.upstreams.orders.transition(
            record.id, changes, lifecycle.order_status, ctx.principal.subject, reason, ctx.now()
        )
    except Refused as refused:
        return OrderResult(record, [UserError(["orderId"], refused.message, refused.code)])
    await transitioned(ctx, done)
    await refunds.refund(ctx, done.order, None, f"cancel:order:{record.id}", None)
    return OrderResult(done.order, [])


async def expire_hold(ctx: ResolverContext, hold: FulfillmentRecord) -> None:
    """A reserve-in-store hold ran out: the system lets it go."""
    if not lifecycle.can_move(hold.mode, hold.status, FulfillmentStatus.EXPIRED, system=True):
        return
    change = FulfillmentChange(
        hold.id,
        hold.status,
        FulfillmentStatus.EXPIRED,
        lifecycle.stock_effect(FulfillmentStatus.EXPIRED),
    )
    try:
        done = await ctx.upstreams.orders.transition(
            hold.order_id, [change], lifecycle.order_status, "system", "the hold ran out", ctx.now()
        )
    except Refused:
        return  # staff converted or released it meanwhile
    await transitioned(ctx, done)
