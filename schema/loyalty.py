"""A member's loyalty account: points, tier and the ledger behind them. Personal: no cache topics."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.records import LoyaltyEntry as LoyaltyEntryRecord
from resolvers import loyalty
from resolvers.loyalty import LoyaltyAccount as LoyaltyAccountRecord
from resolvers.pagination import PageArgs
from schema.batch import batch, each, one
from schema.common import DateTime, PageInfo
from schema.orders import Order


async def _order(ctx: Any, entry: LoyaltyEntryRecord) -> Any:
    return None if entry.order_id is None else await ctx.loaders.order_by_id.load(entry.order_id)


async def _history(
    ctx: Any, account: LoyaltyAccountRecord, first: int | None = None, after: str | None = None
) -> Any:
    return await loyalty.history(ctx, account.member_id, PageArgs(first=first, after=after))


@strawberry.enum(description="Why a member's points changed.")
class LoyaltyEntryKind(Enum):
    EARN = "EARN"  # an order was completed
    REVERSE = "REVERSE"  # a return took back what it had earned
    SPEND = "SPEND"  # points paid for an order
    REFUND = "REFUND"  # points given back (a refund, or a checkout that did not go through)
    SHORTFALL = "SHORTFALL"  # a return's reversal the balance could not cover, written off


@strawberry.type
class LoyaltyEntry:
    points: int = strawberry.field(description="Positive when earned, negative when spent.")
    created_at: DateTime

    @strawberry.field
    def kind(root: LoyaltyEntryRecord) -> LoyaltyEntryKind:
        return LoyaltyEntryKind(root.kind)

    @strawberry.field(metadata=batch(each(_order)))
    async def order(root: LoyaltyEntryRecord, info: Info) -> Order | None:
        return await one(each(_order), info, root)  # type: ignore[no-any-return]


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

    @strawberry.field(description="Every change, newest first.", metadata=batch(each(_history)))
    async def history(
        root: LoyaltyAccountRecord, info: Info, first: int | None = None, after: str | None = None
    ) -> LoyaltyEntryConnection:
        return await one(each(_history), info, root, first=first, after=after)  # type: ignore[no-any-return]
