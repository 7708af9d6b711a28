"""The loyalty ledger in the gateway's database: entries only, never a stored balance.

An entry's unique `key` makes each order event count once. Spending checks the balance in the
same transaction that writes the entry, with the member's earlier entries locked (on SQLite the
write transaction is already exclusive), so two checkouts cannot spend the same points.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import OrderRecord, PaymentStatus
from adapters.ports.paging import KeysetPage
from adapters.ports.payments import PaymentDeclined
from adapters.records import LoyaltyEntry
from adapters.store.order_rows import order_from_row
from adapters.store.tables import loyalty_entries, members, orders, payments

if TYPE_CHECKING:
    from adapters.store.engine import Database


def entry_from_row(row: Any) -> LoyaltyEntry:
    return LoyaltyEntry(
        row.id, row.member_id, row.key, row.kind, row.points, row.spend_minor, row.order_id, row.created_at
    )


async def _insert(conn: Any, values: dict[str, Any]) -> bool:
    found = await conn.scalar(sa.select(loyalty_entries.c.id).where(loyalty_entries.c.key == values["key"]))
    if found is not None:
        return False
    await conn.execute(sa.insert(loyalty_entries).values(**values))
    return True


def _balance_of(member_id: str) -> Any:
    return sa.select(sa.func.coalesce(sa.func.sum(loyalty_entries.c.points), 0)).where(
        loyalty_entries.c.member_id == member_id
    )


class StoreLoyalty:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def record(
        self, member_id: str, key: str, kind: str, points: int, spend_minor: int,
        order_id: int | None, now: datetime,
    ) -> bool:  # fmt: skip
        values = {"member_id": member_id, "key": key, "kind": kind, "points": points,
                  "spend_minor": spend_minor, "order_id": order_id, "created_at": now}  # fmt: skip

        async def work(conn: Any) -> bool:
            return await _insert(conn, values)

        return await self._store.write(work)

    async def spend(
        self, member_id: str, points: int, key: str, now: datetime, order_id: int | None = None
    ) -> str:
        """Take points for a payment, once per key; PaymentDeclined when the balance is short."""

        async def work(conn: Any) -> str:
            # Serialize one member's spending (PostgreSQL; SQLite's write lock already does).
            await conn.execute(sa.select(members.c.id).where(members.c.id == member_id).with_for_update())
            if await conn.scalar(sa.select(loyalty_entries.c.id).where(loyalty_entries.c.key == key)):
                return key
            balance = await conn.scalar(_balance_of(member_id))
            if balance < points:
                raise PaymentDeclined("insufficient_points", f"{balance} points, {points} needed")
            await _insert(conn, {"member_id": member_id, "key": key, "kind": "SPEND", "points": -points,
                                 "spend_minor": 0, "order_id": order_id, "created_at": now})  # fmt: skip
            return key

        return await self._store.write(work)

    async def take_back(
        self, member_id: str, key: str, points: int, spend_minor: int, order_id: int, now: datetime
    ) -> bool:
        async def work(conn: Any) -> bool:
            await conn.execute(sa.select(members.c.id).where(members.c.id == member_id).with_for_update())
            balance = await conn.scalar(_balance_of(member_id))
            entry = {"member_id": member_id, "key": key, "kind": "REVERSE", "points": -points,
                     "spend_minor": spend_minor, "order_id": order_id, "created_at": now}  # fmt: skip
            if not await _insert(conn, entry):
                return False
            short = points - max(balance, 0)
            if short > 0:
                await _insert(conn, {"member_id": member_id, "key": f"{key}:shortfall", "kind": "SHORTFALL",
                                     "points": short, "spend_minor": 0, "order_id": order_id,
                                     "created_at": now})  # fmt: skip
            return True

        return await self._store.write(work)

    async def spent(self, key: str) -> int:
        stmt = sa.select(loyalty_entries.c.points).where(
            loyalty_entries.c.key == key, loyalty_entries.c.kind == "SPEND"
        )
        async with self._store.reading() as conn:
            return -int(await conn.scalar(stmt) or 0)

    async def give_back(self, reference: str, points: int, key: str, now: datetime) -> str:
        """Points back against an earlier spend (a refund, or a void with the spend's own points)."""

        async def work(conn: Any) -> str:
            spent = (
                await conn.execute(sa.select(loyalty_entries).where(loyalty_entries.c.key == reference))
            ).first()
            if spent is None:
                return key
            back = min(points, -spent.points) if points else -spent.points
            await _insert(conn, {"member_id": spent.member_id, "key": key, "kind": "REFUND", "points": back,
                                 "spend_minor": 0, "order_id": spent.order_id,
                                 "created_at": now})  # fmt: skip
            return key

        return await self._store.write(work)

    async def balances(self, member_ids: Sequence[str]) -> list[tuple[str, int]]:
        stmt = (
            sa.select(loyalty_entries.c.member_id, sa.func.sum(loyalty_entries.c.points))
            .where(loyalty_entries.c.member_id.in_(list(member_ids)))
            .group_by(loyalty_entries.c.member_id)
        )
        async with self._store.reading() as conn:
            return [(r[0], int(r[1])) for r in await conn.execute(stmt)]

    async def spend_since(self, member_id: str, since: datetime) -> int:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(loyalty_entries.c.spend_minor), 0)).where(
            loyalty_entries.c.member_id == member_id, loyalty_entries.c.created_at >= since
        )
        async with self._store.reading() as conn:
            return int(await conn.scalar(stmt))

    async def entries_of_order(self, order_id: int) -> list[LoyaltyEntry]:
        stmt = sa.select(loyalty_entries).where(loyalty_entries.c.order_id == order_id)
        async with self._store.reading() as conn:
            return [entry_from_row(r) for r in await conn.execute(stmt.order_by(loyalty_entries.c.id))]

    async def entry_page(self, member_id: str, page: KeysetPage) -> list[LoyaltyEntry]:
        stmt = sa.select(loyalty_entries).where(loyalty_entries.c.member_id == member_id)
        if page.after is not None:
            stmt = stmt.where(loyalty_entries.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(loyalty_entries.c.id < page.before[1])
        order = loyalty_entries.c.id.desc() if page.descending else loyalty_entries.c.id
        async with self._store.reading() as conn:
            return [entry_from_row(r) for r in await conn.execute(stmt.order_by(order).limit(page.limit))]

    async def orders_without_points(self, statuses: Sequence[str], limit: int) -> list[OrderRecord]:
        """Members' orders in `statuses` with no EARN entry: points a crash kept from being
        written right after the order was completed."""
        earned = sa.select(loyalty_entries.c.order_id).where(
            loyalty_entries.c.kind == "EARN", loyalty_entries.c.order_id.is_not(None)
        )
        # An order still to be paid at the store earns when it is paid, not before.
        unpaid = sa.select(payments.c.order_id).where(payments.c.status == PaymentStatus.PENDING.value)
        stmt = (
            sa.select(orders)
            .where(orders.c.member_id.is_not(None), orders.c.status.in_(list(statuses)))
            .where(orders.c.id.not_in(earned))
            .where(orders.c.id.not_in(unpaid))
            .order_by(orders.c.id)
            .limit(limit)
        )
        async with self._store.reading() as conn:
            return [order_from_row(r) for r in await conn.execute(stmt)]
