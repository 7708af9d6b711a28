"""The outbox on SQLite and PostgreSQL: written with the change or not at all, delivered once,
retried with backoff, never by two workers at a time, and again after a lease runs out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from adapters.store import open_store
from adapters.store.outbox import OutboxWorker, enqueue
from adapters.store.tables import outbox


@pytest.fixture
async def store(database_url):
    store = open_store(database_url)
    await store.migrate()
    yield store
    await store.close()


async def rows(store):
    async with store.reading() as conn:
        return (await conn.execute(sa.select(outbox).order_by(outbox.c.id))).all()


async def test_a_message_exists_only_if_its_transaction_commits(store):
    with pytest.raises(RuntimeError):
        async with store.writing() as conn:
            await enqueue(conn, "test", {"n": 1})
            raise RuntimeError("the order failed after all")
    async with store.writing() as conn:
        await enqueue(conn, "test", {"n": 2})
    assert [r.payload for r in await rows(store)] == [{"n": 2}]


async def test_delivered_once_in_order_and_marked(store):
    seen = []

    async def handler(payload):
        seen.append(payload["n"])
        return {"erp": f"SO-{payload['n']}"}

    async with store.writing() as conn:
        for n in range(3):
            await enqueue(conn, "test", {"n": n})
    worker = OutboxWorker(store, {"test": handler})
    assert await worker.run_once() == 3
    assert await worker.run_once() == 0
    assert seen == [0, 1, 2]
    assert all(r.delivered_at and r.attempts == 1 for r in await rows(store))
    assert (await rows(store))[0].result == {"erp": "SO-0"}


async def test_a_failure_waits_with_backoff_and_is_retried(store):
    attempts = []

    async def flaky(payload):
        attempts.append(datetime.now(UTC))
        if len(attempts) == 1:
            raise ConnectionError("ERP down")

    async with store.writing() as conn:
        await enqueue(conn, "test", {})
    worker = OutboxWorker(store, {"test": flaky}, backoff=0.2)
    assert await worker.run_once() == 0
    [row] = await rows(store)
    assert row.last_error == "ERP down" and row.delivered_at is None
    assert row.available_at > datetime.now(UTC)  # not before the backoff
    assert await worker.run_once() == 0 and len(attempts) == 1
    await asyncio.sleep(0.25)
    assert await worker.run_once() == 1
    [row] = await rows(store)
    assert (row.attempts, row.last_error) == (2, None)


async def test_two_workers_never_take_the_same_message(store):
    delivered = []

    async def slow(payload):
        await asyncio.sleep(0.01)
        delivered.append(payload["n"])

    async with store.writing() as conn:
        for n in range(20):
            await enqueue(conn, "test", {"n": n})
    workers = [OutboxWorker(store, {"test": slow}, batch=3) for _ in range(2)]

    async def drain(worker):
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    assert sorted(delivered) == list(range(20))


async def test_a_lease_that_runs_out_is_delivered_again(store):
    """A worker that died mid-delivery: its claim expires and another delivers (which is why
    handlers look the order up by its natural key before creating it)."""
    async with store.writing() as conn:
        await enqueue(conn, "test", {})
    dead = OutboxWorker(store, {}, lease=timedelta(seconds=0))
    await dead._claim()  # claimed, then the process is gone
    seen = []

    async def handler(payload):
        seen.append(payload)

    assert await OutboxWorker(store, {"test": handler}).run_once() == 1
    assert len(seen) == 1
