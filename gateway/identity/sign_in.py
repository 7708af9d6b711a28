"""Sign-in throttling: password guesses against `memberLogin`, limited per account and per
client address with the GCRA buckets of gateway/protections/rate_limit.py (in Redis when configured, so
every process counts the same attempts; in process otherwise).

Each attempt is charged to both buckets before the password is checked (so a burst of guesses
in flight at once is counted, not let through), and a correct password gives its points back:
only failures add up. An attempt over either limit is refused with `RATE_LIMITED` and
`retryAfter` before any password is checked, whether the account exists or not. Account keys are
the sha256 of the normalised email: no address is written to Redis in clear.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from gateway.protections.rate_limit import RateLimiter


class SignInThrottle:
    def __init__(
        self,
        per_account: int,
        per_address: int,
        period_seconds: int,
        redis: Redis | None = None,
        prefix: str = "omnigate:",
    ) -> None:
        self._limiter = RateLimiter({}, period_seconds, redis, prefix)
        self._limits = (per_account, per_address)

    def _buckets(self, email: str, address: str | None) -> list[tuple[str, int]]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        per_account, per_address = self._limits
        buckets = [
            (f"signin:account:{account}", per_account),
            (f"signin:ip:{address or 'unknown'}", per_address),
        ]
        return [(key, limit) for key, limit in buckets if limit > 0]

    @property
    def refused(self) -> int:
        return self._limiter.rejections

    async def admit(self, email: str, address: str | None) -> int | None:
        """None: the attempt may go on (it is counted); else the seconds to wait."""
        taken: list[tuple[str, int]] = []
        for key, limit in self._buckets(email, address):
            decision = await self._limiter.take(key, limit, 1)
            if decision is not None and not decision.allowed:
                for done, done_limit in taken:  # a refused attempt costs nothing elsewhere
                    await self._limiter.give_back(done, done_limit, 1)
                return decision.retry_after
            taken.append((key, limit))
        return None

    async def succeeded(self, email: str, address: str | None) -> None:
        """The password was right: the attempt does not count against the account or address."""
        for key, limit in self._buckets(email, address):
            await self._limiter.give_back(key, limit, 1)
