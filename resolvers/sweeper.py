"""The sweep that keeps promises honest: nothing stays reserved, pending or kept forever.

Run by the gateway every `GATEWAY_RESERVATION_SWEEP_SECONDS`. Each step is idempotent and safe
to run next to live traffic (and next to another gateway process's sweep): every release is a
DELETE ... RETURNING, so a hold is given back exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvers import loyalty, tenders
from resolvers.events import CartChanged
from resolvers.inventory import stock_moved
from resolvers.orders import expire_hold

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

log = logging.getLogger("omnigate.sweeper")


@dataclass(frozen=True, slots=True)
class SweepReport:
    holds_released: int  # stock levels whose expired cart holds were given back
    reservations_expired: int  # reserve-in-store holds let go
    carts_deleted: int
    checkouts_undone: int
    keys_forgotten: int
    points_caught_up: int = 0  # completed orders whose loyalty points were written late


async def sweep(ctx: ResolverContext) -> SweepReport:
    now = ctx.now()
    carts, orders = ctx.upstreams.carts, ctx.upstreams.orders
    touched, levels = await carts.release_expired_holds(now)
    await stock_moved(ctx, levels, "RELEASE")
    for cart_id in touched:
        await ctx.events.publish(CartChanged(cart_id, "HOLDS_EXPIRED", now))
    released = len(levels)

    holds = await orders.expired_holds(now)
    for hold in holds:
        await expire_hold(ctx, hold)

    deleted, levels = await carts.delete_expired_carts(now)
    await stock_moved(ctx, levels, "RELEASE")

    # A checkout stuck in PENDING_PAYMENT: its process died between allocating and confirming.
    # Whatever each tender did under the order's keys is voided, then the stock is released.
    stale = await orders.stale_checkouts(now - ctx.policy.checkout_stale)
    for order in stale:
        await tenders.void_all(ctx, order.payment_key)
        levels = await orders.abandon_order(
            order.id, "CHECKOUT_EXPIRED", "the checkout did not finish; start again", now, now
        )
        await stock_moved(ctx, levels, "RELEASE")
        log.warning("undid checkout of order %s, pending since %s", order.id, order.created_at)

    forgotten = await orders.delete_attempts(now - ctx.policy.idempotency_ttl)
    caught_up = await loyalty.catch_up(ctx)
    return SweepReport(released, len(holds), deleted, len(stale), forgotten, caught_up)
