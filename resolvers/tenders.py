"""Split tender: one checkout paid by several tenders, taken in a fixed order.

    1. loyalty points (`PaymentInput.loyaltyPoints`): at most the member's balance and what
       is due
    2. a gift card next to another method (`giftCardCode` with CARD or PAY_AT_STORE): what its
       balance covers when it is charged (another checkout may have spent some of it since the
       customer looked), at most what is left
    3. `PaymentInput.method` pays the rest, whatever the tenders before it took; nothing, when
       they covered it all

Each tender is charged under its own idempotency key derived from the order's payment key
(`<key>:points`, `<key>:gift`; the last tender keeps `<key>` itself), so a retried or resumed
checkout takes each tender once and the sweeper can void every one of them. When a tender is
declined or its provider fails, the tenders taken before it are voided (points come back as
a ledger entry keyed by the spend, a gift card is credited) before the order is abandoned.

Refunds (resolvers/refunds.py) go back in `REFUND_ORDER`: card first, then gift card, then
points, so money paid in money comes back as money and points only once that is all back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from adapters.commerce import OrderRecord, PaymentMethod
from adapters.ports.payments import Charge, ChargeRequest, PaymentDeclined, PaymentUnavailable

if TYPE_CHECKING:
    from resolvers.context import ResolverContext


@dataclass(frozen=True, slots=True)
class PaymentInput:
    """What the shopper pays with: one method, and points paying part of it."""

    method: PaymentMethod
    card_token: str | None = None
    gift_card_code: str | None = None
    loyalty_points: int | None = None  # points paying part, the rest on `method` (below)

    def fingerprint(self, *more: object) -> str:
        """What a request with this key did: a key reused for another request is refused."""
        text = f"{self.method.value}|{self.card_token or ''}|{self.gift_card_code or ''}|{more!r}"
        if self.loyalty_points:
            text += f"|points:{self.loyalty_points}"
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def uses_points(self) -> bool:
        return self.method is PaymentMethod.LOYALTY_POINTS or (self.loyalty_points or 0) > 0


POINTS_KEY, GIFT_KEY = ":points", ":gift"
SUFFIXES = ("", POINTS_KEY, GIFT_KEY)
REFUND_ORDER = (
    PaymentMethod.CARD,
    PaymentMethod.GIFT_CARD,
    PaymentMethod.PAY_AT_STORE,
    PaymentMethod.LOYALTY_POINTS,
)


async def pay(ctx: ResolverContext, order: OrderRecord, payment: PaymentInput, due: int) -> list[Charge]:
    """Take the tenders that pay `due`, in their order, each for what the ones before it left
    (nothing is charged when nothing is due). A gift card next to another method takes what its
    balance covers at the moment it is charged: checkouts racing for one card each take what is
    left of it, and their own method pays the rest, instead of declining on a balance read
    before another checkout spent it. If a tender is declined or its provider fails, every
    tender tried is voided and the error re-raised, so nothing stays taken for an order that is
    not placed."""
    payments = ctx.upstreams.payments
    base = ChargeRequest(
        method=payment.method,
        amount_minor=due,
        currency_code=order.currency_code,
        idempotency_key=order.payment_key,
        card_token=payment.card_token,
        description=f"Order {order.number}",
        member_id=order.member_id,
        order_id=order.id,
    )
    tried: list[str] = []
    charges: list[Charge] = []

    async def take(request: ChargeRequest) -> int:
        tried.append(request.idempotency_key)
        charge = await payments.charge(request)
        if charge.amount_minor > 0:
            charges.append(charge)
        return charge.amount_minor

    left = due
    try:
        if payment.loyalty_points and payment.method is not PaymentMethod.LOYALTY_POINTS and left > 0:
            wanted = replace(
                base,
                method=PaymentMethod.LOYALTY_POINTS,
                amount_minor=min(payment.loyalty_points, left),
                idempotency_key=order.payment_key + POINTS_KEY,
                card_token=None,
            )
            points = await payments.spendable(wanted) or 0
            if points > 0:
                left -= await take(replace(wanted, amount_minor=points))
        if payment.gift_card_code and payment.method is not PaymentMethod.GIFT_CARD and left > 0:
            left -= await take(
                replace(
                    base,
                    method=PaymentMethod.GIFT_CARD,
                    amount_minor=left,
                    idempotency_key=order.payment_key + GIFT_KEY,
                    card_token=None,
                    gift_card_code=payment.gift_card_code,
                    partial=True,
                )
            )
        if left > 0:
            own_code = payment.gift_card_code if payment.method is PaymentMethod.GIFT_CARD else None
            await take(replace(base, amount_minor=left, gift_card_code=own_code))
    except (PaymentDeclined, PaymentUnavailable):
        for key in tried:
            await payments.void(key)
        raise
    return charges


async def void_all(ctx: ResolverContext, payment_key: str) -> None:
    """Undo whatever any tender of the order with this payment key took (a checkout that
    never finished)."""
    for suffix in SUFFIXES:
        await ctx.upstreams.payments.void(payment_key + suffix)
