"""uvicorn's server, with a goodbye to subscribers before it stops.

On SIGTERM (or Ctrl-C) uvicorn stops listening, closes every open websocket with 1012 (service
restart), waits for requests in flight, then runs the app's shutdown. We step in between the first
two: once no new connection is accepted, the gateway closes its websockets with 1001 (going away)
and ends its SSE streams, so that clients know the server is leaving rather than restarting under
them; then uvicorn lets requests in flight finish, for at most `GATEWAY_SHUTDOWN_GRACE_SECONDS`
(its `timeout_graceful_shutdown`), cancels what is left, and exits.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from gateway.process import Gateway


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, gateway: Gateway) -> None:
        super().__init__(config)
        self.gateway = gateway

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new connections while the subscribers are told (uvicorn does it again)
        await self.gateway.subscribers.drain(self.gateway.settings.shutdown_grace_seconds)
        await super().shutdown(sockets)
