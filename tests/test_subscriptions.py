"""Subscriptions end to end: `omnigate serve` in a process, the `gql` client over websockets."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from websockets.exceptions import ConnectionClosed

from tests.commerce import BELLEVUE, PORTLAND, SEATTLE, checkout, create_cart, line, location_id, set_stock
from tests.conftest import PG_URL, SqliteTemplates
from tests.served import Served, serve

ORDERS = """
subscription ($orderId: ID, $locationId: ID) {
  orderStatusChanged(orderId: $orderId, locationId: $locationId) {
    id status fulfillments { mode status location { id } }
  }
}"""
STOCK = """
subscription ($variantIds: [ID!], $locationIds: [ID!]) {
  stockChanged(variantIds: $variantIds, locationIds: $locationIds) {
    onHand reserved available variant { id } location { id }
  }
}"""
CART = "subscription ($cartId: ID!) { cartChanged(cartId: $cartId) { id totalQuantity } }"
VARIANT = 1


@pytest.fixture
async def served(tmp_path: Path, sqlite_templates: SqliteTemplates) -> Any:
    async with serve(tmp_path, await sqlite_templates.clone()) as gateway:
        await set_stock(gateway, VARIANT, SEATTLE, 10)
        await set_stock(gateway, VARIANT, BELLEVUE, 10)
        yield gateway


def first(session: Any, document: str, **variables: Any) -> asyncio.Task[Any]:
    """The first result of a subscription, as a task (it subscribes when it starts)."""
    return asyncio.ensure_future(_first(session, document, variables))


async def _first(session: Any, document: str, variables: dict[str, Any]) -> Any:
    results = session.subscribe(GraphQLRequest(document, variable_values=variables))
    try:
        return await anext(results)
    finally:
        await results.aclose()  # unsubscribes (`complete`)


async def pickup_order(gateway: Served, location: int, member: str = "m1") -> str:
    headers = gateway.as_member(member)
    cart = await create_cart(gateway, line(VARIANT, 1, "PICKUP", location), lean=True, **headers)
    payload = await checkout(gateway, cart["id"], key=f"k-{location}", lean=True, **headers)
    assert payload["userErrors"] == []
    return payload["order"]["id"]


async def test_a_pickup_checkout_reaches_that_stores_tablet_and_no_other(served: Served):
    async with (
        served.client("test-staff-1") as seattle,
        served.client("test-staff-2") as bellevue,
        served.client("test-member-m1") as member,
        served.client("test-member-m2") as other_member,
    ):
        at_seattle = first(seattle, ORDERS, locationId=location_id(SEATTLE))
        at_bellevue = first(bellevue, ORDERS)  # all of Bellevue's orders
        mine = first(member, ORDERS)
        not_mine = first(other_member, ORDERS)
        await served.until_subscribed(4)

        seattle_order = await pickup_order(served, SEATTLE)
        pushed = (await asyncio.wait_for(at_seattle, 30))["orderStatusChanged"]
        assert pushed["id"] == seattle_order
        assert pushed["fulfillments"][0]["mode"] == "PICKUP"
        assert pushed["fulfillments"][0]["location"]["id"] == location_id(SEATTLE)
        assert (await asyncio.wait_for(mine, 30))["orderStatusChanged"]["id"] == seattle_order

        # Bellevue's tablet and the other member saw nothing of it: the first thing each one
        # gets is the next order that is theirs.
        bellevue_order = await pickup_order(served, BELLEVUE, member="m2")
        assert (await asyncio.wait_for(at_bellevue, 30))["orderStatusChanged"]["id"] == bellevue_order
        assert (await asyncio.wait_for(not_mine, 30))["orderStatusChanged"]["id"] == bellevue_order
    await served.until_subscribed(0)


async def test_inventory_adjust_arrives_as_stock_changed_filtered_by_location(served: Served):
    async with served.client() as shopper:  # stock is public, like the query
        at_seattle = first(shopper, STOCK, locationIds=[location_id(SEATTLE)])
        await served.until_subscribed(1)
        await set_stock(served, VARIANT, PORTLAND, 3)  # filtered out
        await set_stock(served, VARIANT, SEATTLE, 7)
        level = (await asyncio.wait_for(at_seattle, 30))["stockChanged"]
        assert level["location"]["id"] == location_id(SEATTLE)
        assert (level["onHand"], level["reserved"], level["available"]) == (7, 0, 7)


async def test_a_cart_pushes_its_changes_and_the_legacy_protocol_works(served: Served):
    cart = await create_cart(served, line(VARIANT, 1), lean=True)
    async with served.client(subprotocol="graphql-ws") as shopper:
        changed = first(shopper, CART, cartId=cart["id"])
        await served.until_subscribed(1)
        add = """mutation ($id: ID!, $lines: [CartLineInput!]!) {
          cartLinesAdd(cartId: $id, lines: $lines) { userErrors { code } } }"""
        await served.data(add, {"id": cart["id"], "lines": [line(2, 2)]})
        pushed = (await asyncio.wait_for(changed, 30))["cartChanged"]
        assert pushed == {"id": cart["id"], "totalQuantity": 3}


async def test_unauthorized_subscriptions_get_coded_errors(served: Served):
    async def codes(token: str | None, document: str, **variables: Any) -> list[str]:
        async with served.client(token) as session:
            with pytest.raises(TransportQueryError) as refused:
                await asyncio.wait_for(first(session, document, **variables), 30)
        return [e["extensions"]["code"] for e in refused.value.errors or []]

    assert await codes(None, ORDERS) == ["UNAUTHENTICATED"]
    assert await codes("test-staff-2", ORDERS, locationId=location_id(SEATTLE)) == ["FORBIDDEN"]
    assert await codes("test-member-m1", ORDERS, locationId=location_id(SEATTLE)) == ["FORBIDDEN"]
    assert await codes(None, CART, cartId="not-an-id") == ["BAD_USER_INPUT"]
    await served.until_subscribed(0)


async def test_an_unknown_token_in_connection_init_closes_the_socket(served: Served):
    with pytest.raises(TransportConnectionFailed) as closed:
        async with served.client("not-a-token") as session:
            await asyncio.wait_for(first(session, STOCK), 30)
    cause = closed.value.__cause__
    assert isinstance(cause, ConnectionClosed) and cause.rcvd is not None
    assert (cause.rcvd.code, cause.rcvd.reason) == (4403, "Forbidden")


REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")


@pytest.fixture
def shared_templates(request: pytest.FixtureRequest) -> Any:
    """The deployment shape, one PostgreSQL for both processes, when there is one."""
    return request.getfixturevalue("postgresql_templates" if PG_URL else "sqlite_templates")


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_a_mutation_on_one_process_reaches_a_subscriber_on_another(
    tmp_path: Path, shared_templates: Any
):
    database_url = await shared_templates.clone()
    shared = {"GATEWAY_REDIS_URL": REDIS_URL or "", "GATEWAY_REDIS_PREFIX": f"t{uuid.uuid4().hex}:"}
    async with serve(tmp_path, database_url, **shared) as a, serve(tmp_path, database_url, **shared) as b:
        await set_stock(a, VARIANT, SEATTLE, 10)
        async with b.client("test-staff-1") as tablet:
            stock = first(tablet, STOCK, locationIds=[location_id(SEATTLE)])
            orders = first(tablet, ORDERS, locationId=location_id(SEATTLE))
            await b.until_subscribed(2)
            await set_stock(a, VARIANT, SEATTLE, 6)
            assert (await asyncio.wait_for(stock, 30))["stockChanged"]["onHand"] == 6
            order = await pickup_order(a, SEATTLE)
            assert (await asyncio.wait_for(orders, 30))["orderStatusChanged"]["id"] == order
        assert await b.metric("omnigate_events_received_total") >= 2
        assert await a.metric("omnigate_events_received_total") == 0  # B sent nothing back


LOYALTY = "subscription { loyaltyChanged { points tier } }"


async def test_loyalty_changes_reach_only_their_member(served: Served):
    from tests.commerce import STORE_SALE, gid, variant_id

    async def till_sale(member: str, quantity: int) -> None:
        sale = {"input": {
            "locationId": location_id(SEATTLE), "idempotencyKey": f"till-{member}",
            "memberId": gid("Member", member),
            "lines": [{"variantId": variant_id(VARIANT), "quantity": quantity}],
        }}  # fmt: skip
        payload = (await served.data(STORE_SALE, sale, **served.as_staff(SEATTLE)))["storeSaleRecord"]
        assert payload["userErrors"] == []

    async with served.client("test-member-m1") as ana, served.client("test-member-m2") as ben:
        for_ana, for_ben = first(ana, LOYALTY), first(ben, LOYALTY)
        await served.until_subscribed(2)
        await till_sale("m1", 1)
        ana_points = (await asyncio.wait_for(for_ana, 30))["loyaltyChanged"]["points"]
        assert ana_points > 0
        await till_sale("m2", 3)
        # Ben's first push is his own account after his own sale, never Ana's.
        ben_points = (await asyncio.wait_for(for_ben, 30))["loyaltyChanged"]["points"]
        assert ben_points > ana_points
    async with served.client() as anonymous:
        with pytest.raises(TransportQueryError) as refused:
            await asyncio.wait_for(first(anonymous, LOYALTY), 30)
    assert [e["extensions"]["code"] for e in refused.value.errors or []] == ["UNAUTHENTICATED"]
