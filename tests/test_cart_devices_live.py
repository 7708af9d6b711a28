"""One cart on two devices, live: `omnigate serve` in a process and the `gql` websocket client.
Signing in on the second device merges the first device's cart into the one in hand; the first
device's `cartChanged` shows its cart MERGED, then follows the cart it went to, and both devices
hear every later change. A subscriber that may not open the cart any more is told so."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.commerce import create_cart, line
from tests.conftest import SqliteTemplates
from tests.served import Served, serve

CART = """subscription ($cartId: ID!) {
  cartChanged(cartId: $cartId) { id status totalQuantity mergedInto { id } } }"""
ATTACH = """mutation ($cartId: ID!) { cartAttachMember(cartId: $cartId) {
  cart { id } userErrors { code } } }"""
ADD = """mutation ($cartId: ID!, $lines: [CartLineInput!]!) {
  cartLinesAdd(cartId: $cartId, lines: $lines) { userErrors { code } } }"""


@pytest.fixture
async def served(tmp_path: Path, sqlite_templates: SqliteTemplates) -> Any:
    async with serve(tmp_path, await sqlite_templates.clone()) as gateway:
        yield gateway


def pushes(session: Any, count: int, **variables: Any) -> asyncio.Task[list[Any]]:
    """The first `count` pushes of a cartChanged subscription, as a task."""

    async def take() -> list[Any]:
        found = []
        results = session.subscribe(GraphQLRequest(CART, variable_values=variables))
        try:
            async for result in results:
                found.append(result["cartChanged"])
                if len(found) == count:
                    return found
        finally:
            await results.aclose()
        return found

    return asyncio.ensure_future(take())


async def test_cart_changed_reaches_both_devices_and_follows_the_merge(served: Served):
    m1 = served.as_member("m1")
    phone = await create_cart(served, line(1, 2), lean=True, **m1)  # device 1, signed in
    laptop = await create_cart(served, line(2, 1), lean=True)  # device 2, before signing in
    async with (
        served.client("test-member-m1") as on_phone,
        served.client("test-member-m1") as on_laptop,
        served.client() as anonymous_tab,
    ):
        phone_pushes = pushes(on_phone, 3, cartId=phone["id"])
        laptop_pushes = pushes(on_laptop, 2, cartId=laptop["id"])
        anonymous = pushes(anonymous_tab, 1, cartId=laptop["id"])
        await served.until_subscribed(3)

        # The laptop signs in: its cart becomes the member's and the phone's merges into it.
        attached = (await served.data(ATTACH, {"cartId": laptop["id"]}, **m1))["cartAttachMember"]
        assert attached == {"cart": {"id": laptop["id"]}, "userErrors": []}
        # Then the phone, which now follows the laptop's cart, adds a line to it.
        added = await served.data(ADD, {"cartId": laptop["id"], "lines": [line(3, 1)]}, **m1)
        assert added["cartLinesAdd"]["userErrors"] == []

        assert await asyncio.wait_for(phone_pushes, 30) == [
            {"id": phone["id"], "status": "MERGED", "totalQuantity": 2, "mergedInto": {"id": laptop["id"]}},
            {"id": laptop["id"], "status": "OPEN", "totalQuantity": 3, "mergedInto": None},
            {"id": laptop["id"], "status": "OPEN", "totalQuantity": 4, "mergedInto": None},
        ]
        assert await asyncio.wait_for(laptop_pushes, 30) == [
            {"id": laptop["id"], "status": "OPEN", "totalQuantity": 3, "mergedInto": None},
            {"id": laptop["id"], "status": "OPEN", "totalQuantity": 4, "mergedInto": None},
        ]
        # A tab that opened the guest cart anonymously may not follow the member's cart: its
        # subscription ends, saying why and what to do.
        with pytest.raises(TransportQueryError) as refused:
            await asyncio.wait_for(anonymous, 30)
        [error] = refused.value.errors or []
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "subscribe again signed in" in error["message"]
    await served.until_subscribed(0)


async def test_a_members_cart_is_not_followed_by_anyone_else(served: Served):
    cart = await create_cart(served, line(1, 1), lean=True, **served.as_member("m1"))
    for token, code in (
        (None, "UNAUTHENTICATED"),
        ("test-member-m2", "FORBIDDEN"),
        ("test-staff-1", "FORBIDDEN"),
    ):
        async with served.client(token) as session:
            with pytest.raises(TransportQueryError) as refused:
                await asyncio.wait_for(pushes(session, 1, cartId=cart["id"]), 30)
        assert [e["extensions"]["code"] for e in refused.value.errors or []] == [code]
    await served.until_subscribed(0)
