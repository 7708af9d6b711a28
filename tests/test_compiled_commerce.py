"""Carts, a member's orders and `me` with loyalty on the compiled path: those queries are
answered by it (not handed to strawberry's executor), their SQL round trips do not grow with
the number of lines and orders, and the fields' permission classes still decide who sees what.
(That both paths give the same answers, for every caller, is tests/test_differential.py's.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.commerce import BELLEVUE, SEATTLE, VISA, checkout, create_cart, line, set_stock
from tests.conftest import make_settings, serving

CART = """
query ($id: ID!) { cart(id: $id) {
  id totalQuantity subtotal { amount currencyCode } total { amount }
  lines { id quantity status available held heldUntil
    variant { id sku title price { amount } }
    fulfillment { mode location { id name } }
    unitPrice { amount } total { amount }
    alternatives(first: 2) { location { name } available distanceKm } }
} }"""
ME = """
{ me { id firstName
  loyalty { points tier }
  orders(first: 20) { edges { cursor node {
    number status total { amount }
    lines { sku quantity unitPrice { amount } total { amount } variant { sku } fulfillment { mode } }
    fulfillments { mode status location { name } lines { sku } }
    payments { method amount { amount } }
  } } pageInfo { hasNextPage } }
} }"""


@pytest_asyncio.fixture
async def counted(database_url: str) -> AsyncIterator[Any]:
    """A gateway that runs each request once (the suite's verification mode would run every
    compiled answer through the standard executor too, doubling the statements)."""
    async with serving(make_settings(database_url, compiled_verify=False)) as api:
        yield api


async def _statements(api: Any, document: str, variables: dict[str, Any] | None = None, **headers: str) -> int:  # noqa: E501
    """SQL statements of one request, answered by the compiled path (asserted)."""
    compiled, before = api.gateway.compiled.compiled, api.store.statements
    body = await api.gql(document, variables, **headers)
    assert "errors" not in body, body
    assert api.gateway.compiled.compiled == compiled + 1, "the standard executor answered"
    return int(api.store.statements - before)


async def test_a_cart_read_is_compiled_with_round_trips_constant_in_its_lines(counted: Any):
    api = counted
    for n in range(1, 7):
        await set_stock(api, n, SEATTLE, 10)
        await set_stock(api, n, BELLEVUE, 10)
    small = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), lean=True)
    lines = [line(n, 1, "PICKUP", SEATTLE) for n in range(1, 6)] + [line(6, 1)]
    large = await create_cart(api, *lines, lean=True)
    for cart in (small, large):  # caches and plans warm
        await api.data(CART, {"id": cart["id"]})
    one = await _statements(api, CART, {"id": small["id"]})
    six = await _statements(api, CART, {"id": large["id"]})
    assert one == six == 2  # the cart, then its lines with their holds
    data = (await api.data(CART, {"id": large["id"]}))["cart"]
    assert data["totalQuantity"] == 6 and [ln["status"] for ln in data["lines"]] == ["AVAILABLE"] * 6


async def test_me_with_orders_and_loyalty_is_compiled_with_round_trips_constant_in_orders(counted: Any):
    api = counted
    member = api.as_member("m2")
    for n in range(1, 6):
        await set_stock(api, n, SEATTLE, 10)

    async def order(*variants: int) -> None:
        cart = await create_cart(api, *(line(v, 1, "PICKUP", SEATTLE) for v in variants), lean=True, **member)
        placed = await checkout(api, cart["id"], key=f"k{variants}", payment=VISA, lean=True, **member)
        assert placed["userErrors"] == []

    await order(1, 2)
    await api.data(ME, **member)
    few = await _statements(api, ME, **member)
    for variants in ((2, 3, 4), (5,), (1, 3)):
        await order(*variants)
    many = await _statements(api, ME, **member)
    assert few == many
    orders = (await api.data(ME, **member))["me"]["orders"]["edges"]
    assert [len(edge["node"]["lines"]) for edge in orders] == [2, 1, 3, 2]


async def test_the_compiled_path_answers_as_strawberry_and_refuses_another_members_cart(api: Any):
    """`api` verifies every compiled answer against strawberry's executor (conftest.serving)."""
    cart = await create_cart(api, line(1), lean=True, **api.as_member("m1"))
    refused = await api.gql(CART, {"id": cart["id"]}, **api.as_member("m2"))
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert refused["data"] == {"cart": None}
    anonymous = await api.gql(CART, {"id": cart["id"]})
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    mine = (await api.data(CART, {"id": cart["id"]}, **api.as_member("m1")))["cart"]
    assert mine["totalQuantity"] == 1
    me = (await api.data(ME, **api.as_member("m1")))["me"]
    assert me["loyalty"] == {"points": 0, "tier": "MEMBER"}
