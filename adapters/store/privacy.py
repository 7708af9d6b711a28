"""What the gateway itself keeps about a member beyond the directory's profile: marketing
consent per channel, and the member's link to their carts. Read for a data export, removed by
an erasure (orders stay, under the member's key, for accounting)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.commerce import CartStatus
from adapters.store.tables import (
    carts,
    marketing_consents,
    member_profiles,
    member_sign_ins,
    orders,
    stock_watches,
    support_messages,
    support_tickets,
    trigger_marks,
)

if TYPE_CHECKING:
    from adapters.store.engine import Database


class StoreMemberData:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def consents_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[bool, datetime]]]:
        """Member key -> channel -> (granted, when it was said), for the channels answered."""
        stmt = sa.select(marketing_consents).where(marketing_consents.c.member_key.in_(list(keys)))
        found: dict[str, dict[str, tuple[bool, datetime]]] = {}
        async with self._store.reading() as conn:
            for row in await conn.execute(stmt.order_by(marketing_consents.c.channel)):
                found.setdefault(row.member_key, {})[row.channel] = (bool(row.granted), row.updated_at)
        return found

    async def save_consents(self, key: str, granted: Mapping[str, bool], now: datetime) -> None:
        """Each channel's answer written (made or replaced), in one transaction."""

        async def work(conn: Any) -> None:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            for channel, value in granted.items():
                stmt = insert(marketing_consents).values(
                    member_key=key, channel=channel, granted=value, updated_at=now
                )
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[marketing_consents.c.member_key, marketing_consents.c.channel],
                        set_={"granted": value, "updated_at": now},
                    )
                )

        await self._store.write(work)

    async def erase_member_data(self, key: str, now: datetime) -> dict[str, int]:
        """The member's consents, stock watches and gateway-kept profile fields deleted; their
        carts that never became an order let go of them (a device holding a cart's secret still
        opens it, as a guest's). Returns how many rows of each kind changed."""

        async def work(conn: Any) -> dict[str, int]:
            consents = await conn.execute(
                sa.delete(marketing_consents).where(marketing_consents.c.member_key == key)
            )
            profiles = await conn.execute(
                sa.delete(member_profiles).where(member_profiles.c.member_key == key)
            )
            watches = await conn.execute(sa.delete(stock_watches).where(stock_watches.c.member_key == key))
            await conn.execute(sa.delete(trigger_marks).where(trigger_marks.c.key == f"tier:{key}"))
            released = await conn.execute(
                sa.update(carts)
                .where(carts.c.member_id == key, carts.c.status != CartStatus.COMPLETED.value)
                .values(member_id=None, token=None, updated_at=now)
            )
            sign_ins = await conn.execute(
                sa.delete(member_sign_ins).where(member_sign_ins.c.member_id == key)
            )
            # Support conversations keep their dates, channels and status; what was said goes.
            tickets = sa.select(support_tickets.c.id).where(support_tickets.c.member_id == key)
            await conn.execute(
                sa.update(support_tickets)
                .where(support_tickets.c.member_id == key)
                .values(subject="[erased]")
            )
            said = await conn.execute(
                sa.update(support_messages)
                .where(support_messages.c.ticket_id.in_(tickets))
                .values(body="[erased]")
            )
            # Orders stay for accounting under the key; the buyer's contact and address go.
            buyers = await conn.execute(
                sa.update(orders)
                .where(orders.c.member_id == key)
                .values(email=None, buyer=None, shipping_address=None)
            )
            return {
                "orders": buyers.rowcount,
                "consents": consents.rowcount,
                "profiles": profiles.rowcount,
                "carts": released.rowcount,
                "stockWatches": watches.rowcount,
                "signIns": sign_ins.rowcount,
                "supportMessages": said.rowcount,
            }

        return await self._store.write(work)  # type: ignore[no-any-return]
