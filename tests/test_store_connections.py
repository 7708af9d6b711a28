"""How the store uses its database connections: SQLite's writes of one process take turns in
the gateway instead of waiting on the database's lock, and a PostgreSQL connection that died
while it sat in the pool is replaced before a request uses it (no pre-ping per checkout)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.store import engine, open_store
from adapters.store.tables import carts
from tests.conftest import PG_URL


async def test_sqlite_writes_of_one_process_take_turns_in_order(sqlite_templates: Any):
    store = open_store(await sqlite_templates.clone())
    inside: list[int] = []
    entered: list[int] = []
    most = 0

    def writer(n: int) -> Any:
        async def work(conn: Any) -> int:
            nonlocal most
            inside.append(n)
            entered.append(n)
            most = max(most, len(inside))
            await conn.execute(sa.select(sa.func.count()).select_from(carts))
            await asyncio.sleep(0.005)  # a transaction that awaits: another writer could slip in here
            inside.remove(n)
            return n

        return work

    try:
        done = await asyncio.gather(*(store.write(writer(n)) for n in range(30)))
    finally:
        await store.close()
    assert done == list(range(30))
    assert most == 1  # never two write transactions at once: none waited on SQLite's lock
    assert entered == list(range(30))  # first come, first served


@pytest.mark.skipif(not PG_URL, reason="GATEWAY_TEST_DATABASE_URL is not set")
async def test_a_connection_postgresql_dropped_while_idle_is_replaced_before_use(
    postgresql_templates: Any, monkeypatch: pytest.MonkeyPatch
):
    url = await postgresql_templates.clone()
    store = open_store(url, pool_size=2)
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with store.reading() as conn:  # one connection, now idle in the pool
            assert await conn.scalar(sa.select(sa.func.count()).select_from(carts)) >= 0
        async with admin.connect() as conn:
            killed = await conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'omnigate'"
                )
            )
        assert killed == 1
        monkeypatch.setattr(engine, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long enough"
        async with store.reading() as conn:  # the dead one is pinged, thrown away, replaced
            assert await conn.scalar(sa.select(sa.func.count()).select_from(carts)) >= 0
    finally:
        await admin.dispose()
        await store.close()
