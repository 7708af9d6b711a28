"""The event bus: domain events fan out to whoever listens in this process.

Delivery is at-most-once and never blocks the publisher: each subscriber has a bounded queue, and
one that falls behind is dropped (its iterator ends) rather than slowing a checkout down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any


class InProcessEventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = {}
        self._listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.published = 0

    def listen(self, topic: str, callback: Callable[[Any], None]) -> None:
        """Call `callback` synchronously for each event of `topic` (cache invalidation)."""
        self._listeners.setdefault(topic, []).append(callback)

    async def publish(self, event: Any) -> None:
        self.published += 1
        for callback in self._listeners.get(event.topic, ()):
            callback(event)
        for queue in list(self._subscribers.get(event.topic, ())):
            if queue.qsize() < self._queue_size:
                queue.put_nowait(event)
            else:
                # Too far behind: end its stream (the spare slot holds the marker).
                self._subscribers[event.topic].discard(queue)
                queue.put_nowait(_END)

    async def subscribe(self, topic: str) -> AsyncIterator[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size + 1)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            while (event := await queue.get()) is not _END:
                yield event
        finally:
            self._subscribers.get(topic, set()).discard(queue)


_END = object()
