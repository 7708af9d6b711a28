"""The Redis event bus: events cross processes once, listeners choose local or remote events,
and a process that loses Redis reconnects and keeps delivering. Needs a real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from gateway.events.redis_bus import RedisEventBus, decode, encode
from resolvers.events import OrderStatusChanged, StockChanged

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")


def stock(n: int) -> StockChanged:
    return StockChanged(n, 1, 10, 2, 8, "RECEIPT", datetime(2026, 1, 1, tzinfo=UTC))


def test_events_survive_the_json_round_trip():
    order = OrderStatusChanged(7, "PLACED", "m1", (1, 3), 4, "PENDING", datetime.now(UTC))
    assert decode(encode(order, "p1")) == ("p1", order)
    assert decode(encode(stock(1), "p2")) == ("p2", stock(1))


async def _bus(name: str, channel: str) -> RedisEventBus:
    assert REDIS_URL
    bus = RedisEventBus(Redis.from_url(REDIS_URL, client_name=name), channel, queue_size=10)
    await bus.start()
    assert bus.connected.is_set()
    return bus


async def test_an_event_reaches_the_other_process_once_and_is_never_sent_back():
    channel = f"omnigate-test-{uuid.uuid4().hex}:events"
    a, b = await _bus("bus-a", channel), await _bus("bus-b", channel)
    heard: dict[str, list[tuple[str, int]]] = {"a": [], "b": []}
    for name, bus in (("a", a), ("b", b)):
        bus.listen("stock", lambda e, n=name: heard[n].append(("local", e.variant_id)), remote=False)
        bus.listen("stock", lambda e, n=name: heard[n].append(("remote", e.variant_id)), local=False)
    try:
        on_b, on_a = b.subscribe("stock"), a.subscribe("stock")
        first_b, first_a = asyncio.ensure_future(anext(on_b)), asyncio.ensure_future(anext(on_a))
        await asyncio.sleep(0)
        await a.publish(stock(1))
        assert (await asyncio.wait_for(first_a, 10)).variant_id == 1  # its own, at once
        assert (await asyncio.wait_for(first_b, 10)).variant_id == 1  # through Redis
        await b.publish(stock(2))
        assert (await asyncio.wait_for(anext(on_b), 10)).variant_id == 2
        assert (await asyncio.wait_for(anext(on_a), 10)).variant_id == 2
        assert heard == {"a": [("local", 1), ("remote", 2)], "b": [("remote", 1), ("local", 2)]}
        assert (a.published, a.received, b.published, b.received) == (1, 1, 1, 1)
        await on_a.aclose()
        await on_b.aclose()
    finally:
        await a.stop()
        await b.stop()


async def test_a_process_that_loses_redis_reconnects_and_keeps_delivering():
    assert REDIS_URL
    channel = f"omnigate-test-{uuid.uuid4().hex}:events"
    name = f"bus-{uuid.uuid4().hex[:8]}"
    a, b = await _bus("bus-a", channel), await _bus(name, channel)
    admin = Redis.from_url(REDIS_URL)
    try:
        clients = await admin.client_list()
        subscribed = [c["id"] for c in clients if c.get("name") == name and int(c.get("sub", 0)) > 0]
        assert len(subscribed) == 1  # one Redis subscription for the whole process
        await admin.client_kill_filter(_id=subscribed[0])
        on_b = b.subscribe("stock")
        for n in range(600):  # publish until B hears again: what it missed is not replayed
            first = asyncio.ensure_future(anext(on_b))
            await asyncio.sleep(0)
            await a.publish(stock(n))
            done, _ = await asyncio.wait({first}, timeout=0.05)
            if done:
                break
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            on_b = b.subscribe("stock")
        assert b.received >= 1 and b.reconnects >= 1
    finally:
        await admin.aclose()
        await a.stop()
        await b.stop()
