"""The outbox: messages to upstreams, written in the caller's transaction, delivered later.

`enqueue(conn, topic, payload)` runs inside the transaction that makes the change (an order
placed), so the message exists if and only if the change does. `OutboxWorker` claims due rows
(FOR UPDATE SKIP LOCKED on PostgreSQL; the store's BEGIN IMMEDIATE serialises claimers on
SQLite), leases them, delivers outside any transaction, and marks them delivered. A worker that
dies mid-delivery leaves a lease that expires and the row is delivered again: handlers must be
idempotent, which the order sinks are through the order's reference as natural key.

A failed delivery is tried again after a backoff that doubles (with jitter) up to a ceiling.
After `max_attempts`, or at once when the upstream said no (`UpstreamRejected`: retrying will
not help), the message becomes a dead letter: kept, never tried again on its own, listed for
staff (`dead_letters`) who replay it once the cause is fixed (`replay`).
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

from adapters.errors import UpstreamRejected
from adapters.records import OutboxMessage, OutboxStats
from adapters.store.tables import outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from adapters.store.engine import Database

log = logging.getLogger("omnigate.outbox")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Undeliverable(Exception):
    """A message no retry will deliver (no handler for its topic, a payload the ERP cannot
    take): it becomes a dead letter at once, with this as its reason."""


async def enqueue(
    conn: AsyncConnection, topic: str, payload: dict[str, Any], *, order_id: int | None = None
) -> int:
    """Add a message in the caller's open transaction; it is delivered once that commits."""
    now = datetime.now(UTC)
    return await conn.scalar(  # type: ignore[no-any-return]
        sa.insert(outbox)
        .values(
            topic=topic,
            payload=payload,
            created_at=now,
            available_at=now,
            attempts=0,
            order_id=order_id,
        )
        .returning(outbox.c.id)
    )


class OutboxWorker:
    def __init__(
        self,
        store: Database,
        handlers: Mapping[str, Handler],
        *,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        backoff: float = 1.0,
        backoff_max: float = 300.0,
        max_attempts: int = 12,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._batch = batch
        self._lease = lease
        self._backoff = backoff
        self._backoff_max = backoff_max
        self._max_attempts = max_attempts
        self.wake = asyncio.Event()
        # Observers (metrics): the counts after each pass, and each failure (True: dead letter).
        self.on_stats: Callable[[OutboxStats], None] | None = None
        self.on_failure: Callable[[bool], None] | None = None

    async def run_once(self) -> int:
        """Deliver what is due now; returns how many were delivered."""
        delivered = 0
        for row in await self._claim():
            handler = self._handlers.get(row.topic)
            try:
                if handler is None:
                    raise Undeliverable(f"no handler for topic {row.topic!r}")
                result = await handler(row.payload)
            except Exception as exc:
                error = (str(exc) or type(exc).__name__)[:2000]
                dead = (
                    isinstance(exc, (UpstreamRejected, Undeliverable)) or row.attempts >= self._max_attempts
                )
                if self.on_failure is not None:
                    self.on_failure(dead)
                if dead:
                    log.error(
                        "outbox %s (%s) dead after %d attempts: %s", row.id, row.topic, row.attempts, error
                    )
                    await self._update(row.id, dead_at=datetime.now(UTC), last_error=error)
                    continue
                delay = min(self._backoff * 2 ** (row.attempts - 1), self._backoff_max)
                retry_at = datetime.now(UTC) + timedelta(seconds=delay * random.uniform(0.5, 1))
                log.warning("outbox %s (%s) attempt %d failed: %s", row.id, row.topic, row.attempts, error)
                await self._update(row.id, available_at=retry_at, last_error=error)
            else:
                await self._update(
                    row.id,
                    delivered_at=datetime.now(UTC),
                    last_error=None,
                    result=_jsonable(result),
                )
                delivered += 1
        if self.on_stats is not None:
            self.on_stats(await self.stats())
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
        return (await self.stats()).backlog

    async def stats(self) -> OutboxStats:
        waiting = outbox.c.delivered_at.is_(None)
        async with self._store.reading() as conn:
            backlog, oldest, retrying = (
                await conn.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.min(outbox.c.created_at),
                        sa.func.count().filter(outbox.c.attempts > 0),
                    ).where(waiting, outbox.c.dead_at.is_(None))
                )
            ).one()
            dead = await conn.scalar(sa.select(sa.func.count()).where(waiting, outbox.c.dead_at.is_not(None)))
        if isinstance(oldest, str):  # SQLite's min() over the column answers text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = 0.0 if oldest is None else max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
        return OutboxStats(int(backlog or 0), age, int(dead or 0), int(retrying or 0))

    async def dead_letters(self, limit: int = 100) -> list[OutboxMessage]:
        async with self._store.reading() as conn:
            rows = await conn.execute(
                sa.select(outbox)
                .where(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_not(None))
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [_message(r) for r in rows]

    async def messages(self, ids: list[int]) -> list[OutboxMessage]:
        async with self._store.reading() as conn:
            rows = await conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids)))
            return [_message(r) for r in rows]

    async def replay(self, ids: list[int]) -> list[int]:
        """Dead letters among `ids` are due again with a fresh count of attempts."""
        async with self._store.writing() as conn:
            replayed = list(
                await conn.scalars(
                    sa.update(outbox)
                    .where(outbox.c.id.in_(ids), outbox.c.dead_at.is_not(None))
                    .where(outbox.c.delivered_at.is_(None))
                    .values(dead_at=None, attempts=0, available_at=datetime.now(UTC))
                    .returning(outbox.c.id)
                )
            )
        if replayed:
            self.wake.set()
        return sorted(replayed)

    async def _claim(self) -> list[Any]:
        now = datetime.now(UTC)
        async with self._store.writing() as conn:
            due = (
                sa.select(outbox.c.id)
                .where(outbox.c.delivered_at.is_(None), outbox.c.available_at <= now)
                .where(outbox.c.dead_at.is_(None))
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


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        row.id, row.topic, row.order_id, row.attempts, row.created_at, row.last_error,
        row.dead_at, row.delivered_at,
    )  # fmt: skip


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
