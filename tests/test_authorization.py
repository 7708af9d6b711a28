"""The authorization matrix: every caller tries what belongs to another party, on each field that
reaches it. A denial is FORBIDDEN (or UNAUTHENTICATED) and the answer carries nothing of the
other party: no ids, no emails, no lines."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.commerce import (
    ADJUST,
    BELLEVUE,
    ERRORS,
    FULFILLMENT_UPDATE,
    ORDER,
    ORDER_CANCEL,
    SEATTLE,
    VISA,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import make_settings, serving

PARTNER_KEY = "partner-without-write-scope"
PARTNERS = {"acme": {"sha256": hashlib.sha256(PARTNER_KEY.encode()).hexdigest(), "scopes": ["catalog:read"]}}

CART = "query ($id: ID!) { cart(id: $id) { id lines { quantity } member { email } } }"
NODE = """query ($id: ID!) { node(id: $id) { id
  ... on Cart { lines { quantity } } ... on Order { total { amount } } ... on Member { email } } }"""
LINES_ADD = f"""mutation ($id: ID!) {{ cartLinesAdd(cartId: $id, lines: [{{variantId: "{variant_id(2)}",
  quantity: 1, fulfillment: {{mode: SHIP}}}}]) {{ cart {{ id }} {ERRORS} }} }}"""
ATTACH = f"mutation ($id: ID!) {{ cartAttachMember(cartId: $id) {{ cart {{ id }} {ERRORS} }} }}"
CHECKOUT = f"""mutation ($id: ID!, $payment: PaymentInput!) {{
  checkoutComplete(cartId: $id, payment: $payment, idempotencyKey: "steal") {{
    order {{ id }} {ERRORS} }} }}"""
ORDER_MEMBER = """query ($id: ID!) { order(id: $id) { id member { email firstName
  orders(first: 5) { edges { node { id } } } addresses { city } } } }"""


@pytest.fixture
async def world(database_url: str) -> Any:
    """Member m1's cart and order (picked up in Seattle), and a gateway knowing a partner."""
    async with serving(make_settings(database_url, partner_keys=PARTNERS)) as api:
        await set_stock(api, 1, SEATTLE, 5)
        cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
        ordered = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
        order = (await checkout(api, ordered["id"], **api.as_member("m1")))["order"]
        yield api, cart, order


def as_partner() -> dict[str, str]:
    return {"X-API-Key": PARTNER_KEY}


def _denied(body: dict, secrets: list[str], codes: set[str]) -> None:
    assert body.get("errors"), body
    assert {e["extensions"]["code"] for e in body["errors"]} <= codes, body["errors"]
    text = repr(body.get("data"))
    for secret in secrets:
        assert secret not in text, (secret, body)


async def test_a_member_cannot_reach_another_members_cart(world: Any):
    api, cart, _ = world
    secrets = [cart["id"], "ana@example.com"]
    variables = {"id": cart["id"]}
    documents = [(CART, {}), (NODE, {}), (LINES_ADD, {}), (ATTACH, {}), (CHECKOUT, {"payment": VISA})]
    for document, extra in documents:
        for headers, codes in (
            (api.as_member("m2"), {"FORBIDDEN"}),
            (api.as_staff(SEATTLE), {"FORBIDDEN"}),
            (as_partner(), {"FORBIDDEN"}),
            ({}, {"UNAUTHENTICATED", "FORBIDDEN"}),
        ):
            body = await api.gql(document, {**variables, **extra}, **headers)
            _denied(body, secrets, codes)
    # Its owner still can, and nothing was added by anyone else.
    mine = (await api.data(CART, variables, **api.as_member("m1")))["cart"]
    assert [ln["quantity"] for ln in mine["lines"]] == [1]


async def test_a_member_cannot_reach_another_members_order_or_profile(world: Any):
    api, _, order = world
    secrets = [order["id"], "ana@example.com", "Silva"]
    for document, variables in (
        (ORDER, {"id": order["id"]}),
        (ORDER_CANCEL, {"id": order["id"], "reason": "not mine"}),
        (NODE, {"id": gid("Member", "m1")}),
    ):
        _denied(await api.gql(document, variables, **api.as_member("m2")), secrets, {"FORBIDDEN"})
        _denied(await api.gql(document, variables), secrets, {"UNAUTHENTICATED"})
    node = await api.gql(NODE, {"id": order["id"]}, **api.as_member("m2"))
    assert node["data"]["node"] is None  # node() hides what one may not see
    me = (await api.data("{ me { id email } }", **api.as_member("m2")))["me"]
    assert me == {"id": gid("Member", "m2"), "email": "ben@example.com"}
    assert (await api.data(ORDER, {"id": order["id"]}, **api.as_member("m1")))["order"]["status"]


async def test_staff_see_only_their_locations_orders_and_not_the_members_life(world: Any):
    api, _, order = world
    fulfillment = order["fulfillments"][0]["id"]
    secrets = [order["id"], "ana@example.com"]
    for document, variables in (
        (ORDER, {"id": order["id"]}),
        (ORDER_CANCEL, {"id": order["id"], "reason": "no"}),
        (FULFILLMENT_UPDATE, {"id": fulfillment, "status": "READY_FOR_PICKUP"}),
        (NODE, {"id": gid("Member", "m1")}),
    ):
        _denied(await api.gql(document, variables, **api.as_staff(BELLEVUE)), secrets, {"FORBIDDEN"})
    # Seattle's staff see the order and who placed it, but not the rest of that member's history.
    body = await api.gql(ORDER_MEMBER, {"id": order["id"]}, **api.as_staff(SEATTLE))
    assert body["data"]["order"]["id"] == order["id"]
    assert body["data"]["order"]["member"] is None  # a non-null field denied: the member nulls out
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    who = "query ($id: ID!) { order(id: $id) { member { email firstName } } }"
    seen = await api.data(who, {"id": order["id"]}, **api.as_staff(SEATTLE))
    assert seen["order"]["member"] == {"email": "ana@example.com", "firstName": "Ana"}


async def test_a_partner_does_only_what_its_scopes_allow(world: Any):
    api, _, order = world
    change = {"variantId": variant_id(1), "locationId": location_id(SEATTLE), "onHand": 0}
    adjust = await api.gql(ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}, **as_partner())
    _denied(adjust, [], {"FORBIDDEN"})
    _denied(await api.gql(ORDER, {"id": order["id"]}, **as_partner()), [order["id"]], {"FORBIDDEN"})
    assert (await api.data("{ me { id } }", **as_partner()))["me"] is None
    catalog = await api.data("{ products(first: 1) { nodes { id } } }", **as_partner())
    assert catalog["products"]["nodes"]


# --- The same rules on every execution path ------------------------------------------------------
# An order's or a cart's header (fields that need nothing but the record) is what the compiled path
# can serve on its own; the review read it anonymously by counting ids. Every form of the request
# must be refused alike.

HEADER = "number status channel createdAt total { amount }"
CART_HEADER = "id channel currencyCode updatedAt expiresAt"


def _header_requests(order_id: str, cart_id: str) -> list[tuple[str, dict[str, Any] | None]]:
    return [
        (f'{{ order(id: "{order_id}") {{ {HEADER} }} }}', None),
        (f"query ($id: ID!) {{ order(id: $id) {{ {HEADER} }} }}", {"id": order_id}),
        (f'{{ a: order(id: "{order_id}") {{ {HEADER} }} b: order(id: "{order_id}") {{ number }} }}', None),
        (f'{{ cart(id: "{cart_id}") {{ {CART_HEADER} }} }}', None),
        (f"query ($id: ID!) {{ cart(id: $id) {{ {CART_HEADER} }} }}", {"id": cart_id}),
    ]


async def test_no_caller_reads_an_order_or_cart_header_that_is_not_theirs(world: Any):
    api, cart, order = world
    secrets = [order["id"], cart["id"], "1001"]
    callers = [
        ({}, {"UNAUTHENTICATED", "FORBIDDEN"}),
        (api.as_member("m2"), {"FORBIDDEN"}),
        (api.as_staff(BELLEVUE), {"FORBIDDEN"}),
        (as_partner(), {"FORBIDDEN"}),
    ]
    for query, variables in _header_requests(order["id"], cart["id"]):
        for headers, codes in callers:
            _denied(await api.gql(query, variables, **headers), secrets, codes)
            params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
            got = await api.client.get("/graphql", params=params, headers=headers)
            assert got.status_code in (200, 400, 401, 403), got.text
            _denied(got.json(), secrets, codes)
    # node and nodes hide an order one may not see, and refuse a member's cart to anyone else.
    nodes = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Order { number } ... on Cart { channel } } }"
    for headers, codes in callers:
        hidden = await api.gql(nodes, {"ids": [order["id"]]}, **headers)
        assert hidden["data"] == {"nodes": [None]}, hidden
        _denied(await api.gql(nodes, {"ids": [order["id"], cart["id"]]}, **headers), secrets, codes)
    # The owner reads both, on whichever path serves them.
    for query, variables in _header_requests(order["id"], cart["id"]):
        assert await api.data(query, variables, **api.as_member("m1"))
