"""The sweep that keeps promises honest: nothing stays reserved, pending or kept forever.

Run by the gateway every `GATEWAY_RESERVATION_SWEEP_SECONDS`. Each step is idempotent and safe
to run next to live traffic (and next to another gateway process's sweep): every release is a
DELETE ... RETURNING, so a hold is given back exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.errors import UpstreamError
from adapters.ports.orders import PaymentDraft
from resolvers import buyers, erp_states, lifecycle, loyalty, tenders
from resolvers.checkout import CLAIM, amountdue_now
from resolvers.events import CartChanged
from resolvers.inventory import stock_moved
from resolvers.orders import expire_hold, order_changed

if TYPE_CHECKING:
    from adapters.commerce import OrderRecord
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
    checkouts_completed: int = 0  # stuck checkouts the card provider had charged: confirmed
    erp_states_changed: int = 0  # orders whose state in the ERP changed (shipped, cancelled there)


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

    stale = await orders.stale_checkouts(now - ctx.policy.checkout_stale)
    outcomes = [await finish_checkout(ctx, order) for order in stale]
    completed, undone = outcomes.count(True), outcomes.count(False)  # None: a retry has it

    forgotten = await orders.delete_attempts(now - ctx.policy.idempotency_ttl)
    caught_up = await loyalty.catch_up(ctx)
    try:
        erp_changed = await erp_states.catch_up(ctx)
    except UpstreamError as exc:  # the ERP is down: its states wait for the next sweep
        log.warning("order states not read from the ERP: %s", exc)
        erp_changed = 0
    return SweepReport(released, len(holds), deleted, undone, forgotten, caught_up, completed, erp_changed)


async def finish_checkout(ctx: ResolverContext, order: OrderRecord) -> bool | None:
    """A checkout stuck in PENDING_PAYMENT: its process died between allocating and confirming.
    If the card provider charged the order's key for all that is due, the customer paid: the
    order is confirmed with that charge (True). Otherwise whatever any tender took under the
    order's keys is voided and the stock released. Each step is idempotent, and safe next to
    the client's own retry of the checkout: the sweeper claims the order before it asks the
    provider anything, and leaves it (None) while a retry holds it; a retry waits for the
    sweeper's claim the same way (checkout._resume)."""
    now = ctx.now()
    orders = ctx.upstreams.orders
    if not await orders.claim_checkout(order.id, "sweeper", now + CLAIM, now):
        return None
    charge = await ctx.upstreams.payments.charged(order.payment_key)
    # Only a card that paid it all: a split payment's other tenders are voided with the rest.
    if charge is not None and charge.amount_minor == await amountdue_now(ctx, order):
        taken = PaymentDraft(
            charge.method, charge.provider, charge.reference, charge.amount_minor, charge.status
        )
        till = order.cart_id is None  # a till sale; every other order has its cart
        confirmed = await orders.confirm_order(
            order.id, [taken], lifecycle.INITIAL, lifecycle.order_status, ctx.principal.subject, now,
            push_to_erp=buyers.pushes_to_erp(ctx, till=till),
        )
        await stock_moved(ctx, confirmed.levels, "SALE")
        if confirmed.order.cart_id is not None:
            await ctx.events.publish(CartChanged(confirmed.order.cart_id, "COMPLETED", now))
        await order_changed(ctx, confirmed.order, None)
        log.warning("completed checkout of order %s, charged as %s", order.id, charge.reference)
        return True
    await tenders.void_all(ctx, order.payment_key)
    levels = await orders.abandon_order(
        order.id, "CHECKOUT_EXPIRED", "the checkout did not finish; start again", now, now
    )
    await stock_moved(ctx, levels, "RELEASE")
    log.warning("undid checkout of order %s, pending since %s", order.id, order.created_at)
    return False
