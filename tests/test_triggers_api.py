"""Behavioral triggers as Standard Webhooks: an abandoned cart in the demo data reaches a real
HTTP endpoint (uvicorn, in the test) that verifies the signature with the `standardwebhooks`
library; delivery goes through the outbox and is retried; marketing consent is respected; the
other triggers (pickup ready, back in stock at a watched store, reserve hold expiring, tier
changed); marketing manages endpoints and their event filters. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.commerce import (
    ERRORS,
    FULFILLMENT_UPDATE,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import INTEGRATIONS, STAFF_TOKENS, Api
from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway
from tests.servers import free_port

MARKETER = {"token": "test-marketer", "subject": "staff:mkt", "location_ids": [], "scopes": ["marketing"]}
TOOL_TOKEN = "test-marketing-tool"
TOOL = {"sha256": hashlib.sha256(TOOL_TOKEN.encode()).hexdigest(), "scopes": ["marketing"]}
CREATE = f"""
mutation ($input: WebhookEndpointInput!) {{
  webhookEndpointCreate(input: $input) {{ endpoint {{ id url eventTypes active }} secret {ERRORS} }}
}}"""
UPDATE = f"""
mutation ($id: ID!, $input: WebhookEndpointInput!) {{
  webhookEndpointUpdate(id: $id, input: $input) {{ endpoint {{ id eventTypes active }} {ERRORS} }}
}}"""
DELETE = f"mutation ($id: ID!) {{ webhookEndpointDelete(id: $id) {{ deletedEndpointId {ERRORS} }} }}"
ENDPOINTS = "{ webhookEndpoints(first: 10) { nodes { url eventTypes } } }"
CONSENT = (
    "mutation { memberConsentsUpdate(consents: [{channel: EMAIL, granted: true}]) { userErrors { code } } }"
)
WATCH = f"""
mutation ($variantId: ID!, $locationId: ID!) {{
  stockWatchCreate(variantId: $variantId, locationId: $locationId) {{
    watches {{ variantId notifiedAt }} {ERRORS}
  }}
}}"""


@dataclass
class Receiver:
    """A marketing tool's webhook endpoint: verifies each request with the endpoint's secret."""

    url: str = ""
    secret: str | None = None
    refuse_first: bool = False
    received: list[dict[str, Any]] = field(default_factory=list)  # verified: {"id", "body"}
    seen_ids: list[str] = field(default_factory=list)  # every request's webhook-id, refused too
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.seen_ids.append(request.headers.get("webhook-id", ""))
        try:
            assert self.secret is not None
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except (WebhookVerificationError, AssertionError):
            return Response(status_code=400)
        if self.refuse_first:
            self.refuse_first = False
            return Response(status_code=503)  # the tool is down: the gateway retries
        self.received.append({"id": request.headers["webhook-id"], "body": payload, "raw": json.loads(body)})
        self.arrived.set()
        return Response(status_code=204)

    async def until(self, count: int) -> list[dict[str, Any]]:
        for _ in range(600):  # generous: the machine may be busy; nothing here measures time
            if len(self.received) >= count:
                return self.received
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.1)
        raise AssertionError(f"{len(self.received)} webhooks arrived, not {count}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    port = free_port()
    found.url = f"http://127.0.0.1:{port}/hooks"
    app = Starlette(routes=[Route("/hooks", found.endpoint, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn says so by this flag only)
        await asyncio.sleep(0.01)
    yield found
    server.should_exit = True
    await task


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with gateway(
        database_url, staff_tokens=[*STAFF_TOKENS, MARKETER],
        integrations={**INTEGRATIONS, "marketing": TOOL}, partner_keys=PARTNERS,
        marketing_triggers_seconds=0.2, outbox_interval_s=0.2, loyalty_tiers={"SILVER": 1},
    ) as api:  # fmt: skip
        yield api


def as_marketer() -> dict[str, str]:
    return bearer(MARKETER["token"])


async def endpoint(api: Api, receiver: Receiver, *types: str) -> dict:
    given = {"input": {"url": receiver.url, "eventTypes": list(types)}}
    payload = (await api.data(CREATE, given, **as_marketer()))["webhookEndpointCreate"]
    assert payload["userErrors"] == [] and payload["secret"].startswith("whsec_")
    receiver.secret = payload["secret"]
    return payload["endpoint"]


async def test_an_abandoned_cart_reaches_the_marketing_tool_signed(api: Api, receiver: Receiver):
    receiver.refuse_first = True  # the first delivery is refused: the outbox retries it
    await endpoint(api, receiver, "CART_ABANDONED")
    await api.data(CONSENT, **api.as_member("m1"))
    ana = await create_cart(api, line(3, 2), **api.as_member("m1"))  # demo data: Ana and a catalog variant
    await create_cart(api, line(4, 1), **api.as_member("m2"))  # Ben has not consented: nothing is sent
    await create_cart(api, line(5, 1))  # a guest's cart: no member, no trigger
    api.advance(hours=5)  # idle past GATEWAY_CART_ABANDONED_AFTER_HOURS (4), by the gateway's clock
    [delivered] = await receiver.until(1)
    assert receiver.seen_ids == [delivered["id"], delivered["id"]]  # refused, then retried as itself
    body = delivered["body"]
    assert body["type"] == "cart.abandoned"
    data = body["data"]
    assert data["member"]["email"] == "ana@example.com" and data["member"]["consents"]["EMAIL"] is True
    assert data["lines"] == [{"variantId": 3, "quantity": 2}] and data["channel"] == "WEB"
    assert ana["id"] not in json.dumps(body)  # never the cart's secret id
    # Once per abandonment: another pass finds nothing new.
    assert (await api.gateway.run_triggers()).queued == 0
    assert len(receiver.received) == 1


async def test_service_and_member_triggers(api: Api, receiver: Receiver):
    await endpoint(api, receiver)  # every event
    await api.data(CONSENT, **api.as_member("m1"))
    await set_stock(api, 1, SEATTLE, 5)
    await set_stock(api, 2, SEATTLE, 0)
    watched = await api.data(WATCH, {"variantId": variant_id(2), "locationId": location_id(SEATTLE)},
                             **api.as_member("m1"))  # fmt: skip
    assert watched["stockWatchCreate"]["userErrors"] == []
    pickup = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, pickup["id"], **api.as_member("m1")))["order"]
    await api.data(FULFILLMENT_UPDATE, {"id": order["fulfillments"][0]["id"], "status": "READY_FOR_PICKUP"},
                   **api.as_staff(SEATTLE))  # fmt: skip
    reserve = await create_cart(api, line(1, 1, "RESERVE", SEATTLE), **api.as_member("m1"))
    assert (await checkout(api, reserve["id"], key="key-2", **api.as_member("m1")))["userErrors"] == []
    sale = {"input": {"locationId": location_id(SEATTLE), "idempotencyKey": "till-1",
                      "memberId": gid("Member", "m1"),
                      "lines": [{"variantId": variant_id(1), "quantity": 1}]}}  # fmt: skip
    assert (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["userErrors"] == []
    await set_stock(api, 2, SEATTLE, 3)  # the watched variant is back
    first = {b["body"]["type"] for b in await receiver.until(3)}
    assert first == {"pickup.ready", "stock.back_in_stock", "tier.changed"}
    tiers = next(b["body"]["data"] for b in receiver.received if b["body"]["type"] == "tier.changed")
    assert (tiers["from"], tiers["to"]) == ("MEMBER", "SILVER")
    api.advance(hours=43)  # the reserve hold (48 h) ends within 6 h
    last = await receiver.until(4)
    assert last[3]["body"]["type"] == "reserve.expiring"
    watches = "{ me { stockWatches { variantId notifiedAt } } }"
    [watch] = (await api.data(watches, **api.as_member("m1")))["me"]["stockWatches"]
    assert watch["variantId"] == variant_id(2) and watch["notifiedAt"] is not None


async def test_marketing_manages_endpoints_and_their_filters(api: Api, receiver: Receiver):
    created = await endpoint(api, receiver, "CART_ABANDONED", "TIER_CHANGED")
    assert created["eventTypes"] == ["CART_ABANDONED", "TIER_CHANGED"] and created["active"] is True
    change = {"id": created["id"], "input": {"url": receiver.url, "eventTypes": [], "active": False}}
    updated = (await api.data(UPDATE, change, **as_marketer()))["webhookEndpointUpdate"]["endpoint"]
    assert (updated["eventTypes"], updated["active"]) == ([], False)
    bad = (await api.data(CREATE, {"input": {"url": "ftp://example.com/x"}}, **as_marketer()))[
        "webhookEndpointCreate"
    ]
    assert [(e["field"], e["code"]) for e in bad["userErrors"]] == [(["input", "url"], "INVALID")]
    assert (await api.data(ENDPOINTS, **bearer(TOOL_TOKEN)))["webhookEndpoints"]["nodes"] == [
        {"url": receiver.url, "eventTypes": []}
    ]
    assert (await api.data(DELETE, {"id": created["id"]}, **as_marketer()))["webhookEndpointDelete"][
        "deletedEndpointId"
    ] == created["id"]
    gone = (await api.data(DELETE, {"id": created["id"]}, **as_marketer()))["webhookEndpointDelete"]
    assert [e["code"] for e in gone["userErrors"]] == ["WEBHOOK_ENDPOINT_NOT_FOUND"]
    for document, variables in ((ENDPOINTS, None), (CREATE, {"input": {"url": receiver.url}})):
        body = await api.gql(document, variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        for caller in (api.as_member("m1"), api.as_staff(SEATTLE), bearer(PARTNER_KEY), api.as_integration()):
            body = await api.gql(document, variables, **caller)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (document, caller)
    # Watches are a member's own.
    variables = {"variantId": variant_id(2), "locationId": location_id(SEATTLE)}
    assert [e["extensions"]["code"] for e in (await api.gql(WATCH, variables))["errors"]] == [
        "UNAUTHENTICATED"
    ]
    staff = await api.gql(WATCH, variables, **api.as_staff(SEATTLE))
    assert [e["extensions"]["code"] for e in staff["errors"]] == ["FORBIDDEN"]
    unknown = {"variantId": variant_id(99999), "locationId": location_id(SEATTLE)}
    errors = (await api.data(WATCH, unknown, **api.as_member("m1")))["stockWatchCreate"]["userErrors"]
    assert [e["code"] for e in errors] == ["VARIANT_NOT_FOUND"]
