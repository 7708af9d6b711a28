"""The event bus across gateway processes, through Redis pub/sub.

- A process publishes each event to its own listeners and subscribers at once (as in-process),
  then to one Redis channel as JSON naming the event's type and the process it came from.
- Each process holds ONE Redis subscription to that channel and fans what it receives out to its
  own subscribers (and to listeners registered for remote events). Its own events coming back are
  skipped, and a received event is never published again.
- Delivery is at-most-once: an event published while Redis is unreachable, or while a process is
  reconnecting, is not replayed. The process logs it, reconnects with backoff and keeps serving;
  clients read the current state by query (every push is a whole current record, not a delta).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import typing
import uuid
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.events.bus import InProcessEventBus
from resolvers.events import DomainEvent

log = logging.getLogger("omnigate.events")

EVENT_TYPES: dict[str, type] = {t.__name__: t for t in typing.get_args(DomainEvent)}


def encode(event: Any, origin: str) -> bytes:
    return orjson.dumps({"type": type(event).__name__, "origin": origin, "event": event})


def decode(raw: bytes) -> tuple[str, Any]:
    """(origin, event) of a message; raises KeyError/TypeError/ValueError on a foreign one."""
    message = orjson.loads(raw)
    kind = EVENT_TYPES[message["type"]]
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(kind)
    for field in dataclasses.fields(kind):
        value = message["event"][field.name]
        if hints[field.name] is datetime:
            value = datetime.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        values[field.name] = value
    return message["origin"], kind(**values)


class RedisEventBus(InProcessEventBus):
    def __init__(
        self,
        redis: Redis,
        channel: str,
        queue_size: int = 1000,
        max_backoff: float = 5.0,
    ) -> None:
        super().__init__(queue_size)
        self.redis = redis
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.publish_errors = 0
        self._task: asyncio.Task[None] | None = None

    async def publish(self, event: Any) -> None:
        await super().publish(event)
        try:
            await self.redis.publish(self.channel, encode(event, self.origin))
        except RedisError as exc:
            # At-most-once: the others miss this one; their clients read current state by query.
            self.publish_errors += 1
            log.warning("could not share a %s event with other processes: %s", event.topic, exc)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._receive_forever())
        try:  # serve at once even when Redis is down; the receiver keeps trying
            await asyncio.wait_for(self.connected.wait(), timeout=2)
        except TimeoutError:
            log.warning("event bus: Redis not reachable yet; serving this process's events only")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.redis.aclose()

    async def _receive_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected.set()
                    backoff = 0.1
                    await self._receive(pubsub)
            except (RedisError, OSError) as exc:
                self.connected.clear()
                self.reconnects += 1
                log.warning("event bus lost Redis (%s); reconnecting in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _receive(self, pubsub: Any) -> None:
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                origin, event = decode(message["data"])
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("event bus: ignoring a message it cannot read: %s", exc)
                continue
            if origin == self.origin:
                continue  # ours, already delivered here when published
            self.received += 1
            self.deliver(event, remote=True)
