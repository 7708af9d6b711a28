"""Refunds: money goes back through the payments it came from.

An order paid by several tenders (resolvers/tenders.py) is refunded across them in one fixed
order, `tenders.REFUND_ORDER`: card first, then gift card, then what the till took, then
loyalty points; each up to what is left of it. So a partial return of an order paid partly in
points gives money back first, and points (as a REFUND ledger entry) only once the money paid
is all back. The same order every time: the split of a refund never depends on timing.

A pay-at-store payment was never taken by the gateway: a cancellation owes nothing of it, and
a return of it is refunded at the till, as is a till sale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.commerce import OrderRecord, PaymentMethod, PaymentRecord, PaymentStatus, RefundStatus
from adapters.ports.payments import PaymentDeclined, PaymentUnavailable, RefundRequest
from resolvers.events import LoyaltyChanged
from resolvers.tenders import REFUND_ORDER

if TYPE_CHECKING:
    from resolvers.context import ResolverContext


def refund_order(payments: list[PaymentRecord]) -> list[PaymentRecord]:
    """The payments a refund goes back to, in the order it does (see the module's doc)."""
    taken = [p for p in payments if p.status not in (PaymentStatus.VOIDED, PaymentStatus.PENDING)]
    return sorted(taken, key=lambda p: (REFUND_ORDER.index(p.method), p.id))


def split_refund(payments: list[PaymentRecord], amount_minor: int | None) -> list[tuple[PaymentRecord, int]]:
    """(payment, amount) for a refund of `amount_minor` (None: all that is left of each)."""
    split = []
    wanted = amount_minor
    for payment in refund_order(payments):
        left = payment.amount_minor - payment.refunded_minor
        amount = left if wanted is None else min(wanted, left)
        if amount <= 0:
            continue
        split.append((payment, amount))
        if wanted is not None:
            wanted -= amount
    return split


async def refund(
    ctx: ResolverContext,
    record: OrderRecord,
    amount_minor: int | None,
    key: str,
    return_id: int | None,
) -> RefundStatus:
    """Give `amount_minor` back (`None`: all that is left) across the order's payments."""
    orders = ctx.upstreams.orders
    payments = await orders.payments_by_order_ids([record.id])
    if not refund_order(payments):
        # Nothing taken by the gateway: paid (if at all) at the till, given back there.
        if amount_minor and return_id is not None:
            await orders.record_refund(None, return_id, amount_minor, RefundStatus.REFUNDED)
            return RefundStatus.REFUNDED
        return RefundStatus.NONE
    split = split_refund(payments, amount_minor)
    if not split:
        status = RefundStatus.NONE if amount_minor is None else RefundStatus.FAILED
        if return_id is not None:
            await orders.record_refund(None, return_id, 0, status)
        return status
    statuses = []
    for payment, amount in split:
        # One key per payment; an order with one payment keeps the key it always had.
        tender_key = key if len(payments) == 1 else f"{key}:payment:{payment.id}"
        status = await _refund_one(ctx, payment, amount, tender_key)
        statuses.append(status)
        await orders.record_refund(payment.id, None, amount, status)
        points_back = status is RefundStatus.REFUNDED and payment.method is PaymentMethod.LOYALTY_POINTS
        if points_back and record.member_id is not None:
            await ctx.events.publish(LoyaltyChanged(record.member_id, "REFUND", ctx.now()))
    overall = RefundStatus.FAILED if RefundStatus.FAILED in statuses else RefundStatus.REFUNDED
    if return_id is not None:
        await orders.record_refund(None, return_id, 0, overall)
    ctx.loaders.payments_by_order_id.clear(record.id)
    return overall


async def _refund_one(ctx: ResolverContext, payment: PaymentRecord, amount: int, key: str) -> RefundStatus:
    if payment.method is PaymentMethod.PAY_AT_STORE or payment.provider == "store":
        return RefundStatus.REFUNDED  # a till sale: the till gives the money back
    request = RefundRequest(
        method=payment.method,
        provider=payment.provider,
        reference=payment.reference,
        amount_minor=amount,
        currency_code=payment.currency_code,
        idempotency_key=key,
    )
    try:
        await ctx.upstreams.payments.refund(request)
    except (PaymentDeclined, PaymentUnavailable):
        return RefundStatus.FAILED
    return RefundStatus.REFUNDED
