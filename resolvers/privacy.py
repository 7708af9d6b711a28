"""Privacy: a member's marketing consent per channel, the export of everything the gateway and
its systems of record hold about them, and their erasure (personal fields removed where each
system keeps them; orders stay, under the member's key, for accounting)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from adapters.ports.paging import KeysetPage
from resolvers.errors import UpstreamUnavailable
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.ports.members import MemberData
    from adapters.records import MemberRecord
    from resolvers.context import ResolverContext

CONSENT_CHANNELS = ("EMAIL", "SMS", "PUSH")
EXPORT_FORMAT = "omnigate.member-export/1"
_PAGE = 250  # rows per round trip while an export walks a member's history

_audit = logging.getLogger("omnigate.audit")


async def record_in_audit_log(
    ctx: ResolverContext, action: str, member_key: str, fields: list[str], detail: dict[str, Any]
) -> None:
    """Who asked for which member's export or erasure, and when: an entry in the audit log
    (where the gateway keeps one), and a line in the log."""
    if ctx.upstreams.audit is not None:
        await ctx.upstreams.audit.record(ctx.principal.subject, member_key, action, fields, ctx.now())
    _audit.info(
        "privacy %s of member %s by %s at %s: %s",
        action, member_key, ctx.principal.subject, ctx.now().isoformat(), detail,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str
    granted: bool
    updated_at: datetime | None  # None: never answered for this channel (the member's one flag)


@dataclass(frozen=True, slots=True)
class ConsentResult:
    consents: list[Consent]
    user_errors: list[UserError]


def _member_data(ctx: ResolverContext) -> MemberData:
    if ctx.upstreams.member_data is None:
        raise UpstreamUnavailable("the gateway keeps no member data here")
    return ctx.upstreams.member_data


def consents_from(member: MemberRecord, answered: dict[str, tuple[bool, datetime]]) -> list[Consent]:
    """Each channel's answer; a channel never answered follows the member's one marketing flag."""
    return [
        Consent(c, *answered[c]) if c in answered else Consent(c, member.marketing_consent, None)
        for c in CONSENT_CHANNELS
    ]


async def consents_of(ctx: ResolverContext, members: list[MemberRecord]) -> list[list[Consent]]:
    """Batch: each member's consents, one round trip for all."""
    answered = await _member_data(ctx).consents_of([m.key for m in members])
    return [consents_from(m, answered.get(m.key, {})) for m in members]


async def has_consent(ctx: ResolverContext, member: MemberRecord, channel: str) -> bool:
    """What member-level triggers and offers ask before reaching a member on `channel`."""
    [consents] = await consents_of(ctx, [member])
    return any(c.granted for c in consents if c.channel == channel)


async def update_consents(ctx: ResolverContext, granted: dict[str, bool]) -> ConsentResult:
    """The signed-in member's answers, channel by channel; channels left out stay as they are."""
    key = ctx.principal.member_id
    assert key is not None, "a member principal (schema/permissions.py)"
    member = await ctx.loaders.member_by_key.load(key)
    if member is None:
        return ConsentResult([], [UserError(None, "no member profile", "MEMBER_NOT_FOUND")])
    if not granted:
        return ConsentResult([], [UserError(["consents"], "name at least one channel", "INVALID")])
    await _member_data(ctx).save_consents(key, granted, ctx.now())
    [consents] = await consents_of(ctx, [member])
    return ConsentResult(consents, [])


# --- export -----------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Records as JSON values: dates as RFC 3339, enums by name, decimals as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


async def _orders(ctx: ResolverContext, key: str) -> list[dict[str, Any]]:
    source = ctx.upstreams.orders
    found = []
    page = await source.order_page_of_member(key, KeysetPage(_PAGE))
    while page:
        found += page
        page = await source.order_page_of_member(key, KeysetPage(_PAGE, after=(None, page[-1].id)))
    ids = [o.id for o in found]
    lines = await source.lines_by_order_ids(ids) if ids else []
    fulfillments = await source.fulfillments_by_order_ids(ids) if ids else []
    returns = await source.returns_by_order_ids(ids) if ids else []
    hidden = {"payment_key", "cart_id"}  # the payment provider's key and internal ids
    exported = []
    for order in found:
        row = {k: v for k, v in jsonable(order).items() if k not in hidden}
        row["number"] = order.number
        row["lines"] = [jsonable(ln) for ln in lines if ln.order_id == order.id]
        row["fulfillments"] = [jsonable(f) for f in fulfillments if f.order_id == order.id]
        row["returns"] = [jsonable(r) for r in returns if r.order_id == order.id]
        exported.append(row)
    return exported


async def _carts(ctx: ResolverContext, key: str) -> list[dict[str, Any]]:
    carts = await ctx.upstreams.carts.carts_of_member(key, ctx.now())
    lines = await ctx.upstreams.carts.lines_by_cart_ids([c.id for c in carts]) if carts else []
    shown = ("channel", "status", "currency_code", "location_id", "created_at", "updated_at", "expires_at")
    return [
        {
            **{name: jsonable(getattr(cart, name)) for name in shown},
            "lines": [
                {
                    "variant_id": ln.variant_id,
                    "quantity": ln.quantity,
                    "mode": ln.mode.value,
                    "location_id": ln.location_id,
                    "created_at": ln.created_at.isoformat(),
                }
                for ln in lines
                if ln.cart_id == cart.id
            ],
        }
        for cart in carts  # never the cart's secret
    ]


async def _loyalty(ctx: ResolverContext, key: str) -> dict[str, Any] | None:
    ledger = ctx.upstreams.loyalty
    if ledger is None:
        return None
    entries = []
    page = await ledger.entry_page(key, KeysetPage(_PAGE))
    while page:
        entries += page
        page = await ledger.entry_page(key, KeysetPage(_PAGE, after=(None, page[-1].id)))
    balance = dict(await ledger.balances([key])).get(key, 0)
    return {"points": balance, "entries": [jsonable(e) for e in entries]}


async def _watches(ctx: ResolverContext, key: str) -> list[dict[str, Any]]:
    triggers = ctx.upstreams.triggers
    found = [] if triggers is None else await triggers.watches_of(key)
    names = ("variantId", "locationId", "since", "notifiedAt")
    return [dict(zip(names, jsonable(list(w)), strict=True)) for w in found]


async def _conversations(ctx: ResolverContext, key: str) -> list[dict[str, Any]]:
    """The member's support conversations with every message (the gateway's ticket desk)."""
    desk = ctx.upstreams.tickets
    if desk is None:
        return []
    found: list[Any] = []
    while True:  # every page: an export is complete
        after = (None, found[-1].id) if found else None
        page = await desk.tickets_of_member(key, KeysetPage(limit=200, after=after))
        found.extend(page)
        if len(page) < 200:
            break
    messages = await desk.messages_of([t.id for t in found])
    return [{**jsonable(t), "messages": jsonable(m)} for t, m in zip(found, messages, strict=True)]


async def _profile(ctx: ResolverContext, member: MemberRecord) -> dict[str, Any]:
    directory = ctx.upstreams.members
    export = getattr(directory, "export_member", None)
    held = await export(member.key) if export is not None else None
    return jsonable(held if held is not None else member)  # type: ignore[no-any-return]


async def export_member_data(ctx: ResolverContext, key: str) -> dict[str, Any] | None:
    """Everything held about the member, as one JSON document (None: no such member)."""
    member = await ctx.loaders.member_by_key.load(key)
    if member is None:
        return None
    [consents] = await consents_of(ctx, [member])
    document = {
        "format": EXPORT_FORMAT,
        "memberKey": key,
        "exportedAt": ctx.now().isoformat(),
        "profile": await _profile(ctx, member),
        "marketingConsents": [jsonable(c) for c in consents],
        "orders": await _orders(ctx, key),
        "openCarts": await _carts(ctx, key),
        "loyalty": await _loyalty(ctx, key),
        "stockWatches": await _watches(ctx, key),
        "supportConversations": await _conversations(ctx, key),
    }
    await record_in_audit_log(ctx, "EXPORT", key, sorted(document), {"sections": sorted(document)})
    return document


# --- erasure ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SystemOutcome:
    system: str  # "memberDirectory" (the CRM or the gateway's own), "gateway"
    outcome: str  # ERASED, NOT_SUPPORTED, NOT_FOUND


@dataclass(frozen=True, slots=True)
class ErasureResult:
    member_key: str | None
    erased_at: datetime | None
    systems: list[SystemOutcome]
    user_errors: list[UserError]


async def erase_member(ctx: ResolverContext, key: str) -> ErasureResult:
    """Personal fields removed where each system keeps them: the member directory (through its
    port, so a CRM erases its own), the gateway's consents, profile fields and cart links.
    Orders, payments and the loyalty ledger stay under the key: accounting needs them, and the
    key now names nobody."""
    member = await ctx.loaders.member_by_key.load(key)
    if member is None:
        return ErasureResult(None, None, [], [UserError(["memberId"], "no such member", "MEMBER_NOT_FOUND")])
    now = ctx.now()
    directory = ctx.upstreams.members
    erase = getattr(directory, "erase_member", None)
    erased = await erase(key, now) if erase is not None else None
    outcome = {True: "ERASED", False: "NOT_FOUND", None: "NOT_SUPPORTED"}[erased]
    changed = await _member_data(ctx).erase_member_data(key, now)
    ctx.loaders.member_by_key.clear(key)
    systems = [SystemOutcome("memberDirectory", outcome), SystemOutcome("gateway", "ERASED")]
    erased = {"memberDirectory": outcome, "gateway": changed}
    await record_in_audit_log(ctx, "ERASE", key, sorted(erased), erased)
    return ErasureResult(key, now, systems, [])
