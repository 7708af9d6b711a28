"""Lookups by secret code (`giftCardBalance`), limited per caller with a GCRA bucket of
gateway/protections/rate_limit.py (in Redis when configured, so every process counts the same lookups).

A caller is a member, staff member or key by its subject, anyone else by client address. Every
lookup counts, found or not: what is limited is guessing, and a guess looks like any lookup.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from gateway.protections.rate_limit import RateLimiter


class CodeLookupThrottle:
    def __init__(
        self,
        name: str,
        per_caller: int,
        period_seconds: int,
        redis: Redis | None = None,
        prefix: str = "omnigate:",
    ) -> None:
        self._limiter = RateLimiter({}, period_seconds, redis, prefix)
        self._name = name
        self._limit = per_caller

    @property
    def refused(self) -> int:
        return self._limiter.rejections

    async def admit(self, caller: str) -> int | None:
        """None: the lookup may go on (it is counted); else the seconds to wait."""
        if self._limit <= 0:
            return None
        key = hashlib.sha256(caller.encode()).hexdigest()[:32]
        decision = await self._limiter.take(f"{self._name}:{key}", self._limit, 1)
        if decision is not None and not decision.allowed:
            return decision.retry_after
        return None
