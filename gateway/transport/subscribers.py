"""The connections that hold subscriptions (websockets, SSE streams), and how the gateway ends them.

- A client that fell too far behind (its bounded queue on the event bus overflowed) has its
  websocket closed with `TOO_SLOW` (4503, "Subscriber too slow") at once, rather than when it
  next reads: a stalled client holds nothing but its socket, and the others go on. Like the
  graphql-transport-ws codes (4400, 4401, 4403, 4408, ...) it is 4000 + an HTTP status, here 503;
  graphql-ws clients retry it (it is not one of their fatal codes). A client that sees it reads
  the current state by query, then subscribes again (delivery is at-most-once).
- When the process stops (SIGTERM), every websocket is closed with 1001 (going away) and every
  SSE stream ends, before uvicorn closes what is left (it would say 1012, service restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger("omnigate.subscribers")

TOO_SLOW = 4503
TOO_SLOW_REASON = "Subscriber too slow"
GOING_AWAY = 1001


class Subscribers:
    def __init__(self) -> None:
        self._websockets: weakref.WeakSet[WebSocket] = weakref.WeakSet()
        self._streams: set[asyncio.Event] = set()  # one per open SSE stream: set means "end now"
        self._closing: set[asyncio.Task[None]] = set()
        self.draining = False

    def websocket(self, websocket: WebSocket) -> Callable[[], None]:
        """Remember an open websocket; returns what the bus calls when its client is too slow."""
        self._websockets.add(websocket)
        return lambda: self._close_soon(websocket, TOO_SLOW, TOO_SLOW_REASON)

    def stream(self) -> asyncio.Event:
        """A new SSE stream's stop signal (set when it falls behind or the process stops);
        hand it back with `stream_ended` when the stream is over."""
        stop = asyncio.Event()
        if self.draining:
            stop.set()
        self._streams.add(stop)
        return stop

    def stream_ended(self, stop: asyncio.Event) -> None:
        self._streams.discard(stop)

    async def drain(self, grace_s: float) -> None:
        """Say goodbye to every subscriber: websockets closed with 1001, SSE streams ended. Waits at
        most `grace_s` seconds for the close frames to go out (a stalled client is not waited for)."""
        self.draining = True
        for stop in self._streams:
            stop.set()
        for websocket in list(self._websockets):
            self._close_soon(websocket, GOING_AWAY, "Server shutting down")
        if self._closing:
            await asyncio.wait(self._closing, timeout=grace_s)

    def _close_soon(self, websocket: WebSocket, code: int, reason: str) -> None:
        # Called synchronously by whoever publishes (or by shutdown): the close goes out on its own.
        task = asyncio.ensure_future(_close(websocket, code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is not WebSocketState.CONNECTED:
        return  # already closed by us, or never accepted
    with contextlib.suppress(Exception):  # the client may be gone already: nothing to tell it
        await websocket.close(code=code, reason=reason)
    log.info("closed a subscriber's websocket: %s %s", code, reason)


def is_websocket(request: Any) -> bool:
    return isinstance(request, WebSocket)
