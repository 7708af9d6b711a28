"""Who polls: one leader at a time among the gateway's processes.

With Redis, a lock with an expiry (redis-py's `lock()`, SET NX PX underneath): the leader renews
it every cycle; if the leader dies, the lock expires and another process takes over. Without
Redis there is one process, and it leads.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

from redis.exceptions import LockError, RedisError

log = logging.getLogger("omnigate.leader")


class Leadership(Protocol):
    async def lead(self) -> bool:
        """Take or keep the lead; True while this process holds it."""
        ...

    async def resign(self) -> None: ...


class SoleProcess:
    async def lead(self) -> bool:
        return True

    async def resign(self) -> None:
        return None


class RedisLeadership:
    def __init__(self, redis: Any, name: str, ttl_s: float) -> None:
        # The lock object keeps its token: renewing proves it is still ours.
        self._lock = redis.lock(name, timeout=ttl_s, blocking=False, thread_local=False)
        self._held = False

    async def lead(self) -> bool:
        try:
            if self._held:
                await self._lock.reacquire()
            else:
                self._held = bool(await self._lock.acquire(blocking=False))
        except LockError:
            log.warning("lost the polling lead")
            self._held = False
        except RedisError as exc:
            # Without Redis nobody can prove leadership: stand down rather than poll twice.
            log.warning("redis unavailable, not polling: %s", exc)
            self._held = False
        return self._held

    async def resign(self) -> None:
        if self._held:
            self._held = False
            with contextlib.suppress(LockError, RedisError):
                await self._lock.release()
