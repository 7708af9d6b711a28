"""A loopback HTTP proxy in front of a real upstream that can be slow, fail, or count calls.

Tests and the benchmark put it between the gateway and the upstream: `delay` seconds before
each request is forwarded, `status` to answer every request with that error instead.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx

_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "content-encoding",
}


class FaultyProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.delay = 0.0
        self.status: int | None = None
        self.lose_responses = False  # forward, then answer 502: the upstream did it, we never hear
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._client = httpx.AsyncClient(timeout=120)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FaultyProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)
        await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, *lines = head.split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines if ":" in ln]
                length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.status is not None:
                    writer.write(f"HTTP/1.1 {self.status} Injected\r\ncontent-length: 0\r\n\r\n".encode())
                else:
                    response = await self._client.request(
                        method,
                        self.target + path,
                        headers=[(k, v) for k, v in headers if k.lower() not in _HOP],
                        content=body,
                    )
                    if self.lose_responses and method != "GET":
                        writer.write(b"HTTP/1.1 502 Lost\r\ncontent-length: 0\r\n\r\n")
                        await writer.drain()
                        continue
                    out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
                    out += [f"{k}: {v}" for k, v in response.headers.multi_items() if k.lower() not in _HOP]
                    out.append(f"content-length: {len(response.content)}")
                    writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + response.content)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except httpx.TransportError:  # the upstream behind us is down: so are we
            pass
        finally:
            writer.close()
