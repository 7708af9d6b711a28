"""The response cache across processes, through Redis.

- Topic generations live in Redis too: a process that sees an event increments the topic's
  counter there, and every process polls the counters (one MGET per interval) and marks its own
  entries of a changed topic stale. Cross-process staleness is bounded by the poll interval.
- Answers are shared as a second tier: a process that misses locally looks in Redis before
  executing, and stores what it computed for the others, with the same TTL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.caching.response_cache import CachedResponse, ResponseCache

log = logging.getLogger("omnigate.cache")

TOPICS = ("catalog", "stock", "locations")


class SharedResponseCache:
    def __init__(
        self,
        redis: Redis,
        local: ResponseCache,
        prefix: str = "omnigate:",
        poll_interval: float = 0.1,
        on_remote_change: Callable[[str], None] | None = None,
    ) -> None:
        self.redis = redis
        self.local = local
        self.prefix = prefix
        self.poll_interval = poll_interval
        self.on_remote_change = on_remote_change
        self._remote: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    def _generation_key(self, topic: str) -> str:
        return f"{self.prefix}gen:{topic}"

    def _entry_key(self, key: Any) -> str:
        body, partition = key
        digest = hashlib.blake2b(body + repr(partition).encode(), digest_size=20).hexdigest()
        return f"{self.prefix}rc:{digest}"

    def _background(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def bump(self, topic: str) -> None:
        """A local event: stale here at once, and everywhere else by the next poll."""
        self.local.invalidate(topic)
        self._background(self._incr(topic))

    async def _incr(self, topic: str) -> None:
        try:
            await self.redis.incr(self._generation_key(topic))
        except RedisError as exc:
            log.warning("could not share a %s invalidation: %s", topic, exc)

    async def sync(self) -> None:
        """Read the shared generations once; a changed topic goes stale locally."""
        values = await self.redis.mget([self._generation_key(t) for t in TOPICS])
        for topic, value in zip(TOPICS, values, strict=True):
            generation = int(value or 0)
            if self._remote.get(topic) not in (None, generation):
                self.local.invalidate(topic)
                if self.on_remote_change is not None:
                    self.on_remote_change(topic)
            self._remote[topic] = generation

    async def _poll(self) -> None:
        while True:
            try:
                await self.sync()
            except RedisError as exc:
                log.warning("shared cache generations unavailable: %s", exc)
                self._remote.clear()  # unknown: do not trust shared entries until it is back
            await asyncio.sleep(self.poll_interval)

    async def start(self) -> None:
        await self.sync()
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in list(self._pending):
            await asyncio.gather(task, return_exceptions=True)
        await self.redis.aclose()

    def snapshot(self) -> dict[str, int] | None:
        return dict(self._remote) if len(self._remote) == len(TOPICS) else None

    async def get(self, key: Any) -> CachedResponse | None:
        if self.snapshot() is None:
            return None
        try:
            raw = await self.redis.get(self._entry_key(key))
        except RedisError:
            return None
        if raw is None:
            return None
        header, _, body = raw.partition(b"\n")
        remote: dict[str, int] = orjson.loads(header)
        if any(self._remote.get(t) != g for t, g in remote.items()):
            return None
        # Still valid: keep it here too, under this process's own generations.
        return self.local.put(key, body, self.local.snapshot(remote))

    def put(self, key: Any, entry: CachedResponse, remote: dict[str, int] | None, topics: Any) -> None:
        if remote is None:
            return
        payload = orjson.dumps({t: remote[t] for t in topics}) + b"\n" + entry.body
        ttl = int(self.local.ttl)
        self._background(self._set(self._entry_key(key), payload, ttl))

    async def _set(self, key: str, payload: bytes, ttl: int) -> None:
        try:
            await self.redis.set(key, payload, ex=ttl)
        except RedisError as exc:
            log.warning("could not share a cached answer: %s", exc)
