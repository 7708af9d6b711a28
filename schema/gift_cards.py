"""Gift cards: issued by staff, spent as a payment method at checkout or at a till."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from resolvers import gift_cards
from resolvers.gift_cards import GiftCardResult
from schema.common import Money, UserError
from schema.permissions import CanIssueGiftCards, WithinGiftCardLookupLimit


@strawberry.input
class GiftCardIssueInput:
    amount: Decimal


@strawberry.type
class IssuedGiftCard:
    code: str = strawberry.field(description="Shown once: the gateway keeps only its hash.")
    balance: Money


@strawberry.type
class GiftCardIssuePayload:
    gift_card: IssuedGiftCard | None
    user_errors: list[UserError]


@strawberry.type(description="A gift card's balance, looked up by its code.")
class GiftCardBalance:
    balance: Money | None = strawberry.field(
        description="What is left on the card, in its currency; null when no card has this code."
    )


@strawberry.type
class GiftCardQuery:
    @strawberry.field(
        description="The balance of a gift card by its code, for anyone who holds the code. "
        "Limited per caller (RATE_LIMITED past it); an unknown code answers like a known one, "
        "with a null balance.",
        permission_classes=[WithinGiftCardLookupLimit],
    )
    async def gift_card_balance(self, info: Info, code: str) -> GiftCardBalance:
        balance = await gift_cards.gift_card_balance(info.context, code)
        return GiftCardBalance(balance=balance)  # type: ignore[arg-type]


@strawberry.type
class GiftCardMutation:
    @strawberry.mutation(
        description="Issue a gift card (staff, or an integration with the gift_cards:write scope).",
        permission_classes=[CanIssueGiftCards],
    )
    async def gift_card_issue(self, info: Info, input: GiftCardIssueInput) -> GiftCardIssuePayload:
        result: GiftCardResult = await gift_cards.issue_gift_card(info.context, input.amount)
        return GiftCardIssuePayload(
            gift_card=result.gift_card,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )
