"""SIGTERM on a real `omnigate serve`: requests in flight finish, websocket subscribers are told
1001 (going away) rather than uvicorn's 1012, SSE streams end with `complete`, and the process exits within
GATEWAY_SHUTDOWN_GRACE_SECONDS even when a request never finishes."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import SqliteTemplates
from tests.served import Served, serve

STOPPED = (0, -signal.SIGTERM)  # uvicorn shuts down gracefully, then re-raises the signal it caught
QUERY = json.dumps({"query": "{ locations(first: 1) { edges { node { id } } } }"}).encode()


async def subscriber(served: Served) -> websockets.ClientConnection:
    ws = await websockets.connect(served.ws_url, subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    subscribe = {"query": "subscription { stockChanged { onHand } }"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
    return ws


async def half_sent_request(served: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A POST whose body is only half sent: a request in flight, as far as the server knows."""
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    head = (
        f"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(QUERY)}\r\n\r\n"
    )
    writer.write(head.encode() + QUERY[:10])
    await writer.drain()
    return reader, writer


async def closed_code(ws: websockets.ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_sigterm_lets_requests_finish_and_tells_subscribers_going_away(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    async with serve(tmp_path, await sqlite_templates.clone()) as served:
        ws = await subscriber(served)
        body = {"query": "subscription { stockChanged { onHand } }"}
        headers = {"accept": "text/event-stream"}
        async with served.http.stream("POST", "/graphql/stream", json=body, headers=headers) as sse:
            await served.until_subscribed(2)
            reader, writer = await half_sent_request(served)

            served.proc.send_signal(signal.SIGTERM)
            assert await closed_code(ws) == 1001  # going away, not uvicorn's 1012 (service restart)
            # The SSE stream ends cleanly: its last event is `complete`, then the body ends.
            text = (await asyncio.wait_for(sse.aread(), 30)).decode()
            assert text.rstrip().endswith("event: complete\ndata:"), text

        # The server is shutting down now, and the request that was in flight still gets its answer.
        writer.write(QUERY[10:])
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200")
        length = int(next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        ))  # fmt: skip
        body = json.loads(await asyncio.wait_for(reader.readexactly(length), 30))
        assert body["data"]["locations"]["edges"], body
        writer.close()
        assert await asyncio.wait_for(served.proc.wait(), 30) in STOPPED


async def test_a_request_that_never_finishes_does_not_hold_the_process_past_the_grace(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    database = await sqlite_templates.clone()
    async with serve(tmp_path, database, GATEWAY_SHUTDOWN_GRACE_SECONDS="1") as served:
        _reader, writer = await half_sent_request(served)
        served.proc.send_signal(signal.SIGTERM)
        # Without a grace period uvicorn would wait for this request for ever (30 s here: a failure).
        assert await asyncio.wait_for(served.proc.wait(), 30) in STOPPED
        writer.close()
