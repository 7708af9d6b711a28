"""Refunds: money goes back through the payment it came from.

A pay-at-store payment was never taken by the gateway: a cancellation owes nothing, and a
return of it is refunded at the till, as is a till sale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.commerce import OrderRecord, PaymentMethod, PaymentStatus, RefundStatus
from adapters.ports import PaymentDeclined, PaymentUnavailable, RefundRequest

if TYPE_CHECKING:
    from resolvers.context import ResolverContext


async def refund(
    ctx: ResolverContext,
    record: OrderRecord,
    amount_minor: int | None,
    key: str,
    return_id: int | None,
) -> RefundStatus:
    """Give money back through the payment it came from (`None`: all that is left of it).

    A pay-at-store payment was never taken by the gateway: a cancellation owes nothing, and a
    return is refunded at the till."""
    payments = await ctx.upstreams.orders.payments_by_order_ids([record.id])
    payment = next((p for p in payments if p.status is not PaymentStatus.VOIDED), None)
    if payment is None or payment.status is PaymentStatus.PENDING:
        if amount_minor and return_id is not None:
            await ctx.upstreams.orders.record_refund(
                None, return_id, amount_minor, RefundStatus.REFUNDED
            )
            return RefundStatus.REFUNDED
        return RefundStatus.NONE
    left = payment.amount_minor - payment.refunded_minor
    amount = left if amount_minor is None else min(amount_minor, left)
    if amount <= 0:
        status = RefundStatus.NONE if amount_minor is None else RefundStatus.FAILED
        if return_id is not None:
            await ctx.upstreams.orders.record_refund(None, return_id, 0, status)
        return status
    request = RefundRequest(
        method=payment.method,
        provider=payment.provider,
        reference=payment.reference,
        amount_minor=amount,
        currency_code=payment.currency_code,
        idempotency_key=key,
    )
    try:
        if payment.method is PaymentMethod.PAY_AT_STORE or payment.provider == "store":
            status = RefundStatus.REFUNDED  # a till sale: the till gives the money back
        else:
            await ctx.upstreams.payments.refund(request)
            status = RefundStatus.REFUNDED
    except (PaymentDeclined, PaymentUnavailable):
        status = RefundStatus.FAILED
    await ctx.upstreams.orders.record_refund(payment.id, return_id, amount, status)
    ctx.loaders.payments_by_order_id.clear(record.id)
    return status
