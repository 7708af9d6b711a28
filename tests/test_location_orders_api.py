"""`locationOrders`: a store's orders for its own staff (the store console's pickup queue)."""

from tests.commerce import (
    BELLEVUE,
    FULFILLMENT_UPDATE,
    SEATTLE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
)
from tests.conftest import Api

QUEUE = """
query ($locationId: ID!, $statuses: [FulfillmentStatus!], $first: Int, $after: String) {
  locationOrders(locationId: $locationId, statuses: $statuses, first: $first, after: $after) {
    nodes { id number status fulfillments { id mode status location { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def error_codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def place(api: Api, *lines: dict, member: str = "m1") -> dict:
    headers = api.as_member(member)
    cart = await create_cart(api, *lines, **headers)
    result = await checkout(api, cart["id"], key=f"key-{cart['id']}", **headers)
    assert result["userErrors"] == [], result["userErrors"]
    return result["order"]


def ids(data: dict) -> list[str]:
    return [order["id"] for order in data["locationOrders"]["nodes"]]


async def test_staff_list_their_stores_orders_newest_first_by_status(api: Api):
    for location in (SEATTLE, BELLEVUE):
        await set_stock(api, 1, location, 5)
    first = await place(api, line(1, 1, "PICKUP", SEATTLE))
    elsewhere = await place(api, line(1, 1, "PICKUP", BELLEVUE), member="m2")
    second = await place(api, line(1, 1, "RESERVE", SEATTLE), member="m2")
    seattle = {"locationId": location_id(SEATTLE)}
    staff = api.as_staff(SEATTLE)

    assert ids(await api.data(QUEUE, seattle, **staff)) == [second["id"], first["id"]]
    held = await api.data(QUEUE, {**seattle, "statuses": ["HELD"]}, **staff)
    assert ids(held) == [second["id"]]
    assert ids(await api.data(QUEUE, {**seattle, "statuses": ["READY_FOR_PICKUP"]}, **staff)) == []

    pickup = next(f for f in first["fulfillments"] if f["mode"] == "PICKUP")
    moved = await api.data(FULFILLMENT_UPDATE, {"id": pickup["id"], "status": "READY_FOR_PICKUP"}, **staff)
    assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
    ready = await api.data(QUEUE, {**seattle, "statuses": ["READY_FOR_PICKUP", "ALLOCATED"]}, **staff)
    assert ids(ready) == [first["id"]]
    assert ready["locationOrders"]["nodes"][0]["status"] == "READY_FOR_PICKUP"

    # A page at a time.
    page = (await api.data(QUEUE, {**seattle, "first": 1}, **staff))["locationOrders"]
    assert [o["id"] for o in page["nodes"]] == [second["id"]] and page["pageInfo"]["hasNextPage"]
    after = {**seattle, "first": 1, "after": page["pageInfo"]["endCursor"]}
    assert ids(await api.data(QUEUE, after, **staff)) == [first["id"]]

    # Bellevue's tablet sees Bellevue's order only; order sync sees any location's.
    bellevue = {"locationId": location_id(BELLEVUE)}
    assert ids(await api.data(QUEUE, bellevue, **api.as_staff(BELLEVUE))) == [elsewhere["id"]]
    assert ids(await api.data(QUEUE, seattle, **api.as_order_sync())) == [second["id"], first["id"]]


async def test_no_one_else_lists_a_stores_orders(api: Api):
    seattle = {"locationId": location_id(SEATTLE)}
    assert error_codes(await api.gql(QUEUE, seattle)) == ["UNAUTHENTICATED"]
    for headers in (api.as_member("m1"), api.as_staff(BELLEVUE), api.as_integration()):
        assert error_codes(await api.gql(QUEUE, seattle, **headers)) == ["FORBIDDEN"]
    malformed = await api.gql(QUEUE, {"locationId": gid("Order", 1)}, **api.as_staff(SEATTLE))
    assert error_codes(malformed) == ["BAD_USER_INPUT"]
    bad_status = await api.gql(QUEUE, {**seattle, "statuses": ["LOST"]}, **api.as_staff(SEATTLE))
    assert bad_status["errors"] and bad_status.get("data") is None  # a validation error
