"""A fallback load generator for when wrk is unavailable: N keep-alive HTTP/1.1 connections on
raw asyncio streams, each POSTing as soon as its previous answer is read, for a fixed time.

`python -m bench.pyload --url URL --body-file FILE --connections N --seconds S` prints one JSON
object: requests_per_s, p50_ms, p99_ms, requests, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson


def _request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Reads one answer off the connection; every server here sends a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = next(
        (int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:")),
        None,
    )
    if length is None:
        raise ValueError("no Content-Length in the answer")
    await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            if 200 <= status < 400:
                latencies.append(time.perf_counter() - started)
            else:
                errors.append(status)
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors.append(0)
    finally:
        writer.close()


async def run(url: str, body: bytes, connections: int, seconds: float) -> dict[str, float | int | None]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request(host, port, parts.path or "/", body)
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, deadline, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "requests_per_s": len(ms) / elapsed,
        "p50_ms": statistics.median(ms) if ms else None,
        "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else None,
        "requests": len(ms),
        "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pyload")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    runner: Any = asyncio.run
    try:  # the client's own overhead matters here: take the faster loop when there is one
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    result = runner(run(args.url, args.body_file.read_bytes(), args.connections, args.seconds))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
