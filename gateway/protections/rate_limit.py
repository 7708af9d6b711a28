"""Rate limits: a GCRA bucket per caller (partner key, member, staff, or IP when anonymous),
charged with each operation's cost, shared by every process through Redis when configured.

GCRA keeps one number per caller, the theoretical arrival time (TAT): each point pushes it one
emission interval (period / limit) further; a request is refused while the new TAT would be more
than one period ahead of now. So a caller may spend a full period's limit at once, then earns it
back steadily. With Redis, a Lua script does the read-check-write atomically on Redis's clock.
If Redis fails the request passes (logged and counted): the limit protects the upstreams, it is
not worth an outage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from graphql.execution import ExecutionResult as CoreResult
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from gateway.transport.middleware import client_address
from resolvers.principal import Principal, PrincipalKind

log = logging.getLogger("omnigate.rate_limit")
STATE_KEY = "omnigate.rate_limit"  # scope state: the decision for this request, taken once

_GCRA = """
local period = tonumber(ARGV[1])
local interval = period / tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + tonumber(ARGV[3]) * interval
if new_tat - now > period then return {0, tat - now} end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, new_tat - now}
"""
# Points handed back (a sign-in that turned out right): the TAT moves back, at most to now.
_GIVE_BACK = """
local tat = redis.call('GET', KEYS[1])
if not tat then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local new_tat = tonumber(tat) - tonumber(ARGV[3]) * tonumber(ARGV[1]) / tonumber(ARGV[2])
if new_tat <= now then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return 1
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int = 0

    def headers(self, period_seconds: int) -> list[tuple[str, str]]:
        headers = [
            ("RateLimit-Limit", str(self.limit)),
            ("RateLimit-Remaining", str(self.remaining)),
            ("RateLimit-Reset", str(self.reset_seconds)),
            ("RateLimit-Policy", f"{self.limit};w={period_seconds}"),
        ]
        if not self.allowed:
            headers.append(("Retry-After", str(self.retry_after)))
        return headers


class RateLimiter:
    def __init__(
        self,
        limits: dict[PrincipalKind, int],
        period_seconds: int = 60,
        redis: Redis | None = None,
        prefix: str = "omnigate:",
    ) -> None:
        self.limits = limits  # points per period by kind of caller; absent or 0: unlimited
        self.period = period_seconds
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_GCRA) if redis is not None else None
        self._give_back = redis.register_script(_GIVE_BACK) if redis is not None else None
        self._tats: dict[str, float] = {}  # in-process: microseconds
        self.rejections = 0
        self.errors = 0

    def key(self, principal: Principal, client_ip: str | None) -> str | None:
        if not self.limits.get(principal.kind):
            return None
        if principal.kind is PrincipalKind.ANONYMOUS:
            return f"ip:{client_ip or 'unknown'}"
        return f"{principal.kind.value.lower()}:{principal.subject}"

    async def charge(self, principal: Principal, client_ip: str | None, cost: int) -> Decision | None:
        key = self.key(principal, client_ip)
        if key is None:
            return None
        limit = self.limits[principal.kind]
        points = min(max(cost, 1), limit)  # the costliest allowed operation still fits a full bucket
        return await self.take(key, limit, points)

    async def take(self, key: str, limit: int, points: int) -> Decision | None:
        """Charge `points` to the bucket `key` of `limit` points per period; None when the store
        cannot be reached (the request passes)."""
        period = self.period * 1_000_000
        try:
            if self._script is not None:
                allowed, ahead = await self._script(
                    keys=[f"{self.prefix}rl:{key}"], args=[period, limit, points]
                )
            else:
                allowed, ahead = self._local(key, period, limit, points)
        except RedisError as exc:
            self.errors += 1
            log.warning("rate limit store unavailable, letting the request through: %s", exc)
            return None
        interval = period / limit
        remaining = max(0, math.floor((period - ahead) / interval))
        decision = Decision(bool(allowed), limit, remaining, math.ceil(ahead / 1e6))
        if not decision.allowed:
            self.rejections += 1
            wait = ahead + points * interval - period
            decision = Decision(
                False, limit, remaining, decision.reset_seconds, max(1, math.ceil(wait / 1e6))
            )
        return decision

    async def give_back(self, key: str, limit: int, points: int) -> None:
        """Hand back `points` taken from the bucket `key` (what was charged turned out free)."""
        period = self.period * 1_000_000
        try:
            if self._give_back is not None:
                await self._give_back(keys=[f"{self.prefix}rl:{key}"], args=[period, limit, points])
                return
        except RedisError as exc:
            self.errors += 1
            log.warning("rate limit store unavailable, could not give points back: %s", exc)
            return
        if key in self._tats:
            self._tats[key] = max(self._tats[key] - points * period / limit, time.monotonic() * 1e6)

    def _local(self, key: str, period: float, limit: int, points: int) -> tuple[int, float]:
        now = time.monotonic() * 1e6
        tat = max(self._tats.get(key, now), now)
        new_tat = tat + points * period / limit
        if new_tat - now > period:
            return 0, tat - now
        self._tats[key] = new_tat
        if len(self._tats) > 100_000:  # forget callers whose bucket is full again
            self._tats = {k: t for k, t in self._tats.items() if t > now}
        return 1, new_tat - now


def rate_limited(decision: Decision) -> GraphQLError:
    return GraphQLError(
        f"Too many requests; retry in {decision.retry_after} s.",
        extensions={"code": "RATE_LIMITED", "retryAfter": decision.retry_after},
    )


class RateLimit(SchemaExtension):
    """Charges the operation's cost to its caller before it runs; refuses it when over the limit.

    The compiled endpoint charges before its cache lookup and leaves its decision in the request
    scope, so a request it hands to strawberry's view is not charged twice."""

    def __init__(self, limiter: RateLimiter, cost: Callable[[Any], int]) -> None:
        self.limiter = limiter
        self.cost = cost

    async def on_execute(self) -> Iterator[None]:  # type: ignore[override]
        ec = self.execution_context
        request = getattr(ec.context, "request", None)
        if ec.result is None and request is not None:
            scope = request.scope
            state = scope.setdefault("state", {})
            if scope["type"] == "http" and STATE_KEY in state:
                decision = state[STATE_KEY]
            else:  # each operation on a websocket is charged on its own
                principal, cost = ec.context.principal, self.cost(ec)
                decision = await self.limiter.charge(principal, client_address(scope), cost)
                if scope["type"] == "http":
                    state[STATE_KEY] = decision
            response = getattr(ec.context, "response", None)
            if decision is not None and isinstance(response, Response):  # not on a websocket
                for name, value in decision.headers(self.limiter.period):
                    response.headers[name] = value
                if not decision.allowed:
                    response.status_code = 429
            if decision is not None and not decision.allowed:
                ec.result = CoreResult(None, [rate_limited(decision)])
        yield
