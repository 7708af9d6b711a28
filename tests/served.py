"""Gateway processes as users run them (`omnigate serve`), for the subscription tests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from gql import Client
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import INTEGRATION_TOKEN, MEMBER_TOKENS, STAFF_TOKENS, Callers
from tests.servers import OMNIGATE, free_port


class Served(Callers):
    """One gateway process; `data` posts GraphQL over HTTP (the tests/commerce.py helpers take it)."""

    def __init__(self, port: int, proc: asyncio.subprocess.Process) -> None:
        self.port = port
        self.proc = proc
        self.base = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.http = httpx.AsyncClient(base_url=self.base, timeout=30)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
        body = await self.gql(query, variables, **headers)
        assert "errors" not in body, body
        return body["data"]

    def client(self, token: str | None = None, subprotocol: str = "graphql-transport-ws") -> Client:
        """A `gql` websocket client; the token goes in connection_init, as GraphiQL sends it."""
        transport = WebsocketsTransport(
            url=self.ws_url,
            init_payload={"Authorization": f"Bearer {token}"} if token else {},
            subprotocols=[subprotocol],
        )
        return Client(transport=transport)

    async def metric(self, name: str) -> float:
        text = (await self.http.get("/metrics")).text
        found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        assert found, f"{name} is not in /metrics"
        return float(found.group(1))

    async def until_subscribed(self, count: int) -> None:
        """Wait until the server holds `count` subscriptions (the protocol has no ack for one)."""
        for _ in range(600):
            if await self.metric("omnigate_active_subscriptions") == count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the server never held {count} subscriptions")


@asynccontextmanager
async def serve(
    tmp_path: Path,
    database_url: str,
    *,
    args: Sequence[str] = (),
    stderr: Any = None,
    port: int | None = None,
    **env: str,
) -> AsyncIterator[Served]:
    """`omnigate serve [args]` with the test settings and `env` on top; `stderr` takes a file
    for its logs; `port` is a free one unless given (a gateway restarted where it was)."""
    port = port or free_port()
    environment = {
        **os.environ,
        "GATEWAY_DATA_DIR": str(tmp_path / f"data-{port}"),
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_SEED_DEMO": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_INTEGRATION_TOKEN": INTEGRATION_TOKEN,
        "GATEWAY_STAFF_TOKENS": json.dumps(STAFF_TOKENS),
        "GATEWAY_MEMBER_TOKENS": json.dumps(MEMBER_TOKENS),
        "GATEWAY_RESERVATION_SWEEP_SECONDS": "0",
        "GATEWAY_METRICS": "true",  # production mode: the tests read /metrics on the API's port
        "GATEWAY_COMPILED_VERIFY": "true",  # every compiled answer checked; counted in /metrics
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        *OMNIGATE, "serve", "--port", str(port), *args, env=environment, stderr=stderr
    )
    served = Served(port, proc)
    try:
        for _ in range(600):
            try:
                if (await served.http.get("/healthz", timeout=1)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.returncode is None, "the gateway exited during start-up"
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the gateway did not start")
        yield served
        if proc.returncode is None and (await served.http.get("/metrics")).status_code == 200:
            assert await served.metric("omnigate_compiled_mismatches_total") == 0, "see the gateway's log"
    finally:
        await served.http.aclose()
        if proc.returncode is None:  # a test may have stopped (or killed) it already
            proc.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert await asyncio.wait_for(proc.wait(), 30) in (0, -signal.SIGTERM)
