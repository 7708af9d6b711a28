"""Support conversations in the gateway's database: the default `TicketDesk`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.ports.paging import KeysetPage
from adapters.store.tables import id_window, keys_in_range, support_messages, support_tickets
from adapters.support import Ticket, TicketChannel, TicketMessage, TicketStatus

if TYPE_CHECKING:
    from adapters.store.engine import Database


def _ticket(row: Any) -> Ticket:
    return Ticket(
        row.id, row.member_id, row.subject, TicketChannel(row.channel), TicketStatus(row.status),
        row.opened_by, row.created_at, row.updated_at,
    )  # fmt: skip


def _message(row: Any) -> TicketMessage:
    return TicketMessage(
        row.id, row.ticket_id, TicketChannel(row.channel), row.author, row.body, row.created_at
    )


async def _read_ticket(conn: Any, ticket_id: int) -> Ticket | None:
    row = (await conn.execute(sa.select(support_tickets).where(support_tickets.c.id == ticket_id))).first()
    return None if row is None else _ticket(row)


class StoreTickets:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def open_ticket(
        self, member_id: str, subject: str, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket:
        async def work(conn: Any) -> Ticket:
            ticket_id = (
                await conn.execute(
                    sa.insert(support_tickets)
                    .values(member_id=member_id, subject=subject, channel=channel.value,
                            status=TicketStatus.OPEN.value, opened_by=author, created_at=now, updated_at=now)
                    .returning(support_tickets.c.id)
                )
            ).scalar_one()  # fmt: skip
            await conn.execute(
                sa.insert(support_messages).values(
                    ticket_id=ticket_id, channel=channel.value, author=author, body=body, created_at=now
                )
            )
            found = await _read_ticket(conn, ticket_id)
            assert found is not None
            return found

        return await self._store.write(work)

    async def add_message(
        self, ticket_id: int, channel: TicketChannel, body: str, author: str, now: datetime
    ) -> Ticket | None:
        async def work(conn: Any) -> Ticket | None:
            if not keys_in_range([ticket_id]) or await _read_ticket(conn, ticket_id) is None:
                return None
            await conn.execute(
                sa.insert(support_messages).values(
                    ticket_id=ticket_id, channel=channel.value, author=author, body=body, created_at=now
                )
            )
            await conn.execute(
                sa.update(support_tickets).where(support_tickets.c.id == ticket_id).values(updated_at=now)
            )
            return await _read_ticket(conn, ticket_id)

        return await self._store.write(work)

    async def set_status(self, ticket_id: int, status: TicketStatus, now: datetime) -> Ticket | None:
        async def work(conn: Any) -> Ticket | None:
            if not keys_in_range([ticket_id]):
                return None
            await conn.execute(
                sa.update(support_tickets)
                .where(support_tickets.c.id == ticket_id)
                .values(status=status.value, updated_at=now)
            )
            return await _read_ticket(conn, ticket_id)

        return await self._store.write(work)

    async def tickets_by_ids(self, ids: Sequence[int]) -> list[Ticket | None]:
        wanted = keys_in_range(ids)
        async with self._store.reading() as conn:
            rows = await conn.execute(sa.select(support_tickets).where(support_tickets.c.id.in_(wanted)))
            found = {row.id: _ticket(row) for row in rows}
        return [found.get(i) for i in ids]

    async def tickets_of_member(self, member_id: str, page: KeysetPage) -> list[Ticket]:
        stmt = sa.select(support_tickets).where(support_tickets.c.member_id == member_id)
        async with self._store.reading() as conn:
            return [_ticket(r) for r in await conn.execute(id_window(stmt, support_tickets.c.id, page))]

    async def messages_of(self, ticket_ids: Sequence[int]) -> list[list[TicketMessage]]:
        wanted = keys_in_range(ticket_ids)
        by_ticket: dict[int, list[TicketMessage]] = {i: [] for i in ticket_ids}
        stmt = (
            sa.select(support_messages)
            .where(support_messages.c.ticket_id.in_(wanted))
            .order_by(support_messages.c.ticket_id, support_messages.c.id)
        )
        async with self._store.reading() as conn:
            for row in await conn.execute(stmt):
                by_ticket[row.ticket_id].append(_message(row))
        return [by_ticket[i] for i in ticket_ids]
