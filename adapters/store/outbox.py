"""The outbox: messages to upstreams, written in the caller's transaction, delivered later.

`enqueue(conn, topic, payload)` runs inside the transaction that makes the change (an order
placed), so the message exists if and only if the change does. `OutboxWorker` claims due rows
(FOR UPDATE SKIP LOCKED on PostgreSQL; the store's BEGIN IMMEDIATE serialises claimers on
SQLite), leases them, delivers outside any transaction, and marks them delivered. A worker that
dies mid-delivery leaves a lease that expires and the row is delivered again: handlers must be
idempotent, which the order sinks are through the order's reference as natural key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.store.tables import outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from adapters.store.database import Store

log = logging.getLogger("omnigate.outbox")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


async def enqueue(conn: AsyncConnection, topic: str, payload: dict[str, Any]) -> int:
    """Add a message in the caller's open transaction; it is delivered once that commits."""
    now = datetime.now(UTC)
    return await conn.scalar(  # type: ignore[no-any-return]
        sa.insert(outbox)
        .values(topic=topic, payload=payload, created_at=now, available_at=now, attempts=0)
        .returning(outbox.c.id)
    )


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, Handler],
        *,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        backoff: float = 1.0,
        backoff_max: float = 300.0,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._batch = batch
        self._lease = lease
        self._backoff = backoff
        self._backoff_max = backoff_max
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many were delivered."""
        delivered = 0
        for row in await self._claim():
            handler = self._handlers.get(row.topic)
            try:
                if handler is None:
                    raise LookupError(f"no handler for topic {row.topic!r}")
                result = await handler(row.payload)
            except Exception as exc:
                delay = min(self._backoff * 2 ** (row.attempts - 1), self._backoff_max)
                retry_at = datetime.now(UTC) + timedelta(seconds=delay * random.uniform(0.5, 1))
                log.warning("outbox %s (%s) attempt %d failed: %s", row.id, row.topic, row.attempts, exc)
                await self._update(row.id, available_at=retry_at, last_error=str(exc)[:2000])
            else:
                await self._update(
                    row.id,
                    delivered_at=datetime.now(UTC),
                    last_error=None,
                    result=_jsonable(result),
                )
                delivered += 1
        return delivered

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception:  # the database itself failed: keep the worker alive
                log.exception("outbox worker pass failed")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), interval)

    async def pending(self) -> int:
        async with self._store.reading() as conn:
            stmt = sa.select(sa.func.count()).where(outbox.c.delivered_at.is_(None))
            return int(await conn.scalar(stmt) or 0)

    async def _claim(self) -> list[Any]:
        now = datetime.now(UTC)
        async with self._store.writing() as conn:
            due = (
                sa.select(outbox.c.id)
                .where(outbox.c.delivered_at.is_(None), outbox.c.available_at <= now)
                .order_by(outbox.c.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
            ids = list(await conn.scalars(due))
            if not ids:
                return []
            rows = await conn.execute(
                sa.update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(available_at=now + self._lease, attempts=outbox.c.attempts + 1)
                .returning(outbox.c.id, outbox.c.topic, outbox.c.payload, outbox.c.attempts)
            )
            return sorted(rows, key=lambda r: r.id)

    async def _update(self, row_id: int, **values: Any) -> None:
        async with self._store.writing() as conn:
            await conn.execute(sa.update(outbox).where(outbox.c.id == row_id).values(**values))


def _jsonable(result: Any) -> Any:
    if result is None or isinstance(result, (str, int, float, bool, list, dict)):
        return result
    if hasattr(result, "__dataclass_fields__"):
        return {
            name: getattr(v, "value", v) if not isinstance(v, (str, int, bool)) else v
            for name in result.__dataclass_fields__
            for v in [getattr(result, name)]
        }
    return str(result)
