"""The audit log in the gateway's database: who read or changed which member's personal data;
and the log of members' sign-ins by channel.

`record_access` writes one entry inside a transaction the caller already holds (a data export or
an erasure writes its entry with its own changes); `StoreAuditLog.record` writes it alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.ports.paging import KeysetPage
from adapters.store.tables import audit_log, id_window, member_sign_ins
from adapters.support import AuditEntry

if TYPE_CHECKING:
    from adapters.store.engine import Database

READ, EXPORT, ERASE = "READ", "EXPORT", "ERASE"  # the actions the gateway writes


async def record_access(
    conn: Any, *, actor: str, member_id: str, action: str, fields: Sequence[str], at: datetime
) -> None:
    """One entry, in the caller's transaction: `actor` is the principal's subject ("staff:ana"),
    `fields` the names of the fields read, exported or erased."""
    await conn.execute(
        sa.insert(audit_log).values(
            actor=actor, member_id=member_id, action=action, fields=sorted(set(fields)), at=at
        )
    )


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.id, row.actor, row.member_id, row.action, tuple(row.fields), row.at)


class StoreAuditLog:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def record(
        self, actor: str, member_id: str, action: str, fields: Sequence[str], at: datetime
    ) -> None:
        async def work(conn: Any) -> None:
            await record_access(conn, actor=actor, member_id=member_id, action=action, fields=fields, at=at)

        await self._store.write(work)

    async def entry_page(self, member_id: str | None, page: KeysetPage) -> list[AuditEntry]:
        """Entries by id (the order they were written), of one member or of everyone."""
        stmt = sa.select(audit_log)
        if member_id is not None:
            stmt = stmt.where(audit_log.c.member_id == member_id)
        async with self._store.reading() as conn:
            return [_entry(r) for r in await conn.execute(id_window(stmt, audit_log.c.id, page))]


class StoreSignIns:
    """Members' sign-ins by channel (the support timeline shows them)."""

    def __init__(self, store: Database) -> None:
        self._store = store

    async def record(self, member_id: str, channel: str, at: datetime) -> None:
        async def work(conn: Any) -> None:
            await conn.execute(sa.insert(member_sign_ins).values(member_id=member_id, channel=channel, at=at))

        await self._store.write(work)
