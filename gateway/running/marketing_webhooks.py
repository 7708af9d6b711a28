"""Delivering behavioral triggers as Standard Webhooks: the outbox handler of `WEBHOOK_TOPIC`.

Each message is POSTed to its endpoint as JSON `{"type", "timestamp", "data"}` with the
headers `webhook-id` (the message's id, the same on every retry: receivers deduplicate by it),
`webhook-timestamp` (Unix seconds when sent) and `webhook-signature`: `v1,` and the base64
HMAC-SHA256, keyed with the endpoint's secret (the base64 after `whsec_`), of
`<id>.<timestamp>.<body>`. A 2xx answer delivers it; anything else, or no answer, raises, and
the outbox retries with backoff. An endpoint deleted or paused meanwhile drops its messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import orjson

from adapters.ports.marketing import TriggerStore

TIMEOUT_S = 10.0


class WebhookRefused(Exception):
    """The endpoint answered, but not with a 2xx: tried again later."""


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_request(
    secret: str, message: dict[str, Any], now: float | None = None
) -> tuple[dict[str, str], bytes]:
    body = orjson.dumps({"type": message["type"], "timestamp": message["timestamp"], "data": message["data"]})
    timestamp = int(time.time() if now is None else now)
    headers = {
        "content-type": "application/json",
        "webhook-id": message["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message["id"], timestamp, body),
    }
    return headers, body


class WebhookDelivery:
    def __init__(self, triggers: TriggerStore, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._triggers = triggers
        self._transport = transport

    async def __call__(self, message: dict[str, Any]) -> Any:
        [endpoint] = await self._triggers.endpoints_by_ids([message["endpointId"]]) or [None]
        if endpoint is None or not endpoint.active:
            return {"dropped": "the endpoint is gone or paused"}
        headers, body = signed_request(endpoint.secret, message)
        async with httpx.AsyncClient(timeout=TIMEOUT_S, transport=self._transport) as client:
            response = await client.post(endpoint.url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise WebhookRefused(f"{endpoint.url} answered {response.status_code}")
        return {"status": response.status_code}
