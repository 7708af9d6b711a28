"""Payments behind one port: cards through a provider adapter, gift cards and loyalty points
held in the gateway's database, and pay-at-store (the till collects it at pickup). A loyalty
point is worth one minor unit of the order's currency. `spendable` tells how much of a split
payment a stored-value tender can take (resolvers/tenders.py plans the split).

`open_payments` is the one factory: a real card processor is one more module with the shape of
`TestCardProvider` (`charge`, `void`, `refund`, idempotent per key) and one more `provider` name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from adapters.commerce import PaymentMethod, PaymentStatus
from adapters.payments.card_test_mode import TestCardProvider
from adapters.ports.loyalty import LoyaltyLedger
from adapters.ports.payments import Charge, ChargeRequest, GiftCardSource, PaymentDeclined, RefundRequest

__all__ = ["CardProvider", "Payments", "TestCardProvider", "open_payments"]

TILL = "store"  # pay-at-store's provider name: money changes hands at the till


class CardProvider(Protocol):
    name: str

    async def charge(self, request: ChargeRequest) -> Charge: ...

    async def void(self, idempotency_key: str) -> None: ...

    async def charged(self, idempotency_key: str) -> Charge | None: ...

    async def refund(self, request: RefundRequest) -> str: ...


@dataclass(slots=True)
class Payments:
    """The PaymentGateway port: one entry, a route per method."""

    cards: CardProvider
    gift_cards: GiftCardSource
    loyalty: LoyaltyLedger | None = None

    async def charge(self, request: ChargeRequest) -> Charge:
        if request.method is PaymentMethod.CARD:
            return await self.cards.charge(request)
        if request.method is PaymentMethod.GIFT_CARD:
            code, key, currency = request.gift_card_code or "", request.idempotency_key, request.currency_code
            if request.partial:
                reference, taken = await self.gift_cards.charge_up_to(
                    code, request.amount_minor, key, _now(), currency
                )
            else:
                reference = await self.gift_cards.charge(code, request.amount_minor, key, _now(), currency)
                taken = request.amount_minor
            return Charge(
                PaymentMethod.GIFT_CARD,
                "gift_card",
                reference,
                taken,
                request.currency_code,
                PaymentStatus.CAPTURED,
            )
        if request.method is PaymentMethod.LOYALTY_POINTS:
            if self.loyalty is None or request.member_id is None:
                raise PaymentDeclined("not_a_member", "loyalty points pay only for a signed-in member")
            reference = await self.loyalty.spend(
                request.member_id,
                request.amount_minor,
                f"payment:{request.idempotency_key}",
                _now(),
                order_id=request.order_id,
            )
            return Charge(
                PaymentMethod.LOYALTY_POINTS, "loyalty", reference, request.amount_minor,
                request.currency_code, PaymentStatus.CAPTURED,
            )  # fmt: skip
        # Pay at store: nothing to take now; the till collects it when the customer comes.
        return Charge(
            PaymentMethod.PAY_AT_STORE,
            TILL,
            f"till:{request.idempotency_key}",
            request.amount_minor,
            request.currency_code,
            PaymentStatus.PENDING,
        )

    async def spendable(self, request: ChargeRequest) -> int | None:
        if request.method is PaymentMethod.GIFT_CARD:
            balance = await self.gift_cards.balance(request.gift_card_code or "")
            if balance is None:
                raise PaymentDeclined("unknown_gift_card", "no gift card has this code")
            taken = await self.gift_cards.charged(request.idempotency_key)
            return min(balance + taken, request.amount_minor)
        if request.method is PaymentMethod.LOYALTY_POINTS:
            if self.loyalty is None or request.member_id is None:
                return 0
            balances = dict(await self.loyalty.balances([request.member_id]))
            taken = await self.loyalty.spent(f"payment:{request.idempotency_key}")
            return max(min(balances.get(request.member_id, 0) + taken, request.amount_minor), 0)
        return None

    async def void(self, idempotency_key: str) -> None:
        await self.cards.void(idempotency_key)
        await self.gift_cards.reverse(idempotency_key, _now())
        if self.loyalty is not None:
            spent = f"payment:{idempotency_key}"
            await self.loyalty.give_back(spent, 0, f"{spent}:void", _now())

    async def charged(self, idempotency_key: str) -> Charge | None:
        # Gift cards and points are in the gateway's own database: recovery voids them instead.
        return await self.cards.charged(idempotency_key)

    async def refund(self, request: RefundRequest) -> str:
        if request.method is PaymentMethod.CARD:
            return await self.cards.refund(request)
        if request.method is PaymentMethod.GIFT_CARD:
            if request.reference is None:
                raise PaymentDeclined("unknown_charge", "no gift card charge to refund")
            return await self.gift_cards.credit(
                request.reference, request.amount_minor, request.idempotency_key, _now()
            )
        if request.method is PaymentMethod.LOYALTY_POINTS and self.loyalty is not None:
            if request.reference is None:
                raise PaymentDeclined("unknown_charge", "no points payment to refund")
            return await self.loyalty.give_back(
                request.reference, request.amount_minor, f"refund:{request.idempotency_key}", _now()
            )
        return f"till:{request.idempotency_key}"  # handed back in cash at the till


def _now() -> datetime:
    return datetime.now(UTC)


def open_payments(
    gift_cards: GiftCardSource,
    *,
    card_provider: str = "test",
    decline_all: bool = False,
    loyalty: LoyaltyLedger | None = None,
    test_ledger: Path | None = None,
    test_latency_s: float = 0.0,
) -> Payments:
    if card_provider != "test":
        raise ValueError(f"unknown card provider {card_provider!r}; the built-in one is 'test'")
    return Payments(
        cards=TestCardProvider(decline_all=decline_all, ledger=test_ledger, latency=test_latency_s),
        gift_cards=gift_cards,
        loyalty=loyalty,
    )
