"""The outside security review's findings (issue 15), each a regression test through the API:
demo data in production, webhooks, token lengths, integration scopes, JWKS refetches, "did you
mean" suggestions, secrets in settings errors, out-of-range ids, sign-in throttling, gift cards
under contention, and the production defaults of /metrics and GraphiQL. The findings that need a
real server (header limits, forwarded addresses, the access log, the CLI) are in
tests/test_security_served.py."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from statistics import median
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from gateway.settings import Settings
from gateway.upstreams.webhooks import signature
from tests.commerce import (
    ADJUST,
    FULFILLMENT_UPDATE,
    GIFT_CARD_ISSUE,
    ORDER,
    SEATTLE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import JWT_SECRET, Api, make_settings, serving
from tests.helpers import gateway

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
LOGIN = """mutation ($email: String!, $password: String!) {
  memberLogin(email: $email, password: $password) { token userErrors { code } }
}"""
DEMO = {"email": "ana@example.com", "password": "omnigate-demo"}
PRODUCTS = "{ products(first: 1) { nodes { id } } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- 1. Demo data is never seeded in production unless asked for, and then loudly ---


async def test_production_mode_seeds_no_demo_accounts(empty_database_url: str):
    settings = Settings(database_url=empty_database_url, jwt_secret=JWT_SECRET, reservation_sweep_seconds=0)
    assert not settings.dev_mode
    async with serving(settings) as api:
        body = await api.data(LOGIN, DEMO)
        assert body["memberLogin"]["token"] is None
        assert body["memberLogin"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        assert (await api.data(PRODUCTS))["products"]["nodes"] == []


async def test_production_seeds_the_demo_only_when_told_and_warns_at_start(sqlite_templates, caplog):
    url = await sqlite_templates.empty()
    settings = Settings(database_url=url, jwt_secret=JWT_SECRET, seed_demo=True, reservation_sweep_seconds=0)
    with caplog.at_level(logging.WARNING):
        async with serving(settings) as api:
            assert (await api.data(LOGIN, DEMO))["memberLogin"]["token"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("GATEWAY_SEED_DEMO" in w and "omnigate-demo" in w for w in warnings), warnings


# --- 2. Webhooks: the body is capped while it streams, bad timestamps are refused ---


async def test_a_webhook_body_is_capped_while_it_streams(sqlite_templates):
    sent = 0

    async def chunks() -> Any:
        nonlocal sent
        for _ in range(64):  # 64 MiB, chunked (no Content-Length)
            sent += 1 << 20
            yield b"x" * (1 << 20)

    fresh = {"X-Omnigate-Timestamp": str(int(time.time())), "X-Omnigate-Signature": "sha256=00"}
    async with gateway(await sqlite_templates.clone(), webhook_secret="hook-secret") as api:
        response = await api.client.post("/webhooks/tryton", content=chunks(), headers=fresh)
        assert response.status_code == 413
        assert sent <= 2 << 20  # refused at the first chunk past the limit, not read whole
        malformed = {**fresh, "content-length": "x"}
        response = await api.client.post("/webhooks/tryton", content=b"{}", headers=malformed)
        assert response.status_code == 400


async def test_a_malformed_webhook_timestamp_is_refused_not_a_500(sqlite_templates):
    async with gateway(await sqlite_templates.clone(), webhook_secret="hook-secret") as api:
        for timestamp in ["9" * 5000, "1" * 40, "-5", "1e9", "\u0661\u0667\u0660\u0660", " 1700000000", ""]:
            headers = {
                "X-Omnigate-Timestamp": timestamp.encode(),  # bytes on the wire, whatever the client
                "X-Omnigate-Signature": signature(b"hook-secret", timestamp, b"{}"),
            }
            response = await api.client.post("/webhooks/tryton", content=b"{}", headers=headers)
            assert response.status_code in (400, 401), timestamp
            assert "error" in response.json()


# --- 3. Bearer tokens and API keys have a length limit (header limits: test_security_served) ---


async def test_an_overlong_token_is_unauthenticated_before_it_is_looked_at(api: Api):
    for headers in (bearer("x" * 10_000), {"X-API-Key": "k" * 10_000}, bearer("a." * 5000 + "b")):
        response = await api.post("{ __typename }", **headers)
        assert response.status_code == 401
        assert codes(response.json()) == ["UNAUTHENTICATED"]
        assert "too long" in response.json()["errors"][0]["message"]


# --- 4. Integrations: least privilege, scopes like partner keys ---

MEMBER_PII = """query ($id: ID!) { node(id: $id) { ... on Member {
  phone addresses { city } loyalty { points } } } }"""


async def _order_of_m1(api: Api) -> dict:
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    result = await checkout(api, cart["id"], **api.as_member("m1"))
    assert result["userErrors"] == []
    return result["order"]


async def test_the_integration_token_may_post_stock_and_nothing_else(api: Api):
    order = await _order_of_m1(api)  # set_stock posts a count as the integration
    integration = api.as_integration()
    assert codes(await api.gql(MEMBER_PII, {"id": gid("Member", "m1")}, **integration)) == ["FORBIDDEN"]
    assert codes(await api.gql(GIFT_CARD_ISSUE, {"amount": "500.00"}, **integration)) == ["FORBIDDEN"]
    assert codes(await api.gql(ORDER, {"id": order["id"]}, **integration)) == ["FORBIDDEN"]
    move = {"id": order["fulfillments"][0]["id"], "status": "READY_FOR_PICKUP"}
    assert codes(await api.gql(FULFILLMENT_UPDATE, move, **integration)) == ["FORBIDDEN"]


async def test_integrations_get_the_scopes_they_are_configured_with(database_url: str):
    integrations = {
        "crm": {"sha256": sha("crm-token"), "scopes": ["members:read"]},
        "pos": {"sha256": sha("pos-token"), "scopes": ["gift_cards:write"]},
        "oms": {"sha256": sha("oms-token"), "scopes": ["orders:read", "orders:write"]},
    }
    async with gateway(database_url, integrations=integrations) as api:
        order = await _order_of_m1(api)
        crm, pos, oms = bearer("crm-token"), bearer("pos-token"), bearer("oms-token")
        member = (await api.data(MEMBER_PII, {"id": gid("Member", "m1")}, **crm))["node"]
        assert member["loyalty"]["points"] >= 0
        issued = await api.data(GIFT_CARD_ISSUE, {"amount": "25.00"}, **pos)
        assert issued["giftCardIssue"]["giftCard"]["balance"]["amount"] == "25.00"
        assert (await api.data(ORDER, {"id": order["id"]}, **oms))["order"]["id"] == order["id"]
        move = {"id": order["fulfillments"][0]["id"], "status": "READY_FOR_PICKUP"}
        moved = (await api.data(FULFILLMENT_UPDATE, move, **oms))["fulfillmentUpdateStatus"]
        assert moved["fulfillment"]["status"] == "READY_FOR_PICKUP"
        # Each only what it was given.
        assert codes(await api.gql(GIFT_CARD_ISSUE, {"amount": "25.00"}, **crm)) == ["FORBIDDEN"]
        assert codes(await api.gql(ORDER, {"id": order["id"]}, **pos)) == ["FORBIDDEN"]
        assert codes(await api.gql(MEMBER_PII, {"id": gid("Member", "m1")}, **oms)) == ["FORBIDDEN"]
        change = {"variantId": variant_id(1), "locationId": location_id(1), "onHand": 3}
        adjust = {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}
        assert codes(await api.gql(ADJUST, adjust, **oms)) == ["FORBIDDEN"]
        # The single token of GATEWAY_INTEGRATION_TOKEN still posts stock.
        assert (await api.data(ADJUST, adjust, **api.as_integration()))["inventoryAdjust"]["userErrors"] == []


def test_integration_scopes_are_checked_when_the_settings_are_read():
    with pytest.raises(ValidationError):
        Settings(integrations={"erp": {"sha256": sha("t"), "scopes": ["everything"]}})


# --- 6. JWKS: an unknown `kid` refetches at most once per interval ---


@contextmanager
def jwks_server(document: dict) -> Iterator[tuple[str, list[int], dict]]:
    """A local identity provider's JWKS endpoint that counts how often it is read."""
    fetches = [0]
    served = {"document": document}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches[0] += 1
            body = json.dumps(served["document"]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", fetches, served
    finally:
        server.shutdown()
        server.server_close()


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


def _rs256(key: rsa.RSAPrivateKey, kid: str, sub: str = "m2") -> str:
    claims = {"sub": sub, "exp": int(time.time()) + 60}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def test_forged_kids_do_not_make_the_gateway_refetch_the_jwks(database_url: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with jwks_server({"keys": [_jwk(key, "k1")]}) as (url, fetches, served):
        settings = make_settings(database_url, jwt_secret=None, jwt_jwks=url, jwt_jwks_refetch_seconds=1)
        async with serving(settings) as api:
            assert (await api.data("{ me { email } }", **bearer(_rs256(key, "k1"))))["me"]
            assert fetches[0] == 1
            forged = [_rs256(forger, f"forged-{i}") for i in range(20)]
            answers = await asyncio.gather(*(api.post("{ me { email } }", **bearer(t)) for t in forged))
            assert {a.status_code for a in answers} == {401}
            assert fetches[0] <= 2  # one refetch for the first unknown kid, none for the others
            # The provider rotates its keys: after the interval, a token of the new key is accepted.
            rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            served["document"] = {"keys": [_jwk(key, "k1"), _jwk(rotated, "k2")]}
            await asyncio.sleep(1.1)
            assert (await api.data("{ me { email } }", **bearer(_rs256(rotated, "k2"))))["me"]
            assert fetches[0] <= 3


# --- 7. "Did you mean ...?" suggestions: off in production, on in dev mode ---

TYPOS = [
    ("{ prodcts(first: 1) { nodes { id } } }", None),
    ("{ products(frist: 1) { nodes { id } } }", None),
    ("{ products(first: 1, sortKey: TITEL) { nodes { id } } }", None),
    ('{ node(id: "x") { ... on Prodct { id } } }', None),
    ("mutation { cartCreate(input: {chanel: WEB, lines: []}) { cart { id } } }", None),
    ("query ($k: ProductSortKeys!) { products(first: 1, sortKey: $k) { nodes { id } } }", {"k": "TITEL"}),
]


@pytest.mark.parametrize("dev", [False, True], ids=["production", "dev"])
async def test_suggestions_are_given_only_in_dev_mode(database_url: str, dev: bool):
    async with gateway(database_url, dev=dev) as api:
        for query, variables in TYPOS:
            body = await api.gql(query, variables)
            messages = " ".join(e["message"] for e in body["errors"])
            assert codes(body) and set(codes(body)) == {"BAD_USER_INPUT"}
            assert ("Did you mean" in messages) is dev, (query, messages)
            if not query.startswith("mutation"):  # over GET too
                params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
                got = await api.client.get("/graphql", params=params)
                assert ("Did you mean" in got.text) is dev, (query, got.text)


# --- 8. Settings errors do not print the tokens they refuse (the CLI: test_security_served) ---


def test_settings_errors_do_not_show_the_static_tokens_they_refuse():
    for bad in (
        {"staff_tokens": [{"token": "s3cret-staff-token", "subject": "staff:x"}]},
        {"staff_tokens": [{"token": "s3cret-staff-token", "subject": "staff:x", "location_ids": "all"}]},
        {"member_tokens": [{"token": "s3cret-member-token"}]},
        {"integration_token": ["s3cret-integration-token"]},
        {"webhook_secret": {"s3cret-webhook": 1}},
    ):
        with pytest.raises(ValidationError) as refused:
            Settings(**bad)
        assert "s3cret" not in str(refused.value), str(refused.value)


# --- 9. Ids out of a 32-bit column's range are NOT_FOUND or BAD_USER_INPUT, never INTERNAL ---

OUT_OF_RANGE = [str(2**31), str(2**63), "9" * 30, "9" * 5000]
CART_CREATE = """mutation ($input: CartCreateInput!) {
  cartCreate(input: $input) { cart { id } userErrors { code } } }"""
ORDER_CANCEL = "mutation ($id: ID!) { orderCancel(orderId: $id) { order { id } userErrors { code } } }"
STOCK_AT = """query ($id: ID!, $l: ID!) {
  node(id: $id) { ... on ProductVariant { inventory(locationIds: [$l]) { onHand } } } }"""


@pytest.mark.parametrize("key", OUT_OF_RANGE, ids=["2^31", "2^63", "30-digits", "5000-digits"])
async def test_out_of_range_ids_are_refused_not_internal(api: Api, key: str, caplog):
    staff, integration = api.as_staff(SEATTLE), api.as_integration()
    location, variant = gid("Location", key), gid("ProductVariant", key)
    pickup = {"mode": "PICKUP", "locationId": location}
    cart_line = {"variantId": variant, "quantity": 1, "fulfillment": pickup}
    count = {"variantId": variant, "locationId": location, "onHand": 1}
    calls: list[tuple[str, dict, dict]] = [
        ("query ($l: [ID!]) { products(first: 2, availableAt: $l) { nodes { id } } }", {"l": [location]}, {}),
        (f'{{ products(first: 2, availableAt: ["{location}"]) {{ nodes {{ id }} }} }}', {}, {}),
        ("query ($id: ID!) { node(id: $id) { id } }", {"id": gid("Product", key)}, {}),
        ("query ($id: ID!) { node(id: $id) { id } }", {"id": gid("Order", key)}, staff),
        ("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [variant, location]}, {}),
        ("query ($id: ID!) { product(id: $id) { id } }", {"id": gid("Product", key)}, {}),
        ("query ($id: ID!) { location(id: $id) { id } }", {"id": location}, {}),
        ("query ($id: ID!) { order(id: $id) { id } }", {"id": gid("Order", key)}, staff),
        (STOCK_AT, {"id": variant_id(1), "l": location}, {}),
        (CART_CREATE, {"input": {"channel": "WEB", "lines": [cart_line]}}, {}),
        (ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": [count]}}, integration),
        (FULFILLMENT_UPDATE, {"id": gid("OrderFulfillment", key), "status": "SHIPPED"}, staff),
        (ORDER_CANCEL, {"id": gid("Order", key)}, staff),
    ]
    with caplog.at_level(logging.INFO):
        for query, variables, headers in calls:
            body = await api.gql(query, variables, **headers)
            assert set(codes(body)) <= {"NOT_FOUND", "BAD_USER_INPUT"}, (query, body)
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged == [], [r.getMessage() for r in logged]


# --- 10. Sign-in throttling: per account and per client address, coded, same timing ---


async def _login(api: Api, email: str, password: str, client: httpx.AsyncClient | None = None) -> dict:
    variables = {"email": email, "password": password}
    response = await (client or api.client).post("/graphql", json={"query": LOGIN, "variables": variables})
    assert "Traceback" not in response.text
    return response.json()


def _client_from(api: Api, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def test_failed_sign_ins_are_throttled_per_account(database_url: str):
    async with gateway(database_url, sign_in_failures_per_account=3, sign_in_failures_per_address=100) as api:
        for _ in range(3):
            body = await _login(api, "ana@example.com", "guess")
            assert body["data"]["memberLogin"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        refused = await _login(api, "ANA@example.com ", DEMO["password"])  # even the right one, any case
        assert codes(refused) == ["RATE_LIMITED"]
        assert refused["errors"][0]["extensions"]["retryAfter"] >= 1
        assert refused["data"] is None
        # Another account from the same address is not held back by ana's.
        assert (await _login(api, "ben@example.com", DEMO["password"]))["data"]["memberLogin"]["token"]


async def test_failed_sign_ins_are_throttled_per_client_address(database_url: str):
    async with gateway(database_url, sign_in_failures_per_account=100, sign_in_failures_per_address=4) as api:
        for n in range(4):
            body = await _login(api, f"nobody-{n}@example.com", "guess")
            assert body["data"]["memberLogin"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        assert codes(await _login(api, "ben@example.com", DEMO["password"])) == ["RATE_LIMITED"]
        async with _client_from(api, "10.1.2.3") as elsewhere:
            body = await _login(api, "ben@example.com", DEMO["password"], elsewhere)
            assert body["data"]["memberLogin"]["token"]


async def test_successful_sign_ins_do_not_use_up_the_allowance(database_url: str):
    async with gateway(database_url, sign_in_failures_per_account=2, sign_in_failures_per_address=2) as api:
        for _ in range(5):
            assert (await _login(api, "ana@example.com", DEMO["password"]))["data"]["memberLogin"]["token"]


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_processes_share_the_sign_in_throttle_through_redis(database_url: str):
    prefix = f"omnigate-test-{uuid.uuid4().hex[:8]}:"
    options = {"redis_url": REDIS_URL, "redis_prefix": prefix, "sign_in_failures_per_account": 2}
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(gateway(database_url, **options))
        b = await stack.enter_async_context(gateway(database_url, **options))
        for api in (a, b):
            body = await _login(api, "ana@example.com", "guess")
            assert body["data"]["memberLogin"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        assert codes(await _login(a, "ana@example.com", DEMO["password"])) == ["RATE_LIMITED"]
        assert codes(await _login(b, "ana@example.com", DEMO["password"])) == ["RATE_LIMITED"]


async def test_unknown_and_known_emails_take_as_long_to_refuse(api: Api):
    async def seconds(email: str) -> float:
        started = time.perf_counter()
        body = await _login(api, email, "not the password")
        assert body["data"]["memberLogin"]["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        return time.perf_counter() - started

    known, unknown = [], []
    for n in range(4):  # interleaved, so machine load falls on both alike
        known.append(await seconds("ben@example.com"))
        unknown.append(await seconds(f"nobody-{n}@example.com"))
    assert 0.5 < median(unknown) / median(known) < 2, (known, unknown)


# --- 11. Card + gift card checkouts racing for one gift card: the split is planned again ---


async def test_concurrent_card_and_gift_card_checkouts_on_one_card_all_go_through(api: Api):
    await set_stock(api, 1, SEATTLE, 40)
    carts = [await create_cart(api, line(1, 1, "PICKUP", SEATTLE), lean=True) for _ in range(20)]
    price = Decimal((await api.data(f'{{ node(id: "{variant_id(1)}") {{ ... on ProductVariant {{ price {{ amount }} }} }} }}'))["node"]["price"]["amount"])  # noqa: E501
    balance = price * Decimal("4.5")  # covers four and a half orders of twenty
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": str(balance)}, **api.as_staff(SEATTLE))
    code = issued["giftCardIssue"]["giftCard"]["code"]
    payment = {"method": "CARD", "cardToken": "tok_visa", "giftCardCode": code}
    results = await asyncio.gather(
        *(checkout(api, cart["id"], key=f"race-{n}", payment=payment) for n, cart in enumerate(carts))
    )
    assert [r["userErrors"] for r in results] == [[]] * 20
    orders = [r["order"] for r in results]
    gift = card = Decimal(0)
    for order in orders:
        paid = {p["method"]: Decimal(p["amount"]["amount"]) for p in order["payments"]}
        assert sum(paid.values()) == Decimal(order["total"]["amount"]) == price
        gift += paid.get("GIFT_CARD", Decimal(0))
        card += paid.get("CARD", Decimal(0))
    assert gift == balance
    assert card == 20 * price - balance
    assert await api.store.gift_cards.balance(code) == 0
    captured = sum(c.amount_minor for c in api.gateway.payments.cards.charges)
    assert Decimal(captured) / 100 == card
    assert sum(1 for o in orders if "GIFT_CARD" in {p["method"] for p in o["payments"]}) == 5


# --- 12. /metrics and GraphiQL: off in production unless the operator turns them on ---


async def _graphiql_served(api: Api) -> bool:
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    return page.status_code == 200 and "text/html" in page.headers.get("content-type", "")


async def test_production_serves_neither_metrics_nor_graphiql_by_default(database_url: str):
    async with gateway(database_url) as api:
        assert not api.gateway.settings.dev_mode
        assert (await api.client.get("/metrics")).status_code == 404
        assert not await _graphiql_served(api)
        assert (await api.client.get("/graphql", params={"query": "{ __typename }"})).status_code == 200


async def test_metrics_behind_a_token_and_graphiql_when_enabled(database_url: str):
    async with gateway(database_url, metrics_token="scrape-secret", graphiql=True) as api:
        assert (await api.client.get("/metrics")).status_code == 401
        assert (await api.client.get("/metrics", headers=bearer("wrong"))).status_code == 401
        scraped = await api.client.get("/metrics", headers=bearer("scrape-secret"))
        assert scraped.status_code == 200 and "omnigate_requests_shed_total" in scraped.text
        assert await _graphiql_served(api)


async def test_dev_mode_keeps_public_metrics_and_graphiql(database_url: str):
    async with gateway(database_url, dev=True) as api:
        assert (await api.client.get("/metrics")).status_code == 200
        assert await _graphiql_served(api)
