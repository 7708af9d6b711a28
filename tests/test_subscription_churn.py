"""Subscriptions that connect and disconnect leave nothing behind: the short, counting version of
`python -m bench.soak`. Strawberry once leaked the subscription task of a `graphql-ws` (legacy
protocol) connection closed abruptly by the client (strawberry issue 3777, fixed in 0.260.x by
cancelling every operation on cleanup); this test would see such a leak again, with either
protocol, closed politely or abruptly.

A real uvicorn runs the app in this event loop, so the test can count what lives in it: asyncio
tasks, the event bus's subscriber queues, and (after a collection) the protocol handlers, the
request contexts and the subscriptions' async generators. After a warm-up it runs N more
connect-subscribe-disconnect cycles and expects every count back where it was. No timings: it
waits for the server by polling counts, boundedly.
"""

from __future__ import annotations

import asyncio
import gc
import json
import types
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
import websockets
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gateway.context import Context
from tests.commerce import variant_id
from tests.conftest import make_settings, serving
from tests.servers import free_port

CYCLES = 30
SUBSCRIBE = "subscription ($v: [ID!]) { stockChanged(variantIds: $v) { onHand } }"
# The protocol handlers (strawberry's, and the gateway's grouped one): one per open connection.
HANDLERS = (BaseGraphQLTransportWSHandler, BaseGraphQLWSHandler)


class Live:
    def __init__(self, api: Any, port: int) -> None:
        self.api = api
        self.url = f"ws://127.0.0.1:{port}/graphql"


@pytest_asyncio.fixture
async def live(database_url: str) -> AsyncIterator[Live]:
    async with serving(make_settings(database_url)) as api:
        port = free_port()
        config = uvicorn.Config(api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield Live(api, port)
        server.should_exit = True
        await task


async def until(condition: Any, what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


async def cycle(live: Live, protocol: str, abrupt: bool) -> None:
    """Connect, sign in, subscribe, wait until the server holds it, then leave."""
    events = live.api.gateway.events
    async with websockets.connect(live.url, subprotocols=[protocol]) as ws:
        legacy = protocol == "graphql-ws"
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"v": [variant_id(1)]}}
        await ws.send(json.dumps({"id": "1", "type": "start" if legacy else "subscribe", "payload": payload}))
        await until(lambda: events.subscribers == 1, "the subscription is held")
        if abrupt:
            ws.transport.abort()  # no close frame, no `complete`: the client just vanishes
            return
        await ws.send(json.dumps({"id": "1", "type": "stop" if legacy else "complete"}))
    # leaving the block sends a close frame


def census(gateway: Any) -> Counter[str]:
    gc.collect()
    found: Counter[str] = Counter()
    for obj in gc.get_objects():
        if isinstance(obj, HANDLERS):
            found["handler"] += 1
        elif type(obj) is Context:
            found["context"] += 1
        elif type(obj) is types.AsyncGeneratorType:
            found["async generator"] += 1
    found["task"] = len(asyncio.all_tasks())
    found["subscriber queue"] = gateway.events.subscribers
    found["fan-out group"] = len(gateway.fanout.groups)
    found["websocket remembered"] = len(gateway.subscribers._websockets)
    return found


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("abrupt", [False, True], ids=["closed", "abrupt"])
async def test_connect_subscribe_disconnect_cycles_leave_nothing_behind(
    live: Live, protocol: str, abrupt: bool
):
    events = live.api.gateway.events

    async def settled() -> Counter[str]:
        await until(lambda: events.subscribers == 0, "every subscription ended")
        # the server's connection tasks end after the subscription; wait for the count to stop falling
        last = -1
        while (now := len(asyncio.all_tasks())) != last:
            last = now
            await asyncio.sleep(0.05)
        return census(live.api.gateway)

    for _ in range(3):  # warm-up: caches, pools and lazily made objects
        await cycle(live, protocol, abrupt)
    before = await settled()
    for _ in range(CYCLES):
        await cycle(live, protocol, abrupt)
    after = await settled()
    more, fewer = dict(after - before), dict(before - after)
    assert after == before, f"after {CYCLES} cycles: {more} more, {fewer} fewer"
    assert events.subscribers == 0


async def test_the_census_sees_a_connection_that_stays(live: Live):
    """What the churn test counts is what a held subscription is made of (or it proves nothing)."""
    before = census(live.api.gateway)
    async with websockets.connect(live.url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        payload = {"query": SUBSCRIBE, "variables": {"v": [variant_id(1)]}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await until(lambda: live.api.gateway.events.subscribers == 1, "the subscription is held")
        held = census(live.api.gateway) - before
    assert held["handler"] >= 1 and held["async generator"] >= 1 and held["task"] >= 1, held
