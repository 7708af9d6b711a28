"""Customer support: a member's support view and timeline, support conversations, and the audit
log of staff reads of personal data. Personal: no cache topics.

Every field that reads a member's personal data for staff (`supportMember`, `supportTicket`)
carries `AuditedRead`, which writes who read which member's fields once the read succeeded. A
field extension is a declaration the compiled path does not apply, so these fields run on the
standard executor only: one read, one audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from adapters import support as records
from adapters.support import TimelineEntry as TimelineEntryRecord
from resolvers import loyalty, support
from resolvers.pagination import PageArgs
from resolvers.user_errors import UserError as UserErrorRecord
from schema.common import DateTime, PageInfo, UserError
from schema.ids import EXTERNAL_KEY, decode_id, decode_str_id, to_global_id
from schema.locations import Location
from schema.loyalty import LoyaltyAccount
from schema.permissions import (
    CanAnswerTicket,
    CanOpenTicket,
    CanReadTicket,
    IsAuditor,
    IsSupport,
    IsSupportAgent,
)

TicketChannel = strawberry.enum(records.TicketChannel, description="Where a support message came in.")
TicketStatus = strawberry.enum(records.TicketStatus)
TimelineKind = strawberry.enum(records.TimelineKind, description="What happened in a member's timeline.")


@strawberry.enum(description="The channel of a timeline entry: a sales channel or a support channel.")
class TimelineChannel(Enum):
    WEB = "WEB"
    MOBILE_APP = "MOBILE_APP"
    STORE = "STORE"
    PARTNER = "PARTNER"
    WEB_CHAT = "WEB_CHAT"
    EMAIL = "EMAIL"
    PHONE = "PHONE"


def _selected(selections: list[Any], prefix: str = "") -> list[str]:
    """The names of the fields a document selected (through fragments too)."""
    names: list[str] = []
    for selection in selections:
        if hasattr(selection, "type_condition"):  # a fragment: its fields are the field's
            names += _selected(selection.selections, prefix)
        elif not selection.name.startswith("__"):
            names.append(prefix + selection.name)
    return names


class AuditedRead(FieldExtension):
    """Writes an audit entry (READ, the caller, the member, the fields selected) after a field
    read a member's personal data for someone other than that member (a member reading their own
    conversation is not audited)."""

    def __init__(self, member_of: Callable[[Any], str]) -> None:
        self.member_of = member_of

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        raise NotImplementedError("an audited field is async")

    async def resolve_async(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        result = await next_(source, info, **kwargs)
        if result is not None and not info.context.principal.is_member(self.member_of(result)):
            fields = sorted(set(_selected(info.selected_fields[0].selections)))
            await support.record_read(info.context, self.member_of(result), fields)
        return result


@strawberry.type(description="A message of a support conversation, with the channel it came by.")
class SupportMessage:
    author: str = strawberry.field(description='Who wrote it: "member:<id>" or a staff name.')
    body: str
    created_at: DateTime

    @strawberry.field
    def channel(root: records.TicketMessage) -> TicketChannel:  # type: ignore[valid-type]
        return root.channel  # type: ignore[return-value]


@strawberry.type(description="A support conversation: opened in one channel, carried on in any.")
class SupportTicket:
    subject: str
    opened_by: str
    created_at: DateTime
    updated_at: DateTime

    @strawberry.field
    def id(root: records.Ticket) -> strawberry.ID:
        return strawberry.ID(to_global_id("SupportTicket", root.id))

    @strawberry.field
    def member_id(root: records.Ticket) -> strawberry.ID:
        return strawberry.ID(to_global_id("Member", root.member_id))

    @strawberry.field(description="The channel it was opened in.")
    def channel(root: records.Ticket) -> TicketChannel:  # type: ignore[valid-type]
        return root.channel  # type: ignore[return-value]

    @strawberry.field
    def status(root: records.Ticket) -> TicketStatus:  # type: ignore[valid-type]
        return root.status  # type: ignore[return-value]

    @strawberry.field(description="Oldest first.")
    async def messages(root: records.Ticket, info: Info) -> list[SupportMessage]:
        return (await support.messages_of(info.context, [root]))[0]  # type: ignore[return-value]


@strawberry.type
class SupportTicketEdge:
    cursor: str
    node: SupportTicket


@strawberry.type
class SupportTicketConnection:
    edges: list[SupportTicketEdge]
    nodes: list[SupportTicket]
    page_info: PageInfo


_REFERENCES = {
    records.TimelineKind.ORDER: ("Order", "ref"),
    records.TimelineKind.TILL_SALE: ("Order", "ref"),
    records.TimelineKind.FULFILLMENT: ("Order", "parent"),
    records.TimelineKind.PICKUP: ("Order", "parent"),
    records.TimelineKind.RETURN: ("Return", "ref"),
    records.TimelineKind.LOYALTY: ("Order", "parent"),
    records.TimelineKind.TICKET: ("SupportTicket", "parent"),
}


@strawberry.type(description="One event of a member's life with the retailer, in any channel.")
class TimelineEntry:
    @strawberry.field
    def kind(root: TimelineEntryRecord) -> TimelineKind:  # type: ignore[valid-type]
        return root.kind  # type: ignore[return-value]

    @strawberry.field
    def occurred_at(root: TimelineEntryRecord) -> DateTime:
        return root.at  # type: ignore[return-value]

    @strawberry.field
    def channel(root: TimelineEntryRecord) -> TimelineChannel | None:
        return None if root.channel is None else TimelineChannel(root.channel)

    @strawberry.field
    async def location(root: TimelineEntryRecord, info: Info) -> Location | None:
        if root.location_id is None:
            return None
        return await info.context.loaders.location_by_id.load(root.location_id)  # type: ignore[no-any-return]

    @strawberry.field(description="A status, a loyalty entry's kind, a conversation's subject.")
    def detail(root: TimelineEntryRecord) -> str | None:
        return root.detail

    @strawberry.field(description="Points of a loyalty entry.")
    def points(root: TimelineEntryRecord) -> int | None:
        return root.amount if root.kind is records.TimelineKind.LOYALTY else None

    @strawberry.field(description="The order, return or conversation it is about (never a cart's secret id).")
    def reference_id(root: TimelineEntryRecord) -> strawberry.ID | None:
        found = _REFERENCES.get(root.kind)
        key = None if found is None else getattr(root, found[1])
        return None if found is None or key is None else strawberry.ID(to_global_id(found[0], key))


@strawberry.type
class TimelineEntryEdge:
    cursor: str
    node: TimelineEntry


@strawberry.type
class TimelineEntryConnection:
    edges: list[TimelineEntryEdge]
    nodes: list[TimelineEntry]
    page_info: PageInfo


@strawberry.type(description="What support sees of a member: contact details and history, no more.")
class SupportMember:
    @strawberry.field
    def id(root: support.SupportView) -> strawberry.ID:
        return strawberry.ID(to_global_id("Member", root.key))

    @strawberry.field
    def email(root: support.SupportView) -> str | None:
        return root.member.email

    @strawberry.field
    def first_name(root: support.SupportView) -> str:
        return root.member.first_name

    @strawberry.field
    def last_name(root: support.SupportView) -> str:
        return root.member.last_name

    @strawberry.field
    def phone(root: support.SupportView) -> str | None:
        return root.member.phone

    @strawberry.field(description="Points and tier, every channel.")
    async def loyalty(root: support.SupportView, info: Info) -> LoyaltyAccount:
        return await loyalty.account(info.context, root.key)  # type: ignore[return-value]

    @strawberry.field(description="Every channel's events, newest first; filter by kind and channel.")
    async def timeline(
        root: support.SupportView,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        kinds: list[TimelineKind] | None = None,  # type: ignore[valid-type]
        channels: list[TimelineChannel] | None = None,
    ) -> TimelineEntryConnection:
        return await support.timeline(  # type: ignore[return-value]
            info.context,
            root.key,
            PageArgs(first, after, last, before),
            None if kinds is None else set(kinds),
            None if channels is None else {c.value for c in channels},
        )

    @strawberry.field(description="Support conversations, newest first.")
    async def tickets(
        root: support.SupportView, info: Info, first: int | None = None, after: str | None = None
    ) -> SupportTicketConnection:
        return await support.tickets_of(info.context, root.key, PageArgs(first=first, after=after))  # type: ignore[return-value]


@strawberry.type(description="A read (or export, or erasure) of a member's personal data by someone else.")
class AuditEntry:
    actor: str
    action: str
    fields: list[str]
    at: DateTime

    @strawberry.field
    def member_id(root: records.AuditEntry) -> strawberry.ID:
        return strawberry.ID(to_global_id("Member", root.member_id))


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type
class AuditEntryConnection:
    edges: list[AuditEntryEdge]
    nodes: list[AuditEntry]
    page_info: PageInfo


def _member_key(value: str, argument: str) -> str:
    return decode_str_id(value, "Member", EXTERNAL_KEY, argument)


@strawberry.type
class SupportQuery:
    @strawberry.field(
        description="A member as support sees them (support:read); each read is audited.",
        permission_classes=[IsSupport],
        extensions=[AuditedRead(lambda view: view.key)],
    )
    async def support_member(self, info: Info, id: strawberry.ID) -> SupportMember | None:
        return await support.support_view(info.context, _member_key(id, "id"))  # type: ignore[return-value]

    @strawberry.field(
        description="A support conversation: for support (support:read; each read is audited), or the "
        "member whose conversation it is.",
        permission_classes=[CanReadTicket],
        extensions=[AuditedRead(lambda ticket: ticket.member_id)],
    )
    async def support_ticket(self, info: Info, id: strawberry.ID) -> SupportTicket | None:
        return await support.ticket(info.context, decode_id(id, "SupportTicket", "id"))  # type: ignore[return-value]

    @strawberry.field(
        description="Who read which member's personal data, newest first (audit:read).",
        permission_classes=[IsAuditor],
    )
    async def audit_log(
        self,
        info: Info,
        member_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> AuditEntryConnection:
        key = None if member_id is None else _member_key(member_id, "memberId")
        return await support.audit_log(info.context, key, PageArgs(first=first, after=after))  # type: ignore[return-value]


@strawberry.input
class SupportTicketOpenInput:
    member_id: strawberry.ID
    subject: str
    channel: TicketChannel  # type: ignore[valid-type]
    body: str = strawberry.field(description="The first message.")


@strawberry.type
class SupportTicketPayload:
    ticket: SupportTicket | None
    user_errors: list[UserError]


def _payload(ticket: Any, missing: str, field: list[str]) -> SupportTicketPayload:
    if ticket is not None:
        return SupportTicketPayload(ticket=ticket, user_errors=[])
    error = UserErrorRecord(field, f"no such {missing.lower().split('_')[0]}", missing)
    return SupportTicketPayload(ticket=None, user_errors=[error])  # type: ignore[list-item]


@strawberry.type
class SupportMutation:
    @strawberry.mutation(
        description="Open a conversation: support for any member (support:write), a member for themselves.",
        permission_classes=[CanOpenTicket],
    )
    async def support_ticket_open(self, info: Info, input: SupportTicketOpenInput) -> SupportTicketPayload:
        key = _member_key(input.member_id, "memberId")
        found = await support.open_ticket(info.context, key, input.subject, input.channel, input.body)
        return _payload(found, "MEMBER_NOT_FOUND", ["input", "memberId"])

    @strawberry.mutation(
        description="Add a message, by whatever channel it came: support (support:write), or the member "
        "whose conversation it is.",
        permission_classes=[CanAnswerTicket],
    )
    async def support_ticket_reply(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        channel: TicketChannel,
        body: str,  # type: ignore[valid-type]
    ) -> SupportTicketPayload:
        found = await support.reply(
            info.context, decode_id(ticket_id, "SupportTicket", "ticketId"), channel, body
        )
        return _payload(found, "TICKET_NOT_FOUND", ["ticketId"])

    @strawberry.mutation(
        description="Set a conversation's status (support:write).", permission_classes=[IsSupportAgent]
    )
    async def support_ticket_set_status(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        status: TicketStatus,  # type: ignore[valid-type]
    ) -> SupportTicketPayload:
        found = await support.set_status(
            info.context, decode_id(ticket_id, "SupportTicket", "ticketId"), status
        )
        return _payload(found, "TICKET_NOT_FOUND", ["ticketId"])
