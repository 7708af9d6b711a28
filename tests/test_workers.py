"""`omnigate serve --workers N`: several processes behind one port, sharing PostgreSQL (or the
embedded database) and Redis; what one process changes, the other's subscribers and caches see."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest

from schema.ids import to_global_id
from tests.commerce import SEATTLE, location_id, set_stock
from tests.conftest import PG_URL
from tests.served import Served, serve
from tests.servers import OMNIGATE

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
STOCK = """
subscription ($locationIds: [ID!]) {
  stockChanged(locationIds: $locationIds) { onHand variant { id } location { id } }
}"""
LEVEL = """
query ($id: ID!) { node(id: $id) { ... on ProductVariant { inventory { onHand location { id } } } } }"""
VARIANT = 1


def _pinned(served: Served) -> Served:
    """A caller whose requests all go over one keep-alive connection, so to one worker."""
    caller = Served(served.port, served.proc)
    caller.http = httpx.AsyncClient(base_url=served.base, timeout=30, limits=httpx.Limits(max_connections=1))
    return caller


async def _one_caller_per_worker(served: Served, workers: int, stack: AsyncExitStack) -> dict[int, Served]:
    """New connections until each worker has answered one (the kernel spreads them by hash)."""
    found: dict[int, Served] = {}
    for _ in range(200):
        caller = _pinned(served)
        pid = (await caller.http.get("/healthz")).json()["process"]
        if pid in found or pid == served.proc.pid:
            await caller.http.aclose()
            continue
        found[pid] = caller
        stack.push_async_callback(caller.http.aclose)
        if len(found) == workers:
            return found
    raise AssertionError(f"only {len(found)} of {workers} workers answered 200 new connections")


@pytest.fixture
def shared_templates(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("postgresql_templates" if PG_URL else "sqlite_templates")


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_two_workers_share_one_port_and_each_sees_what_the_other_changed(
    tmp_path: Path, shared_templates: Any
):
    database_url = await shared_templates.clone()
    shared = {"GATEWAY_REDIS_URL": REDIS_URL or "", "GATEWAY_REDIS_PREFIX": f"t{uuid.uuid4().hex}:"}
    two = serve(tmp_path, database_url, args=("--workers", "2"), **shared)
    async with two as served, AsyncExitStack() as stack:
        a, b = (await _one_caller_per_worker(served, 2, stack)).values()
        node = {"id": to_global_id("ProductVariant", VARIANT)}
        await set_stock(a, VARIANT, SEATTLE, 10)
        # B reads (and keeps, in its entity and response caches) the level A wrote ...
        before = await b.data(LEVEL, node)
        assert _on_hand(before, SEATTLE) == 10
        async with served.client() as tablet:
            request = GraphQLRequest(STOCK, variable_values={"locationIds": [location_id(SEATTLE)]})
            results = tablet.subscribe(request)
            first = asyncio.ensure_future(anext(results))
            await _until_subscribed(a, b)
            # ... whichever worker holds the websocket, one of these two changes is the other's.
            await set_stock(a, VARIANT, SEATTLE, 7)
            assert (await asyncio.wait_for(first, 30))["stockChanged"]["onHand"] == 7
            await set_stock(b, VARIANT, SEATTLE, 5)
            assert (await asyncio.wait_for(anext(results), 30))["stockChanged"]["onHand"] == 5
            await results.aclose()
        # ... and forgets it when A changes it: B answers the new count, not its cached one.
        await set_stock(a, VARIANT, SEATTLE, 3)
        assert _on_hand(await b.data(LEVEL, node), SEATTLE) == 3
        assert await a.metric("omnigate_events_received_total") >= 1
        assert await b.metric("omnigate_events_received_total") >= 1


def _on_hand(data: dict[str, Any], location: int) -> int:
    levels = data["node"]["inventory"]
    return next(lv["onHand"] for lv in levels if lv["location"]["id"] == location_id(location))


async def _until_subscribed(*workers: Served) -> None:
    for _ in range(600):
        counts = [await w.metric("omnigate_active_subscriptions") for w in workers]
        if sum(counts) == 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscription never started")


def test_more_than_one_worker_needs_redis(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([*OMNIGATE, "serve", "--workers", "2"], env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "GATEWAY_REDIS_URL" in done.stderr
    assert not (tmp_path / "omnigate.db").exists()  # refused before anything was made
