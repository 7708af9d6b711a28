"""Customer support: a member's support view and cross-channel timeline, support conversations
that move between channels, and the audit log of staff reads of members' personal data.

Who may call these is declared on the fields (schema/permissions.py: support:read, support:write,
audit:read); every read of a member's personal data by staff is written to the audit log by the
field that reads it (schema/support.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.records import MemberRecord
from adapters.support import (
    AuditEntry,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    TimelineKind,
)
from resolvers.errors import BadUserInput
from resolvers.pagination import Connection, PageArgs, keyset_connection

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

# A member's open cart with items, untouched this long, shows as abandoned.
ABANDONED_AFTER = timedelta(hours=4)
READ = "READ"
MAX_SUBJECT, MAX_BODY = 255, 10_000


@dataclass(frozen=True, slots=True)
class SupportView:
    """What support sees of a member: contact details, and the way into their history."""

    member: MemberRecord

    @property
    def key(self) -> str:
        return self.member.key


async def support_view(ctx: ResolverContext, key: str) -> SupportView | None:
    found = await ctx.loaders.member_by_key.load(key)
    return None if found is None else SupportView(found)


def _timeline_position(entry: TimelineEntry) -> tuple[Any, int]:
    return (entry.at, entry.kind.value), entry.ref


def _parse_timeline_value(value: Any) -> tuple[datetime, str]:
    at, kind = value
    return datetime.fromisoformat(at), TimelineKind(kind).value


async def timeline(
    ctx: ResolverContext,
    member_id: str,
    args: PageArgs,
    kinds: Collection[TimelineKind] | None = None,
    channels: Collection[str] | None = None,
) -> Connection[TimelineEntry]:
    source = ctx.upstreams.timeline
    if source is None:
        raise BadUserInput("no timeline source is configured")
    abandoned_before = ctx.now() - ABANDONED_AFTER

    async def fetch(page: Any) -> list[TimelineEntry]:
        return await source.entry_page(  # type: ignore[no-any-return]
            member_id, page, kinds=kinds, channels=channels, abandoned_before=abandoned_before
        )

    return await keyset_connection(
        args, ctx.policy, "timeline", _parse_timeline_value, _timeline_position, fetch, reverse=True
    )


def _desk(ctx: ResolverContext) -> Any:
    if ctx.upstreams.tickets is None:
        raise BadUserInput("no support desk is configured")
    return ctx.upstreams.tickets


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise BadUserInput(f"`{field}` must have 1 to {limit} characters", field=field)
    return value


async def open_ticket(
    ctx: ResolverContext, member_id: str, subject: str, channel: TicketChannel, body: str
) -> Ticket | None:
    """None when there is no such member."""
    subject, body = _text(subject, "subject", MAX_SUBJECT), _text(body, "body", MAX_BODY)
    if await ctx.loaders.member_by_key.load(member_id) is None:
        return None
    desk = _desk(ctx)
    return await desk.open_ticket(  # type: ignore[no-any-return]
        member_id, subject, channel, body, ctx.principal.subject, ctx.now()
    )


async def reply(ctx: ResolverContext, ticket_id: int, channel: TicketChannel, body: str) -> Ticket | None:
    body = _text(body, "body", MAX_BODY)
    return await _desk(ctx).add_message(  # type: ignore[no-any-return]
        ticket_id, channel, body, ctx.principal.subject, ctx.now()
    )


async def set_status(ctx: ResolverContext, ticket_id: int, status: TicketStatus) -> Ticket | None:
    return await _desk(ctx).set_status(ticket_id, status, ctx.now())  # type: ignore[no-any-return]


async def ticket(ctx: ResolverContext, ticket_id: int) -> Ticket | None:
    return (await _desk(ctx).tickets_by_ids([ticket_id]))[0]  # type: ignore[no-any-return]


async def tickets_of(ctx: ResolverContext, member_id: str, args: PageArgs) -> Connection[Ticket]:
    desk = _desk(ctx)

    async def fetch(page: Any) -> list[Ticket]:
        return await desk.tickets_of_member(member_id, page)  # type: ignore[no-any-return]

    return await keyset_connection(
        args, ctx.policy, "tickets", lambda v: None, lambda t: (None, t.id), fetch, reverse=True
    )


async def messages_of(ctx: ResolverContext, tickets: Sequence[Ticket]) -> list[list[TicketMessage]]:
    return await _desk(ctx).messages_of([t.id for t in tickets])  # type: ignore[no-any-return]


async def record_read(ctx: ResolverContext, member_id: str, fields: Sequence[str]) -> None:
    """The audit trail of a read of a member's personal data: who, when, which fields."""
    if ctx.upstreams.audit is not None:
        await ctx.upstreams.audit.record(ctx.principal.subject, member_id, READ, fields, ctx.now())


async def audit_log(ctx: ResolverContext, member_id: str | None, args: PageArgs) -> Connection[AuditEntry]:
    log = ctx.upstreams.audit
    if log is None:
        raise BadUserInput("no audit log is configured")

    async def fetch(page: Any) -> list[AuditEntry]:
        return await log.entry_page(member_id, page)  # type: ignore[no-any-return]

    return await keyset_connection(
        args, ctx.policy, "audit", lambda v: None, lambda e: (None, e.id), fetch, reverse=True
    )
