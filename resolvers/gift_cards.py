"""Issuing gift cards (staff and the back office), and a card's balance by its code (anyone,
rate-limited per caller by the root field's permission); spending them is a payment method."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from adapters.records import Money, minor_units
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_GIFT_CARD_MINOR = 100_000_00  # a gift card above this is a fraud pattern, not a gift


@dataclass(frozen=True, slots=True)
class IssuedGiftCard:
    code: str  # shown once, here; the gateway keeps only its hash
    balance: Money


@dataclass(frozen=True, slots=True)
class GiftCardResult:
    gift_card: IssuedGiftCard | None
    user_errors: list[UserError]


async def issue_gift_card(ctx: ResolverContext, amount: Decimal) -> GiftCardResult:
    currency = ctx.policy.currency_code
    try:
        exact = amount.quantize(Decimal(1).scaleb(-minor_units(currency)))
        valid = exact == amount and amount > 0
    except InvalidOperation:
        valid = False
    if not valid:
        message = f"a positive amount with at most {minor_units(currency)} decimals"
        return GiftCardResult(None, [UserError(["input", "amount"], message, "INVALID")])
    minor = Money(amount, currency).to_minor()
    if minor > MAX_GIFT_CARD_MINOR:
        limit = Money.from_minor(MAX_GIFT_CARD_MINOR, currency).amount
        return GiftCardResult(None, [UserError(["input", "amount"], f"at most {limit}", "INVALID")])
    code, balance = await ctx.upstreams.gift_cards.issue(minor, currency, ctx.now())
    return GiftCardResult(IssuedGiftCard(code, Money.from_minor(balance, currency)), [])


MAX_CODE_LENGTH = 64


async def gift_card_balance(ctx: ResolverContext, code: str) -> Money | None:
    """The balance of the card with this code; None for any code that names no card, malformed
    or not, so that an answer says nothing more than "no such card"."""
    if not 0 < len(code) <= MAX_CODE_LENGTH:
        return None
    found = await ctx.upstreams.gift_cards.balance_with_currency(code.strip())
    if found is None:
        return None
    balance, currency = found
    return Money.from_minor(balance, currency)
