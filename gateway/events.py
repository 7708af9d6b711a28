"""The event bus: domain events fan out to whoever listens in this process.

Delivery is at-most-once and never blocks the publisher: each subscriber has a bounded queue, and
one that falls behind is dropped (its iterator ends) rather than slowing a checkout down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


class InProcessEventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = {}
        self.published = 0

    async def publish(self, event: Any) -> None:
        self.published += 1
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
