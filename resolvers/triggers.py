"""Behavioral triggers to marketing: a periodic job, at the gateway's clock, looks for the
occasions a marketing tool subscribes to and queues one signed webhook per occasion and endpoint
(outbox, with retries): a member's cart idle with items (`cart.abandoned`), watched stock back
at a store (`stock.back_in_stock`), a pickup ready (`pickup.ready`), a reserve-in-store hold
ending soon (`reserve.expiring`), a member's tier changed (`tier.changed`).

Each occasion fires once. Member-level marketing (abandoned carts, back in stock, tier changes)
goes only to members who consented on some channel, and says on which; service messages about an
order (pickup ready, hold ending) go regardless of consent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from adapters.ports.marketing import Occasion, WebhookEndpointRecord
from resolvers.errors import UpstreamUnavailable
from resolvers.pagination import Connection, PageArgs, keyset_connection
from resolvers.privacy import consents_of
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.ports.marketing import TriggerStore
    from resolvers.context import ResolverContext

EVENT_TYPES = ("cart.abandoned", "stock.back_in_stock", "pickup.ready", "reserve.expiring", "tier.changed")
MARKETING = frozenset({"cart.abandoned", "stock.back_in_stock", "tier.changed"})  # consent needed


@dataclass(frozen=True, slots=True)
class TriggerReport:
    queued: int  # webhooks queued in the outbox
    without_consent: int  # member-level occasions passed over: no consent


def _store(ctx: ResolverContext) -> TriggerStore:
    if ctx.upstreams.triggers is None:
        raise UpstreamUnavailable("no trigger store is configured")
    return ctx.upstreams.triggers


async def _member_part(ctx: ResolverContext, member_key: str) -> tuple[dict[str, Any] | None, bool]:
    """What the webhook says about the member, and whether they consented on any channel."""
    member = await ctx.loaders.member_by_key.load(member_key)
    if member is None:
        return None, False
    [consents] = await consents_of(ctx, [member])
    granted = {c.channel: c.granted for c in consents}
    part = {"key": member.key, "email": member.email, "firstName": member.first_name, "consents": granted}
    return part, any(granted.values())


async def run_triggers(ctx: ResolverContext) -> TriggerReport:
    store, now, policy = _store(ctx), ctx.now(), ctx.policy
    occasions = [
        *await store.idle_carts(now - policy.cart_abandoned_after, now),
        *await store.watched_in_stock(),
        *await store.pickups_ready(),
        *await store.reserve_holds_ending(now, now + policy.reserve_expiring_within),
    ]
    fired = await store.marks([o.key for o in occasions])
    queued = passed = 0
    for occasion in occasions:
        if occasion.key in fired:
            continue
        member, consented = (None, False)
        if occasion.member_key is not None:
            member, consented = await _member_part(ctx, occasion.member_key)
        deliver = consented or occasion.event_type not in MARKETING
        passed += not deliver
        enriched = replace(occasion, data={**occasion.data, "member": member})
        queued += await store.fire(enriched, now, deliver=deliver)
    tiers_queued, tiers_passed = await _tier_changes(ctx, store)
    return TriggerReport(queued + tiers_queued, passed + tiers_passed)


async def _tier_changes(ctx: ResolverContext, store: TriggerStore) -> tuple[int, int]:
    """A member's tier, from their spend in the program's window, against the last one seen
    (a member first seen was at the base tier)."""
    program, now = ctx.policy.loyalty, ctx.now()
    spends = await store.spend_by_member(now - program.window)
    known = await store.marks([f"tier:{m}" for m, _ in spends])
    queued = passed = 0
    for member_key, spend in spends:
        tier = program.tier_for(spend, program.currency)
        mark = f"tier:{member_key}"
        before = known.get(mark, program.base_tier)  # first seen: they were at the base tier
        if before == tier:
            if mark not in known:
                await store.fire(None, now, mark=(mark, tier))
            continue
        member, consented = await _member_part(ctx, member_key)
        data = {"memberKey": member_key, "from": before, "to": tier, "member": member}
        occasion = Occasion(f"tier.changed:{member_key}:{now.isoformat()}", "tier.changed", data, member_key)
        passed += not consented
        queued += await store.fire(occasion, now, mark=(mark, tier), deliver=consented)
    return queued, passed


# -- marketing's endpoints, members' watches ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointResult:
    endpoint: WebhookEndpointRecord | None
    user_errors: list[UserError]


async def endpoints_by_ids(ctx: ResolverContext, ids: list[int]) -> list[WebhookEndpointRecord | None]:
    found = {e.id: e for e in await _store(ctx).endpoints_by_ids(ids)}
    return [found.get(i) for i in ids]


async def endpoint_list(ctx: ResolverContext, args: PageArgs) -> Connection[WebhookEndpointRecord]:
    return await keyset_connection(
        args, ctx.policy, "webhook-endpoints", int, lambda e: (e.id, e.id), _store(ctx).endpoint_page
    )


async def save_endpoint(
    ctx: ResolverContext, endpoint_id: int | None, url: str, event_types: list[str], active: bool
) -> EndpointResult:
    """Create (a new `whsec_` secret) or change an endpoint and the events it takes ([]: all)."""
    parsed = urlsplit(url)
    if len(url) > 2048 or parsed.scheme not in ("http", "https") or not parsed.hostname:
        return EndpointResult(
            None, [UserError(["input", "url"], "an http(s) URL of at most 2048 characters", "INVALID")]
        )
    saved = await _store(ctx).save_endpoint(endpoint_id, url, sorted(set(event_types)), active, ctx.now())
    if saved is None:
        return EndpointResult(
            None, [UserError(["id"], "no such webhook endpoint", "WEBHOOK_ENDPOINT_NOT_FOUND")]
        )
    return EndpointResult(saved, [])


async def delete_endpoint(ctx: ResolverContext, endpoint_id: int) -> list[UserError]:
    if not await _store(ctx).delete_endpoint(endpoint_id):
        return [UserError(["id"], "no such webhook endpoint", "WEBHOOK_ENDPOINT_NOT_FOUND")]
    return []


@dataclass(frozen=True, slots=True)
class StockWatch:
    variant_id: int
    location_id: int
    since: datetime
    notified_at: datetime | None


async def watches_of(ctx: ResolverContext, member_key: str) -> list[StockWatch]:
    return [StockWatch(*w) for w in await _store(ctx).watches_of(member_key)]


async def change_watch(
    ctx: ResolverContext, variant_id: int, location_id: int, watching: bool
) -> list[UserError]:
    """The signed-in member watches (or stops watching) a variant at a store."""
    member_key = ctx.principal.member_id
    assert member_key is not None, "a member principal (schema/permissions.py)"
    if await ctx.loaders.variant_by_id.load(variant_id) is None:
        return [UserError(["variantId"], "no such variant", "VARIANT_NOT_FOUND")]
    if await ctx.loaders.location_by_id.load(location_id) is None:
        return [UserError(["locationId"], "no such store", "LOCATION_NOT_FOUND")]
    if watching:
        await _store(ctx).watch(member_key, variant_id, location_id, ctx.now())
    else:
        await _store(ctx).unwatch(member_key, variant_id, location_id)
    return []
