"""Loyalty, one balance on every channel: points earned when an order is completed (store sales
included), taken back on returns, spent as a payment method. Every change is a ledger entry
keyed by the order event that made it, so a repeated event never credits twice; the balance is
the ledger's sum and the tier comes from the rolling 12-month spend.

`LoyaltyProgram` (resolvers/loyalty_program.py) holds what retailers change: earn rate, tiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.commerce import OrderRecord, OrderStatus, PaymentMethod, PaymentStatus, ReturnRecord
from adapters.records import LoyaltyEntry
from resolvers.events import LoyaltyChanged
from resolvers.pagination import Connection, PageArgs, keyset_connection

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

COMPLETED = frozenset({OrderStatus.FULFILLED, OrderStatus.PICKED_UP, OrderStatus.DELIVERED})


@dataclass(frozen=True, slots=True)
class LoyaltyAccount:
    member_id: str
    points: int
    tier: str


async def _paid_minor(ctx: ResolverContext, order: OrderRecord) -> int:
    """What the customer paid (net of refunds) in money, not in points: what earns."""
    found = await ctx.loaders.payments_by_order_id.load(order.id)
    return sum(
        p.amount_minor - p.refunded_minor for p in found if p.method is not PaymentMethod.LOYALTY_POINTS
    )


async def order_changed(ctx: ResolverContext, order: OrderRecord) -> None:
    """Points for a completed and paid order, once (the entry's key is the order's completion).
    An order still to be paid at the store earns nothing, nor counts toward the tier, until
    staff take the payment (`fulfillmentUpdateStatus(payment:)`)."""
    ledger = ctx.upstreams.loyalty
    if ledger is None or order.member_id is None or order.status not in COMPLETED:
        return
    if any(p.status is PaymentStatus.PENDING for p in await ctx.loaders.payments_by_order_id.load(order.id)):
        return
    paid = await _paid_minor(ctx, order)
    points = ctx.policy.loyalty.points_for(paid, order.currency_code)
    spend = ctx.policy.loyalty.shop_minor(paid, order.currency_code)  # tiers count the shop's currency
    if await ledger.record(
        order.member_id, f"order:{order.id}:earn", "EARN", points, spend, order.id, ctx.now()
    ):
        await ctx.events.publish(LoyaltyChanged(order.member_id, "EARN", ctx.now()))


async def order_returned(ctx: ResolverContext, order: OrderRecord, returned: ReturnRecord) -> None:
    """A return takes back the points its refund had earned (never more than the order earned)."""
    ledger = ctx.upstreams.loyalty
    if ledger is None or order.member_id is None or not returned.refund_minor:
        return
    entries = await ledger.entries_of_order(order.id)
    # What the order earned and no return has taken back yet (its SPEND, REFUND and SHORTFALL
    # entries name it too, but they are the payment's, not what it earned).
    earned = sum(e.points for e in entries if e.kind in ("EARN", "REVERSE"))
    if not any(e.kind == "EARN" for e in entries):
        return  # not completed yet: the earn will count the refund out
    points = min(ctx.policy.loyalty.points_for(returned.refund_minor, order.currency_code), earned)
    # Never below zero: what the balance cannot give back (it was spent) is written off as a
    # SHORTFALL entry next to the REVERSE, in the ledger for the member and the retailer to see.
    if await ledger.take_back(
        order.member_id, f"return:{returned.id}:reverse", points,
        -ctx.policy.loyalty.shop_minor(returned.refund_minor, order.currency_code), order.id, ctx.now(),
    ):  # fmt: skip
        await ctx.events.publish(LoyaltyChanged(order.member_id, "REVERSE", ctx.now()))


async def catch_up(ctx: ResolverContext, limit: int = 200) -> int:
    """Points of completed orders that a crash kept from the ledger (the sweeper runs this);
    the entries' keys make it safe next to live traffic."""
    ledger = ctx.upstreams.loyalty
    if ledger is None:
        return 0
    found = await ledger.orders_without_points(sorted(s.value for s in COMPLETED), limit)
    for order in found:
        await order_changed(ctx, order)
    return len(found)


async def account(ctx: ResolverContext, member_id: str) -> LoyaltyAccount:
    ledger = ctx.upstreams.loyalty
    if ledger is None:
        return LoyaltyAccount(member_id, 0, ctx.policy.loyalty.base_tier)
    balances = dict(await ledger.balances([member_id]))
    spend = await ledger.spend_since(member_id, ctx.now() - ctx.policy.loyalty.window)
    tier = ctx.policy.loyalty.tier_for(spend, ctx.policy.currency_code)
    return LoyaltyAccount(member_id, balances.get(member_id, 0), tier)


async def history(ctx: ResolverContext, member_id: str, page: PageArgs) -> Connection[LoyaltyEntry]:
    """The member's ledger, newest first."""
    ledger = ctx.upstreams.loyalty

    def parse(value: object) -> int:
        if type(value) is not int:
            raise ValueError(value)
        return value

    async def fetch(window: object) -> list[LoyaltyEntry]:
        if ledger is None:
            return []
        return await ledger.entry_page(member_id, window)  # type: ignore[arg-type]

    return await keyset_connection(
        page, ctx.policy, "LOYALTY_ID", parse, lambda e: (e.id, e.id), fetch, reverse=True
    )
