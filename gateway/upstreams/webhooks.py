"""`POST /webhooks/<upstream>`: an upstream that pushes rings the doorbell, the gateway polls.

The body is signed with HMAC-SHA256 over `<timestamp>.<body>` (header `X-Omnigate-Signature:
sha256=<hex>`, timestamp in `X-Omnigate-Timestamp`, Unix seconds), compared in constant time;
a timestamp outside the tolerance is refused, so a captured request cannot be replayed later.
The payload is not trusted for data: the poll reads the upstream itself from its watermark.
Whichever process the load balancer picks, the poll happens: the request reaches the polling
leader through the event bus, or, with no polling loop, this process polls once under the lock.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

MAX_BODY = 64 * 1024
_MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658: anything longer is not a time
_TOO_LARGE = object()


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhooks:
    def __init__(
        self,
        secret: str | None,
        tolerance_s: int,
        pokes: Callable[[str], Awaitable[bool]],
    ) -> None:
        self._secret = secret.encode() if secret else None
        self._tolerance = tolerance_s
        self._pokes = pokes  # upstream name -> whether some feed listens to it

    async def endpoint(self, request: Request) -> Response:
        upstream = request.path_params["upstream"]
        if self._secret is None:
            return _error(404, "webhooks are not configured")
        declared = request.headers.get("content-length")
        if declared is not None and not (declared.isascii() and declared.isdigit()):
            return _error(400, "a malformed Content-Length")
        if declared is not None and int(declared) > MAX_BODY:
            return _error(413, "a webhook body is a doorbell, not a data dump")
        timestamp = request.headers.get("x-omnigate-timestamp", "")
        if not _fresh(timestamp, self._tolerance):
            return _error(401, "missing, malformed or stale X-Omnigate-Timestamp")
        body = await _read_capped(request, MAX_BODY)
        if body is _TOO_LARGE:
            return _error(413, "a webhook body is a doorbell, not a data dump")
        if body is None:  # the client went away
            return _error(400, "the body was cut short")
        assert isinstance(body, bytes)
        given = request.headers.get("x-omnigate-signature", "")
        if not hmac.compare_digest(given.encode(), signature(self._secret, timestamp, body).encode()):
            return _error(401, "bad signature")
        if not await self._pokes(upstream):
            return _error(404, f"no feed from {upstream!r}")
        return JSONResponse({"status": "accepted"}, status_code=202)


def _fresh(timestamp: str, tolerance: int) -> bool:
    """Unix seconds in ASCII digits, within the tolerance of now (a 5,000-digit number is not
    converted: Python refuses to, and nothing that long is a time)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > _MAX_TIMESTAMP_DIGITS:
        return False
    return abs(time.time() - int(timestamp)) <= tolerance


async def _read_capped(request: Request, limit: int) -> object:
    """The body, read chunk by chunk (chunked ones too) and given up on past `limit`."""
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return _TOO_LARGE
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    return b"".join(chunks)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
