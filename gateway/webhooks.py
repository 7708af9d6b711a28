"""`POST /webhooks/<upstream>`: an upstream that pushes rings the doorbell, the gateway polls.

The body is signed with HMAC-SHA256 over `<timestamp>.<body>` (header `X-Omnigate-Signature:
sha256=<hex>`, timestamp in `X-Omnigate-Timestamp`, Unix seconds), compared in constant time;
a timestamp outside the tolerance is refused, so a captured request cannot be replayed later.
The payload is not trusted for data: the poll reads the upstream itself from its watermark.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_BODY = 64 * 1024


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhooks:
    def __init__(
        self,
        secret: str | None,
        tolerance_s: int,
        pokes: Callable[[str], bool],
    ) -> None:
        self._secret = secret.encode() if secret else None
        self._tolerance = tolerance_s
        self._pokes = pokes  # upstream name -> whether some feed listens to it

    async def endpoint(self, request: Request) -> Response:
        upstream = request.path_params["upstream"]
        if self._secret is None:
            return _error(404, "webhooks are not configured")
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return _error(413, "a webhook body is a doorbell, not a data dump")
        body = await request.body()
        timestamp = request.headers.get("x-omnigate-timestamp", "")
        given = request.headers.get("x-omnigate-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self._tolerance:
            return _error(401, "missing or stale X-Omnigate-Timestamp")
        if not hmac.compare_digest(given.encode(), signature(self._secret, timestamp, body).encode()):
            return _error(401, "bad signature")
        if not self._pokes(upstream):
            return _error(404, f"no feed from {upstream!r}")
        return JSONResponse({"status": "accepted"}, status_code=202)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
