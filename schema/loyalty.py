"""A member's loyalty account: points, tier and the ledger behind them. Personal: no cache topics."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from adapters.records import LoyaltyEntry as LoyaltyEntryRecord
from resolvers import loyalty
from resolvers.loyalty import LoyaltyAccount as LoyaltyAccountRecord
from resolvers.pagination import PageArgs
from schema.common import DateTime, PageInfo
from schema.orders import Order


@strawberry.enum(description="Why a member's points changed.")
class LoyaltyEntryKind(Enum):
    EARN = "EARN"  # an order was completed
    REVERSE = "REVERSE"  # a return took back what it had earned
    SPEND = "SPEND"  # points paid for an order
    REFUND = "REFUND"  # points given back (a refund, or a checkout that did not go through)


@strawberry.type
class LoyaltyEntry:
    points: int = strawberry.field(description="Positive when earned, negative when spent.")
    created_at: DateTime

    @strawberry.field
    def kind(root: LoyaltyEntryRecord) -> LoyaltyEntryKind:
        return LoyaltyEntryKind(root.kind)

    @strawberry.field
    async def order(root: LoyaltyEntryRecord, info: Info) -> Order | None:
        if root.order_id is None:
            return None
        return await info.context.loaders.order_by_id.load(root.order_id)  # type: ignore[no-any-return]


@strawberry.type
class LoyaltyEntryEdge:
    cursor: str
    node: LoyaltyEntry


@strawberry.type
class LoyaltyEntryConnection:
    edges: list[LoyaltyEntryEdge]
    nodes: list[LoyaltyEntry]
    page_info: PageInfo


@strawberry.type(description="One balance on every channel: web, app and store till alike.")
class LoyaltyAccount:
    points: int = strawberry.field(description="The balance: the sum of the history.")
    tier: str = strawberry.field(description="From the spend of the last 12 months.")

    @strawberry.field(description="Every change, newest first.")
    async def history(
        root: LoyaltyAccountRecord, info: Info, first: int | None = None, after: str | None = None
    ) -> LoyaltyEntryConnection:
        return await loyalty.history(  # type: ignore[return-value]
            info.context, root.member_id, PageArgs(first=first, after=after)
        )
