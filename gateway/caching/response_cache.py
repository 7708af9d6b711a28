"""The response cache: whole answers to public queries, kept until an event makes them stale.

Only answers of compiled plans that touch nothing but public types are stored (the plan says so,
see `gateway.compiled`), keyed by the request body exactly as sent plus the caller's cache
partition, so a hit needs no parsing at all. Each entry remembers the generation of every topic
its answer read ("catalog", "stock", "locations"); a domain event bumps its topic's generation,
so an answer is never staler than the event stream. A TTL bounds what events cannot see (the
clock behind `pickupReadyBy`).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    etag: bytes
    generations: tuple[tuple[str, int], ...]
    expires_at: float


class ResponseCache:
    def __init__(self, max_entries: int = 5000, ttl_seconds: float = 60.0) -> None:
        self._entries: OrderedDict[Any, CachedResponse] = OrderedDict()
        self._max = max_entries
        self.ttl = ttl_seconds
        self._generations: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def invalidate(self, topic: str) -> None:
        self._generations[topic] = self._generations.get(topic, 0) + 1

    def snapshot(self, topics: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """Take it before reading: an event during the read makes the stored answer stale."""
        return tuple((t, self._generations.get(t, 0)) for t in sorted(topics))

    def get(self, key: Any) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        generations = self._generations
        if entry.expires_at < time.monotonic() or any(
            generations.get(topic, 0) != seen for topic, seen in entry.generations
        ):
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Any, body: bytes, generations: tuple[tuple[str, int], ...]) -> CachedResponse:
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        entry = CachedResponse(body, etag, generations, time.monotonic() + self.ttl)
        if all(self._generations.get(t, 0) == g for t, g in generations):
            self._entries[key] = entry
            self._entries.move_to_end(key)
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return entry
