"""How soon a subscriber hears a change, on PostgreSQL + Redis with two gateway processes:

    python -m bench.notify --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15 --writes 30

Two `omnigate serve` processes, A and B, share a scratch demo database and Redis; one websocket
client on B subscribes to `stockChanged` of one variant at one store. Then, `--writes` times each:
- a mutation on process A (`inventoryAdjust`): the time from sending it to the push on B, which
  crossed processes through Redis;
- a write around the gateway (an ERP's `UPDATE inventory_levels` on a connection of its own):
  the time from sending the statement (autocommit) to the push on B, which B heard from
  PostgreSQL (LISTEN/NOTIFY, migration 0011) with no cache TTL involved.
It prints p50/p99/max of each, and exits non-zero if a push is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import websockets

from bench.checkout import ADJUST, STORE, TOKEN, VARIANT
from bench.writes import HttpConnection, Setup, _percentile, _scratch, _served
from schema.ids import to_global_id

SUBSCRIBE = (
    "subscription ($v: [ID!], $l: [ID!]) { stockChanged(variantIds: $v, locationIds: $l) { onHand } }"
)


class Subscriber:
    """One graphql-transport-ws subscription; `heard` resolves with the next onHand pushed."""

    def __init__(self) -> None:
        self.pushes: asyncio.Queue[tuple[float, int]] = asyncio.Queue()

    async def open(self, port: int) -> None:
        self.socket = await websockets.connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]  # type: ignore[list-item]
        )
        await self.socket.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
        assert orjson.loads(await self.socket.recv())["type"] == "connection_ack"
        variables = {"v": [to_global_id("ProductVariant", VARIANT)], "l": [to_global_id("Location", STORE)]}
        payload = {"query": SUBSCRIBE, "variables": variables}
        await self.socket.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode())
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = orjson.loads(raw)
            if message.get("type") == "next":
                arrived = time.perf_counter()
                self.pushes.put_nowait((arrived, message["payload"]["data"]["stockChanged"]["onHand"]))

    async def heard(self, on_hand: int) -> float:
        async with asyncio.timeout(10):
            while True:
                arrived, value = await self.pushes.get()
                if value == on_hand:
                    return arrived

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()


def _subscriptions(port: int) -> float:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("omnigate_active_subscriptions "):
                return float(line.split()[1])
    return 0.0


async def _subscribed(port: int) -> None:
    """Until B's /metrics shows the subscription (the protocol has no ack for one)."""
    for _ in range(400):
        if await asyncio.to_thread(_subscriptions, port) >= 1:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("B never held the subscription")


async def measure(url: str, port_a: int, port_b: int, writes: int) -> dict[str, list[float]]:
    import asyncpg
    from sqlalchemy.engine import make_url

    subscriber = Subscriber()
    await subscriber.open(port_b)
    await _subscribed(port_b)
    a = HttpConnection("127.0.0.1", port_a)
    u = make_url(url)
    erp = await asyncpg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                                database=u.database, server_settings={"application_name": "erp"})  # fmt: skip
    variant, location = to_global_id("ProductVariant", VARIANT), to_global_id("Location", STORE)
    found: dict[str, list[float]] = {"mutation": [], "external": []}
    try:
        for n in range(writes):
            on_hand = 1000 + 2 * n
            change = {"variantId": variant, "locationId": location, "onHand": on_hand}
            sent = time.perf_counter()
            await a.post(ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}, token=TOKEN)
            found["mutation"].append(await subscriber.heard(on_hand) - sent)
            await asyncio.sleep(0.02)
            sent = time.perf_counter()
            await erp.execute(
                "UPDATE inventory_levels SET on_hand = $1, updated_at = now() "
                "WHERE variant_id = $2 AND location_id = $3",
                on_hand + 1, VARIANT, STORE,
            )  # fmt: skip
            found["external"].append(await subscriber.heard(on_hand + 1) - sent)
            await asyncio.sleep(0.02)
    finally:
        await erp.close()
        a.close()
        await subscriber.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("GATEWAY_TEST_DATABASE_URL"))
    parser.add_argument("--redis", default=os.environ.get("GATEWAY_TEST_REDIS_URL"))
    parser.add_argument("--writes", type=int, default=30)
    args = parser.parse_args(argv)
    if not args.database_url or not args.redis:
        print("notify: skipped (needs --database-url and --redis, or GATEWAY_TEST_DATABASE_URL/REDIS_URL)")
        return 0
    work = Path(tempfile.mkdtemp(prefix="omnigate-notify-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}:"
    with _scratch(args.database_url, work) as url, ExitStack() as stack:
        a = stack.enter_context(_served(Setup("A", url, 1, args.redis), 0, work, prefix))
        b = stack.enter_context(_served(Setup("B", url, 1, args.redis), 0, work, prefix))
        found = asyncio.run(measure(url, a[0], b[0], args.writes))
    for kind, label in (
        ("mutation", "mutation on process A -> stockChanged subscriber on process B (Redis)"),
        ("external", "write around the gateway (UPDATE by another client) -> stockChanged on B (NOTIFY)"),
    ):
        times: list[Any] = found[kind]
        print(
            f"{label}: p50 {_percentile(times, 0.5):.1f} ms, p99 {_percentile(times, 0.99):.1f} ms, "
            f"max {max(times) * 1000:.1f} ms over {len(times)} writes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
