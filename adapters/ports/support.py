"""Support ports: conversations with customers, a member's events across channels, the audit log.

The audit log says who read or changed which member's personal data, and when.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from adapters.ports.paging import KeysetPage
from adapters.support import (
    AuditEntry,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    TimelineKind,
)


class TicketDesk(Protocol):
    """Support conversations: the gateway's own store by default; an external help desk's
    adapter fits the same port (it then owns tickets and messages)."""

    async def open_ticket(
        self, member_id: str, subject: str, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket: ...

    async def add_message(
        self, ticket_id: int, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket | None: ...

    async def set_status(self, ticket_id: int, status: TicketStatus, now: datetime) -> Ticket | None: ...

    async def tickets_by_ids(self, ids: Sequence[int]) -> list[Ticket | None]: ...

    async def tickets_of_member(self, member_id: str, page: KeysetPage) -> list[Ticket]: ...

    async def messages_of(self, ticket_ids: Sequence[int]) -> list[list[TicketMessage]]: ...


class MemberTimeline(Protocol):
    """A member's events across channels, by (at, kind, ref)."""

    async def entry_page(
        self, member_id: str, page: KeysetPage, *, kinds: Collection[TimelineKind] | None,
        channels: Collection[str] | None, abandoned_before: datetime,
    ) -> list[TimelineEntry]: ...  # fmt: skip


class AuditLog(Protocol):
    """Who read or changed which member's personal data, and when."""

    async def record(
        self, actor: str, member_id: str, action: str, fields: Sequence[str], at: datetime
    ) -> None: ...

    async def entry_page(self, member_id: str | None, page: KeysetPage) -> list[AuditEntry]: ...
