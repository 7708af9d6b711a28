"""A stalled websocket cannot hold the others back: its queue is bounded, and when it falls too
far behind its socket is closed with 4503 (Subscriber too slow). Driven at the ASGI level, where a
socket whose client stopped reading is one whose `send` does not return (uvicorn's does not while
the socket's write buffer is full), its close frame included: the client finds the close code
after what was already on its way."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway.transport.subscribers import TOO_SLOW
from tests.commerce import SEATTLE, set_stock
from tests.conftest import make_settings, serving

QUEUE = 3
STOCK = 'subscription { stockChanged(variantIds: ["UHJvZHVjdFZhcmlhbnQ6MQ=="]) { onHand } }'


class Socket:
    """One graphql-transport-ws client over the app's ASGI interface."""

    def __init__(self, app: Any) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.messages: list[dict[str, Any]] = []
        self.arrived = asyncio.Condition()
        self.reading = asyncio.Event()
        self.reading.set()
        self.closed: int | None = None  # the close code the server sent
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
        async with self.arrived:
            if message["type"] == "websocket.send":
                self.messages.append(json.loads(message["text"]))
            elif message["type"] == "websocket.close":
                self.closed = message.get("code", 1000)
                self.incoming.put_nowait({"type": "websocket.disconnect", "code": self.closed})
            self.arrived.notify_all()

    def send(self, message: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(message)})

    async def until(self, count: int, kind: str = "next") -> list[dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.of(kind)) >= count), timeout=30)
        return self.of(kind)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def subscribe(self, token: str | None = None, query: str = STOCK) -> None:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        self.send({"type": "connection_init", "payload": payload})
        await self.until(1, "connection_ack")
        self.send({"id": "1", "type": "subscribe", "payload": {"query": query}})

    async def until_closed(self) -> int:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: self.closed is not None), timeout=30)
        assert self.closed is not None
        return self.closed

    async def close(self) -> None:
        self.reading.set()
        if self.closed is None:
            self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 30)


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
            await set_stock(api, 1, SEATTLE, n)  # its stockChanged pushes the level read after it
            await fast.until(n)  # each one reaches the fast socket while the other is stuck
        assert on_hand(fast) == list(range(1, events + 1))  # every one, in order
        assert gateway.subscribers_dropped == 1 and gateway.active_subscriptions == 1
        assert stalled.closed is None  # its close frame waits behind what it has not read

        # The stalled client reads again: what was already on its way, in order, then the close.
        stalled.reading.set()
        assert await stalled.until_closed() == TOO_SLOW == 4503
        pushed = on_hand(stalled)
        assert pushed == list(range(1, len(pushed) + 1)) and len(pushed) <= QUEUE + 1
        assert not stalled.of("error") and not stalled.of("complete")
        assert on_hand(fast) == list(range(1, events + 1))  # nothing else was published

        await set_stock(api, 1, SEATTLE, events + 1)  # the fast one still hears the next
        await fast.until(events + 1)
        await fast.close()
        await stalled.close()
        assert gateway.active_subscriptions == 0


def on_hand(socket: Socket) -> list[int]:
    return [m["payload"]["data"]["stockChanged"]["onHand"] for m in socket.of("next")]


ORDERS = "subscription { orderStatusChanged { id } }"


async def test_subscribers_of_one_scope_share_one_execution_per_event(database_url: str):
    """Same document, variables and authorization scope: one group, one execution per event, each
    member its own copy. Another scope (staff of another store) is another group."""
    async with serving(make_settings(database_url)) as api:
        gateway = api.gateway
        anonymous = [Socket(api.app) for _ in range(3)]
        seattle_staff = [Socket(api.app) for _ in range(2)]
        other_staff = Socket(api.app)
        for socket in anonymous:
            await socket.subscribe()
        for socket in seattle_staff:
            await socket.subscribe("test-staff-1", ORDERS)
        await other_staff.subscribe("test-staff-2", ORDERS)
        everyone = [*anonymous, *seattle_staff, other_staff]
        for _ in range(600):
            if gateway.active_subscriptions == len(everyone):
                break
            await asyncio.sleep(0.01)
        assert gateway.active_subscriptions == len(everyone)
        assert sorted(len(g.members) for g in gateway.fanout.groups.values()) == [1, 2, 3]

        before = gateway.fanout.executions
        await set_stock(api, 1, SEATTLE, 7)
        for socket in anonymous:
            await socket.until(1)
            assert on_hand(socket) == [7]
        assert gateway.fanout.executions == before + 1  # one selection for the three of them

        for socket in everyone:
            await socket.close()
        assert gateway.active_subscriptions == 0 and not gateway.fanout.groups


async def test_each_member_of_a_group_is_charged_to_its_own_rate_limit(database_url: str):
    """Joining a group that is already running is not a way around the rate limit: a caller over
    its limit is refused RATE_LIMITED while the group goes on for the others."""
    settings = make_settings(database_url, rate_limit_anonymous=3, dev=False)
    async with serving(settings) as api:
        sockets = [Socket(api.app) for _ in range(5)]
        for socket in sockets:
            await socket.subscribe()
        refused = [s for s in sockets if s.of("error")]
        for _ in range(600):
            refused = [s for s in sockets if s.of("error")]
            if len(refused) + api.gateway.active_subscriptions == len(sockets):
                break
            await asyncio.sleep(0.01)
        assert 0 < len(refused) < len(sockets)  # the same client address, a bucket of 3 points
        codes = {e["extensions"]["code"] for s in refused for e in s.of("error")[0]["payload"]}
        assert codes == {"RATE_LIMITED"}
        for socket in sockets:
            await socket.close()
