"""The event bus: domain events fan out to whoever listens in this process.

Delivery is at-most-once and never blocks the publisher: each subscriber has a bounded queue, and
one that falls behind is dropped (its iterator ends, and its `on_drop` is called at once, so that
the transport can close a connection whose client stopped reading) rather than slowing a checkout
down. The current state is always readable by query: a client that reconnects reads it, then listens.

Two kinds of consumers:
- `listen(topic, cb)`: synchronous callbacks (cache invalidation), for events raised here and, by
  default, for those received from other processes (`local=` / `remote=` choose).
- `subscribe(topic)`: an async iterator per subscriber (GraphQL subscriptions).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any


class InProcessEventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        # topic -> each subscriber's queue: what to call when it is dropped, how many it serves
        self._subscribers: dict[str, dict[asyncio.Queue[Any], _Subscriber]] = {}
        self._listeners: dict[str, list[tuple[Callable[[Any], None], bool, bool]]] = {}
        self.published = 0
        self.received = 0  # events from other processes (the Redis bus)
        self.dropped = 0  # subscribers ended for falling behind

    @property
    def subscribers(self) -> int:
        """Open `subscribe` iterators: in the served gateway, open GraphQL subscriptions."""
        return sum(
            1 if audience is None else audience()
            for queues in self._subscribers.values()
            for _, audience in queues.values()
        )

    def listen(
        self, topic: str, callback: Callable[[Any], None], *, local: bool = True, remote: bool = True
    ) -> None:
        """Call `callback` synchronously for each event of `topic`: raised in this process
        (`local`) and/or received from another one (`remote`)."""
        self._listeners.setdefault(topic, []).append((callback, local, remote))

    async def publish(self, event: Any) -> None:
        self.published += 1
        self.deliver(event, remote=False)

    def deliver(self, event: Any, *, remote: bool) -> None:
        """Hand an event to this process's listeners and subscribers (never re-published)."""
        for callback, local_ok, remote_ok in self._listeners.get(event.topic, ()):
            if remote_ok if remote else local_ok:
                callback(event)
        subscribers = self._subscribers.get(event.topic, {})
        for queue, (on_drop, _) in list(subscribers.items()):
            if queue.qsize() < self._queue_size:
                queue.put_nowait(event)
            else:
                # Too far behind: end its stream (the spare slot holds the marker).
                del subscribers[queue]
                self.dropped += 1
                queue.put_nowait(_END)
                if on_drop is not None:
                    on_drop()

    async def subscribe(
        self,
        topic: str,
        on_drop: Callable[[], None] | None = None,
        audience: Callable[[], int] | None = None,
    ) -> AsyncIterator[Any]:
        """The topic's events until the subscriber falls `queue_size` events behind; then the
        iterator ends once it has caught up, and `on_drop` (synchronous, called by whoever
        published) has already been told. `audience`: how many subscriptions this one stands
        for (a shared group's; one when None), for the `subscribers` count."""
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size + 1)
        self._subscribers.setdefault(topic, {})[queue] = (on_drop, audience)
        try:
            while (event := await queue.get()) is not _END:
                yield event
        finally:
            self._subscribers.get(topic, {}).pop(queue, None)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


_END = object()
_Subscriber = tuple[Callable[[], None] | None, Callable[[], int] | None]
