"""ERP ports: the system that fulfils and invoices orders, and the outbox messages on their way to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.records import OrderPush, OutboxMessage, OutboxStats, PushedOrder


class OrderSink(Protocol):
    """Where orders are fulfilled and invoiced: the ERP."""

    async def push_order(self, order: OrderPush) -> PushedOrder:
        """Create and confirm the order unless one with its reference exists: safe to repeat."""
        ...

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]: ...


class OrderOutbox(Protocol):
    """The messages on their way to the ERP, as back-office staff run them."""

    async def dead_letters(self, limit: int = 100) -> list[OutboxMessage]: ...

    async def messages(self, ids: list[int]) -> list[OutboxMessage]: ...

    async def replay(self, ids: list[int]) -> list[int]:
        """Dead letters among `ids` are tried again (attempts from zero); returns those."""
        ...

    async def stats(self) -> OutboxStats: ...
