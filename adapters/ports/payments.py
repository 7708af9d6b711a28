"""Payment ports: charging and refunding a tender (card, gift card, loyalty points, pay at store).

Gift cards are a balance the gateway keeps (`GiftCardSource`); points are paid from the loyalty
ledger (adapters/ports/loyalty.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from adapters.commerce import PaymentMethod, PaymentStatus


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    method: PaymentMethod
    amount_minor: int
    currency_code: str
    idempotency_key: str  # the same key never charges twice
    card_token: str | None = None
    gift_card_code: str | None = field(default=None, repr=False)
    description: str = ""
    member_id: str | None = None  # whose loyalty points pay (LOYALTY_POINTS)
    order_id: int | None = None  # the order it pays (a points SPEND entry names it)
    # A gift card paying part of a split: it takes what its balance covers when charged, at most
    # `amount_minor` (the Charge says how much), rather than declining for less.
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Charge:
    method: PaymentMethod
    provider: str
    reference: str
    amount_minor: int
    currency_code: str
    status: PaymentStatus


@dataclass(frozen=True, slots=True)
class RefundRequest:
    method: PaymentMethod
    provider: str
    reference: str | None  # the charge's reference
    amount_minor: int
    currency_code: str
    idempotency_key: str


class PaymentDeclined(Exception):
    """The provider said no (a declined card, a gift card without the balance)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PaymentUnavailable(Exception):
    """The provider could not be reached or failed; the outcome is unknown."""


class PaymentGateway(Protocol):
    async def charge(self, request: ChargeRequest) -> Charge:
        """Take the money, once per idempotency key; raise `PaymentDeclined` or
        `PaymentUnavailable`."""
        ...

    async def void(self, idempotency_key: str) -> None:
        """Cancel whatever a charge with this key did, if anything (recovering a checkout)."""
        ...

    async def charged(self, idempotency_key: str) -> Charge | None:
        """The card charge taken under this key and not voided, if the provider knows one
        (finishing a checkout whose process died after charging)."""
        ...

    async def refund(self, request: RefundRequest) -> str:
        """Give money back against a charge, once per idempotency key; the refund's reference."""
        ...

    async def spendable(self, request: ChargeRequest) -> int | None:
        """How much of `request.amount_minor` a stored-value tender (loyalty points, a gift
        card) can pay: its balance plus what a charge under the request's key already took, so
        a resumed checkout plans the same split. None for tenders without a balance (cards,
        pay at store). Raise `PaymentDeclined` for a gift card code nobody issued."""
        ...


class GiftCardSource(Protocol):
    async def issue(self, amount_minor: int, currency_code: str, now: datetime) -> tuple[str, int]:
        """A new gift card: its code (shown once) and balance."""
        ...

    async def charge(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> str:
        """Take from the card, once per key; decline (`currency_mismatch`) a card that holds
        another currency than `currency_code`: its balance is never converted."""
        ...

    async def charge_up_to(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> tuple[str, int]:
        """Take what the balance covers, at most `amount_minor`, in one step (checkouts racing for
        one card each take what is left); the charge's reference and what it took. Once per key:
        a repeated key answers what the first call took. Declined like `charge` for another
        currency."""
        ...

    async def credit(self, reference: str, amount_minor: int, key: str, now: datetime) -> str: ...

    async def reverse(self, key: str, now: datetime) -> None: ...

    async def balance(self, code: str) -> int | None:
        """What is left on the card with this code (None: no such card)."""
        ...

    async def balance_with_currency(self, code: str) -> tuple[int, str] | None:
        """What is left on the card with this code and the currency it holds (None: no such card)."""
        ...

    async def charged(self, key: str) -> int:
        """What the charge made with `key` took (0: none was made)."""
        ...
