"""Load shedding: past capacity the gateway says so at once instead of queueing without bound.

At most `limit` GraphQL requests (and webhooks) run at a time in a process. One more waits up
to `queue_seconds` for a slot; if none frees up it is answered 503 with `Retry-After` and a
GraphQL error coded UPSTREAM_UNAVAILABLE (`extensions.reason: OVERLOADED`): nothing of it ran,
so even a mutation may simply be sent again. Latency then stays bounded by the slowest request
plus the queue time, whatever the arrival rate. Health checks, metrics and subscriptions
(websockets, SSE streams) are never shed: an orchestrator must see a busy process as alive, and
a subscription is not a request.

uvicorn's `--limit-concurrency` answers a plain-text 503 for every path, health checks
included, and counts open websockets; this one is scoped to the work that can pile up.
"""

from __future__ import annotations

import asyncio
import math

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.transport.media import response_media, stream_protocol


def _shed(scope: Scope) -> bool:
    """GraphQL requests and webhooks; not /graphql/stream nor a stream asked of /graphql (SSE,
    multipart): a subscription held open like a websocket."""
    path = scope["path"]
    return (path == "/graphql" and stream_protocol(scope) is None) or path.startswith("/webhooks/")


class Capacity:
    """The slots one process shares among its requests, and how many were refused."""

    def __init__(self, limit: int, queue_seconds: float) -> None:
        self.slots = asyncio.Semaphore(limit) if limit > 0 else None
        self.queue_seconds = queue_seconds
        self.retry_after = max(1, math.ceil(queue_seconds))
        self.shed = 0

    async def acquire(self) -> bool:
        assert self.slots is not None
        if not self.slots.locked():
            await self.slots.acquire()  # a free slot: taken without waiting
            return True
        try:
            await asyncio.wait_for(self.slots.acquire(), self.queue_seconds)
        except TimeoutError:
            self.shed += 1
            return False
        return True


class LoadShedding:
    def __init__(self, app: ASGIApp, capacity: Capacity) -> None:
        self.app = app
        self.capacity = capacity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slots = self.capacity.slots
        if slots is None or scope["type"] != "http" or not _shed(scope):
            await self.app(scope, receive, send)
            return
        if not await self.capacity.acquire():
            await self._refuse(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _refuse(self, scope: Scope, send: Send) -> None:
        retry_after = self.capacity.retry_after
        error = {
            "message": f"the gateway is at capacity; nothing was done, retry in {retry_after} s",
            "extensions": {"code": "UPSTREAM_UNAVAILABLE", "reason": "OVERLOADED"},
        }
        body = orjson.dumps({"errors": [error]})
        headers = [
            (b"content-type", response_media(scope)),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
