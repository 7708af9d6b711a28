"""A stalled websocket cannot hold the others back: its queue is bounded, and when it falls too
far behind its subscription ends with SUBSCRIBER_TOO_SLOW. Driven at the ASGI level, where a
socket whose client stopped reading is one whose `send` does not return."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from resolvers.events import StockChanged
from tests.commerce import SEATTLE
from tests.conftest import make_settings, serving

QUEUE = 3
STOCK = "subscription { stockChanged { onHand location { id } } }"


class Socket:
    """One graphql-transport-ws client over the app's ASGI interface."""

    def __init__(self, app: Any) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.messages: list[dict[str, Any]] = []
        self.arrived = asyncio.Condition()
        self.reading = asyncio.Event()
        self.reading.set()
        scope = {
            "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/graphql",
            "raw_path": b"/graphql", "root_path": "", "query_string": b"",
            "headers": [(b"host", b"gateway.test"), (b"sec-websocket-protocol", b"graphql-transport-ws")],
            "subprotocols": ["graphql-transport-ws"], "client": ("127.0.0.1", 1),
            "server": ("gateway.test", 80),
        }  # fmt: skip
        self.task = asyncio.ensure_future(app(scope, self.incoming.get, self._send))
        self.incoming.put_nowait({"type": "websocket.connect"})

    async def _send(self, message: dict[str, Any]) -> None:
        await self.reading.wait()  # a client that stopped reading: the server's send blocks
        if message["type"] == "websocket.send":
            async with self.arrived:
                self.messages.append(json.loads(message["text"]))
                self.arrived.notify_all()

    def send(self, message: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def until(self, count: int, kind: str = "next") -> list[dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.of(kind)) >= count), timeout=30)
        return self.of(kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def subscribe(self) -> None:
        self.send({"type": "connection_init", "payload": {}})
        await self.until(1, "connection_ack")
        self.send({"id": "1", "type": "subscribe", "payload": {"query": STOCK}})

    async def close(self) -> None:
        self.reading.set()
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 30)


def changed(n: int) -> StockChanged:
    return StockChanged(1, SEATTLE, n, 0, n, "CYCLE_COUNT", datetime.now(UTC))


async def test_one_stalled_socket_does_not_delay_the_others(database_url: str):
    settings = make_settings(database_url, subscription_queue_size=QUEUE)
    async with serving(settings) as api:
        gateway = api.gateway
        fast, stalled = Socket(api.app), Socket(api.app)
        await fast.subscribe()
        await stalled.subscribe()
        for _ in range(600):
            if gateway.active_subscriptions == 2:
                break
            await asyncio.sleep(0.01)
        stalled.reading.clear()

        events = 4 * QUEUE
        for n in range(1, events + 1):
            await gateway.events.publish(changed(n))
            await fast.until(n)  # each one reaches the fast socket while the other is stuck
        assert len(fast.of("next")) == events
        assert gateway.events.dropped == 1 and gateway.active_subscriptions == 1

        # The stalled client reads again: what was queued, then the reason it was ended.
        stalled.reading.set()
        await stalled.until(1, "complete")
        pushed = [m["payload"] for m in stalled.of("next")]
        assert len(pushed) <= QUEUE + 2  # what it had, at most, and then the error
        assert [e["extensions"]["code"] for e in pushed[-1]["errors"]] == ["SUBSCRIBER_TOO_SLOW"]
        assert all("errors" not in p for p in pushed[:-1])
        assert len(fast.of("next")) == events  # nothing else was published

        await fast.close()
        await stalled.close()
        assert gateway.active_subscriptions == 0
