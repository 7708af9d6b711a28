"""Segments: rules over the unified profile (tier, 12-month spend, last purchase, channels used,
categories bought, preferred store, consent), evaluated where the data is (in SQL); the members
in a segment for marketing staff, and a member's own segments for personalization."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.ports.marketing import SegmentCodeTaken, SegmentRecord, SegmentRules, TierBands
from adapters.records import MemberRecord, minor_units
from resolvers.errors import UpstreamUnavailable
from resolvers.pagination import Connection, Edge, PageArgs, keyset_connection
from resolvers.privacy import CONSENT_CHANNELS
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.ports.marketing import SegmentStore
    from resolvers.context import ResolverContext

CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_LIST = 50  # values in one rule (categories, stores, tiers, channels)
MAX_DAYS = 3650
CHANNELS = ("WEB", "MOBILE_APP", "STORE", "PARTNER")


@dataclass(frozen=True, slots=True)
class SegmentResult:
    segment: SegmentRecord | None
    user_errors: list[UserError]


def _segments(ctx: ResolverContext) -> SegmentStore:
    if ctx.upstreams.segments is None:
        raise UpstreamUnavailable("no segment store is configured")
    return ctx.upstreams.segments


def tier_bands(ctx: ResolverContext) -> TierBands:
    """The loyalty program's tiers as the SQL evaluates them (spend in minor units)."""
    program = ctx.policy.loyalty
    scale = 10 ** minor_units(program.currency)
    return TierBands(
        tuple((name, floor * scale) for name, floor in program.tiers), program.base_tier, program.window
    )


async def segments_by_ids(ctx: ResolverContext, ids: list[int]) -> list[SegmentRecord | None]:
    found = {s.id: s for s in await _segments(ctx).segments_by_ids(ids)}
    return [found.get(i) for i in ids]


async def segment_list(ctx: ResolverContext, args: PageArgs) -> Connection[SegmentRecord]:
    return await keyset_connection(
        args, ctx.policy, "segments", int, lambda s: (s.id, s.id), _segments(ctx).segment_page
    )


def _rule_errors(ctx: ResolverContext, rules: SegmentRules) -> list[UserError]:
    errors = []
    path = ["input", "rules"]
    known_tiers = {name for name, _ in ctx.policy.loyalty.tiers} | {ctx.policy.loyalty.base_tier}
    lists = {
        "tiers": rules.tiers, "channelsUsed": rules.channels_used,
        "categoriesBought": rules.categories_bought, "preferredStoreIds": rules.preferred_location_ids,
    }  # fmt: skip
    for name, values in lists.items():
        if len(values) > MAX_LIST:
            errors.append(UserError([*path, name], f"at most {MAX_LIST} values", "INVALID"))
    unknown = [t for t in rules.tiers if t not in known_tiers]
    if unknown:
        errors.append(UserError([*path, "tiers"], f"unknown tiers: {', '.join(sorted(unknown))}", "INVALID"))
    for name, days in (
        ("purchasedWithinDays", rules.purchased_within_days),
        ("lapsedDays", rules.lapsed_days),
    ):
        if days is not None and not 0 <= days <= MAX_DAYS:
            errors.append(UserError([*path, name], f"between 0 and {MAX_DAYS} days", "INVALID"))
    for name, spend in (("minSpend", rules.min_spend_minor), ("maxSpend", rules.max_spend_minor)):
        if spend is not None and not 0 <= spend < 2**53:
            errors.append(UserError([*path, name], "a spend of at least 0", "INVALID"))
    if any(len(c) > 120 for c in rules.categories_bought):
        errors.append(UserError([*path, "categoriesBought"], "at most 120 characters each", "INVALID"))
    assert all(c in CHANNELS for c in rules.channels_used), "the schema's Channel enum"
    assert rules.consent_channel is None or rules.consent_channel in CONSENT_CHANNELS
    return errors


async def save_segment(
    ctx: ResolverContext, segment_id: int | None, code: str, name: str, rules: SegmentRules
) -> SegmentResult:
    """Create a segment (no id) or replace one's code, name and rules."""
    errors = []
    if not CODE.fullmatch(code):
        errors.append(UserError(["input", "code"], "1 to 64 letters, digits, - or _", "INVALID"))
    if not 1 <= len(name) <= 255:
        errors.append(UserError(["input", "name"], "1 to 255 characters", "INVALID"))
    errors += _rule_errors(ctx, rules)
    for index, location_id in enumerate(rules.preferred_location_ids):
        if await ctx.loaders.location_by_id.load(location_id) is None:
            path = ["input", "rules", "preferredStoreIds", str(index)]
            errors.append(UserError(path, "no such store", "LOCATION_NOT_FOUND"))
    if errors:
        return SegmentResult(None, errors)
    try:
        saved = await _segments(ctx).save_segment(segment_id, code, name, rules, ctx.now())
    except SegmentCodeTaken:
        return SegmentResult(
            None, [UserError(["input", "code"], "another segment has this code", "SEGMENT_CODE_TAKEN")]
        )
    if saved is None:
        return SegmentResult(None, [UserError(["id"], "no such segment", "SEGMENT_NOT_FOUND")])
    return SegmentResult(saved, [])


async def delete_segment(ctx: ResolverContext, segment_id: int) -> list[UserError]:
    if not await _segments(ctx).delete_segment(segment_id):
        return [UserError(["id"], "no such segment", "SEGMENT_NOT_FOUND")]
    return []


async def segment_members(ctx: ResolverContext, segment: SegmentRecord, args: PageArgs) -> Connection[Any]:
    """The members in the segment now, in key order; a page of them (cursors by member key)."""
    store, now, bands = _segments(ctx), ctx.now(), tier_bands(ctx)

    async def fetch(page: Any) -> list[str]:
        return await store.member_page(segment.rules, now, bands, page)

    keys = await keyset_connection(args, ctx.policy, f"segment:{segment.id}", str, lambda k: (k, 0), fetch)
    records = await ctx.loaders.member_by_key.load_many([e.node for e in keys.edges])
    # A key the directory no longer answers for (a CRM's member gone) is left out of the page.
    edges = [Edge(e.cursor, r) for e, r in zip(keys.edges, records, strict=True) if r is not None]
    return Connection(edges, keys.page_info)


async def member_segments(ctx: ResolverContext, member: MemberRecord) -> list[SegmentRecord]:
    return await _segments(ctx).segments_of_member(member.key, ctx.now(), tier_bands(ctx))
