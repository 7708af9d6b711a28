"""Segments for marketing staff: rules over the unified profile and the members meeting them.
(A member's own segments are `Member.segments`.) Personal: no cache topics."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.commerce import Channel as ChannelRecord
from adapters.ports.marketing import SegmentRecord
from adapters.ports.marketing import SegmentRules as RulesRecord
from adapters.records import Money as MoneyRecord
from adapters.records import minor_units
from resolvers import segments
from resolvers.pagination import PageArgs
from resolvers.user_errors import UserError as UserErrorRecord
from schema.common import Channel, Node, PageInfo, UserError
from schema.ids import decode_id, to_global_id
from schema.members import Member
from schema.permissions import CanManageMarketing, check_marketing
from schema.privacy import ConsentChannel


def _amount(info: Info, minor: int | None) -> Decimal | None:
    if minor is None:
        return None
    return MoneyRecord.from_minor(minor, info.context.policy.loyalty.currency).amount


@strawberry.type(description="What a member meets to be in a segment; every rule given must hold.")
class SegmentRules:
    tiers: list[str] = strawberry.field(description="Loyalty tier (from the last 12 months' spend).")
    purchased_within_days: int | None = strawberry.field(description="Bought in the last N days.")
    lapsed_days: int | None = strawberry.field(description="Has bought, but not in the last N days.")
    categories_bought: list[str]

    @strawberry.field(description="The last 12 months' spend, at least (the shop's currency).")
    def min_spend(root: RulesRecord, info: Info) -> Decimal | None:
        return _amount(info, root.min_spend_minor)

    @strawberry.field(description="The last 12 months' spend, at most.")
    def max_spend(root: RulesRecord, info: Info) -> Decimal | None:
        return _amount(info, root.max_spend_minor)

    @strawberry.field(description="Bought in any of these channels.")
    def channels_used(root: RulesRecord) -> list[Channel]:
        return [ChannelRecord(c) for c in root.channels_used]  # type: ignore[misc]

    @strawberry.field(description="Prefers one of these stores.")
    def preferred_store_ids(root: RulesRecord) -> list[strawberry.ID]:
        return [strawberry.ID(to_global_id("Location", i)) for i in root.preferred_location_ids]

    @strawberry.field(description="Has consented to marketing on this channel.")
    def consent_channel(root: RulesRecord) -> ConsentChannel | None:
        return None if root.consent_channel is None else ConsentChannel(root.consent_channel)


@strawberry.input
class SegmentRulesInput:
    tiers: list[str] | None = None
    min_spend: Decimal | None = None
    max_spend: Decimal | None = None
    purchased_within_days: int | None = None
    lapsed_days: int | None = None
    channels_used: list[Channel] | None = None  # type: ignore[valid-type]
    categories_bought: list[str] | None = None
    preferred_store_ids: list[strawberry.ID] | None = None
    consent_channel: ConsentChannel | None = None

    def to_record(self, currency: str) -> RulesRecord:
        scale = Decimal(10) ** minor_units(currency)

        def minor(amount: Decimal | None) -> int | None:
            return None if amount is None else int((amount * scale).to_integral_value())

        stores = self.preferred_store_ids or []
        return RulesRecord(
            tiers=tuple(self.tiers or ()),
            min_spend_minor=minor(self.min_spend),
            max_spend_minor=minor(self.max_spend),
            purchased_within_days=self.purchased_within_days,
            lapsed_days=self.lapsed_days,
            channels_used=tuple(c.value for c in self.channels_used or ()),
            categories_bought=tuple(self.categories_bought or ()),
            preferred_location_ids=tuple(decode_id(s, "Location", "preferredStoreIds") for s in stores),
            consent_channel=None if self.consent_channel is None else self.consent_channel.value,
        )


@strawberry.input
class SegmentInput:
    code: str = strawberry.field(description="A stable name offers and tools refer to, e.g. GOLD_NEARBY.")
    name: str
    rules: SegmentRulesInput


@strawberry.type
class SegmentMemberEdge:
    cursor: str
    node: Member


@strawberry.type
class SegmentMemberConnection:
    edges: list[SegmentMemberEdge]
    nodes: list[Member]
    page_info: PageInfo


@strawberry.type(
    description="A group of members defined by rules over the unified profile, evaluated when asked."
)
class Segment(Node):
    record = SegmentRecord

    code: str
    name: str
    rules: SegmentRules

    @strawberry.field
    def id(root: SegmentRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Segment", root.id))

    @strawberry.field(description="The members meeting the rules now, by member id (a page of them).")
    async def members(
        root: SegmentRecord, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> SegmentMemberConnection:  # fmt: skip
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await segments.segment_members(info.context, root, args)  # type: ignore[return-value]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[SegmentRecord | None]:
        check_marketing(info)
        return await segments.segments_by_ids(info.context, keys)


@strawberry.type
class SegmentEdge:
    cursor: str
    node: Segment


@strawberry.type
class SegmentConnection:
    edges: list[SegmentEdge]
    nodes: list[Segment]
    page_info: PageInfo


@strawberry.type
class SegmentPayload:
    segment: Segment | None
    user_errors: list[UserError]


@strawberry.type
class SegmentDeletePayload:
    deleted_segment_id: strawberry.ID | None
    user_errors: list[UserError]


def _saved(result: Any) -> SegmentPayload:
    return SegmentPayload(segment=result.segment, user_errors=result.user_errors)


@strawberry.type
class SegmentQuery:
    @strawberry.field(
        permission_classes=[CanManageMarketing], description="Marketing: every segment, oldest first."
    )
    async def segments(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> SegmentConnection:  # fmt: skip
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await segments.segment_list(info.context, args)  # type: ignore[return-value]


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(permission_classes=[CanManageMarketing], description="Marketing: a new segment.")
    async def segment_create(self, info: Info, input: SegmentInput) -> SegmentPayload:
        rules = input.rules.to_record(info.context.policy.loyalty.currency)
        return _saved(await segments.save_segment(info.context, None, input.code, input.name, rules))

    @strawberry.mutation(
        permission_classes=[CanManageMarketing],
        description="Marketing: a segment's code, name and rules replaced.",
    )
    async def segment_update(self, info: Info, id: strawberry.ID, input: SegmentInput) -> SegmentPayload:
        key = decode_id(id, "Segment")
        rules = input.rules.to_record(info.context.policy.loyalty.currency)
        return _saved(await segments.save_segment(info.context, key, input.code, input.name, rules))

    @strawberry.mutation(permission_classes=[CanManageMarketing], description="Marketing: a segment removed.")
    async def segment_delete(self, info: Info, id: strawberry.ID) -> SegmentDeletePayload:
        errors: list[UserErrorRecord] = await segments.delete_segment(info.context, decode_id(id, "Segment"))
        return SegmentDeletePayload(deleted_segment_id=None if errors else id, user_errors=errors)  # type: ignore[arg-type]


__all__ = ["Segment", "SegmentMutation", "SegmentQuery"]
