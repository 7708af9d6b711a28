"""Loyalty port: members' points as a ledger, earned on orders and spent as a tender."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from adapters.commerce import OrderRecord
from adapters.ports.paging import KeysetPage
from adapters.records import LoyaltyEntry


class LoyaltyLedger(Protocol):
    """Members' points as a ledger: every change an entry, the balance their sum."""

    async def record(
        self, member_id: str, key: str, kind: str, points: int, spend_minor: int,
        order_id: int | None, now: datetime,
    ) -> bool:  # fmt: skip
        """Write the entry unless one with this key exists (then False: a repeated event)."""
        ...

    async def spend(
        self, member_id: str, points: int, key: str, now: datetime, order_id: int | None = None
    ) -> str:
        """Take points for a payment of `order_id`, once per key; raise PaymentDeclined when
        they fall short."""
        ...

    async def take_back(
        self, member_id: str, key: str, points: int, spend_minor: int, order_id: int, now: datetime
    ) -> bool:
        """A REVERSE of `points` earned, once per key; when the balance cannot cover it (the
        points were spent) a SHORTFALL entry writes off the rest in the same transaction, so
        the balance never goes below zero. False for a repeated key."""
        ...

    async def spent(self, key: str) -> int:
        """Points the spend with this key took (0: no such spend)."""
        ...

    async def give_back(self, reference: str, points: int, key: str, now: datetime) -> str:
        """Points back against the spend `reference` (0: all of it), once per key."""
        ...

    async def balances(self, member_ids: Sequence[str]) -> list[tuple[str, int]]: ...

    async def spend_since(self, member_id: str, since: datetime) -> int: ...

    async def entries_of_order(self, order_id: int) -> list[LoyaltyEntry]: ...

    async def entry_page(self, member_id: str, page: KeysetPage) -> list[LoyaltyEntry]: ...

    async def orders_without_points(self, statuses: Sequence[str], limit: int) -> list[OrderRecord]:
        """Members' orders in `statuses` that have no EARN entry (catch-up after a crash)."""
        ...
