"""Gift cards: issued by staff, spent as a payment method at checkout or at a till."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from resolvers import gift_cards
from resolvers.gift_cards import GiftCardResult
from schema.common import Money, UserError
from schema.permissions import CanIssueGiftCards


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
