"""PostgreSQL goes away under load and comes back: a real gateway process keeps answering (with
UPSTREAM_UNAVAILABLE, never a 500 or INTERNAL), `/readyz` says it is not ready, and it recovers
by itself (the pool's pre-ping throws away the dead connections) without a restart; every order
committed before the outage is still there.

The database is a private cluster made for the test (tests/upstreams/postgres.py), stopped like
a crash (`pg_ctl stop -m immediate`): the shared server is never touched."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.store import open_store
from adapters.store.engine import unreachable
from tests.commerce import LEAN_CART_CREATE, LEAN_CHECKOUT, VISA, line
from tests.served import Served, serve
from tests.servers import need
from tests.upstreams.postgres import PrivatePostgres, missing

WORKERS = 4


@pytest_asyncio.fixture
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    need(missing() is None, missing() or "")
    cluster = await asyncio.to_thread(PrivatePostgres().create)
    try:
        engine = create_async_engine(cluster.url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(sa.text("CREATE DATABASE shop"))
        await engine.dispose()
        store = open_store(cluster.database_url("shop"))
        await store.migrate()
        await store.seed_demo()
        await store.close()
        yield cluster
    finally:
        await asyncio.to_thread(cluster.destroy)


class Load:
    """Shoppers creating carts (a write) and reading them back, until told to stop."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.outcomes: list[tuple[int, tuple[str, ...]]] = []  # (HTTP status, error codes)
        self.stopping = False

    def count(self, ok: bool) -> int:
        return sum(1 for _, codes in self.outcomes if (codes == ()) == ok)

    async def shopper(self) -> None:
        body = {"query": LEAN_CART_CREATE, "variables": {"input": {"channel": "WEB", "lines": [line(1)]}}}
        while not self.stopping:
            response = await self.served.http.post("/graphql", json=body)
            answer = response.json()
            codes = tuple(e["extensions"]["code"] for e in answer.get("errors", []))
            self.outcomes.append((response.status_code, codes))
            await asyncio.sleep(0.01)


async def until(condition, what: str, tries: int = 600) -> None:
    for _ in range(tries):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_postgres_down_and_back_under_load(private_postgres: PrivatePostgres, tmp_path):
    url = private_postgres.database_url("shop")
    env = {"GATEWAY_RESERVATION_SWEEP_SECONDS": "0", "GATEWAY_OUTBOX_INTERVAL_S": "0"}
    async with serve(tmp_path, url, **env) as served:
        placed = []
        for n in range(3):  # committed before the outage
            cart = await served.data(LEAN_CART_CREATE, {"input": {"channel": "WEB", "lines": [line(n + 1)]}})
            variables = {"cartId": cart["cartCreate"]["cart"]["id"], "payment": VISA, "key": f"k{n}"}
            placed.append((await served.data(LEAN_CHECKOUT, variables))["checkoutComplete"]["order"]["id"])

        load = Load(served)
        shoppers = [asyncio.create_task(load.shopper()) for _ in range(WORKERS)]

        async def served_some() -> bool:
            return load.count(ok=True) >= WORKERS

        await until(served_some, "the shoppers were served")

        await asyncio.to_thread(private_postgres.stop, "immediate")  # a crash, mid-traffic
        refused_before = load.count(ok=False)

        async def refused_some() -> bool:
            return load.count(ok=False) >= refused_before + WORKERS

        await until(refused_some, "the shoppers were told the database is away")
        ready = await served.http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
        assert (await served.http.get("/healthz")).status_code == 200  # alive, just not ready
        cart = await served.gql(LEAN_CART_CREATE, {"input": {"channel": "WEB", "lines": [line(1)]}})
        [error] = cart["errors"]
        assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE"}
        assert "Traceback" not in json.dumps(cart)

        await asyncio.to_thread(private_postgres.start)
        served_before = load.count(ok=True)

        async def ready_again() -> bool:
            return (await served.http.get("/readyz")).status_code == 200

        async def served_again() -> bool:
            return load.count(ok=True) >= served_before + WORKERS

        await until(ready_again, "/readyz turned ready again")  # the same process: no restart
        await until(served_again, "the shoppers were served again")
        load.stopping = True
        await asyncio.gather(*shoppers)
        assert served.proc.returncode is None

        statuses = Counter(status for status, _ in load.outcomes)
        codes = Counter(code for _, found in load.outcomes for code in found)
        assert set(statuses) == {200}, statuses
        assert set(codes) == {"UPSTREAM_UNAVAILABLE"}, codes

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(sa.text("SELECT count(*) FROM orders WHERE status = 'ALLOCATED'"))
    finally:
        await engine.dispose()
    assert count >= len(placed)  # nothing committed was lost


def test_what_counts_as_the_database_being_unreachable():
    from sqlalchemy.exc import DBAPIError, IntegrityError

    class Driver(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    def wrapped(error: Exception) -> Exception:
        try:
            raise RuntimeError("while resolving a field") from error
        except RuntimeError as outer:
            return outer

    assert unreachable(wrapped(ConnectionRefusedError(111, "Connection refused")))
    assert unreachable(DBAPIError("SELECT 1", {}, Driver("57P01")))  # terminated by a restart
    assert unreachable(DBAPIError("SELECT 1", {}, Driver("08006")))  # connection failure
    assert not unreachable(IntegrityError("INSERT", {}, Driver("23505")))  # a bug or a race, not an outage
    assert not unreachable(wrapped(ValueError("no")))
    assert not unreachable(wrapped(FileNotFoundError(2, "No such file")))  # an OSError, not an outage
    assert not unreachable(None)
