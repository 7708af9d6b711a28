"""Order routing: a SHIP line goes where the retailer's routing rule says, and a line no single
location can fill is split across locations, each part a fulfillment of its own."""

from collections import Counter

from tests.commerce import (
    BERKELEY,
    CHECKOUT,
    KENT,
    PORTLAND,
    RENO,
    SEATTLE,
    VISA,
    checkout,
    create_cart,
    gid,
    level,
    line,
    reservation_count,
    reservations_consistent,
    set_stock,
)
from tests.conftest import Api
from tests.helpers import gateway

LOS_ANGELES, VANCOUVER = 7, 11
SHIPPING = (SEATTLE, PORTLAND, BERKELEY, LOS_ANGELES, VANCOUVER, RENO, KENT)
NEAR_PORTLAND = {"latitude": 45.5, "longitude": -122.7}


async def stock(api: Api, variant: int, **where: int) -> None:
    """Only the named locations have the variant, every other location that ships has none."""
    names = {"seattle": SEATTLE, "portland": PORTLAND, "reno": RENO, "kent": KENT, "vancouver": VANCOUVER}
    for location in SHIPPING:
        await set_stock(api, variant, location, 0)
    for name, on_hand in where.items():
        await set_stock(api, variant, names[name], on_hand)


def parts(order: dict) -> Counter:
    """(location, quantity) of each fulfillment."""
    lines = {ln["fulfillment"]["id"]: ln["quantity"] for ln in order["lines"]}
    return Counter(
        {f["location"]["id"]: lines[f["id"]] for f in order["fulfillments"] if f["mode"] == "SHIP"}
    )


async def test_a_line_no_location_can_fill_is_split_warehouses_first(api: Api):
    await stock(api, 3, reno=2, kent=1, seattle=4)
    cart = await create_cart(api, line(3, 5))
    result = await checkout(api, cart["id"])
    assert result["userErrors"] == []
    order = result["order"]
    assert parts(order) == {gid("Location", RENO): 2, gid("Location", KENT): 1,
                            gid("Location", SEATTLE): 2}  # fmt: skip
    assert len(order["fulfillments"]) == 3
    assert {f["status"] for f in order["fulfillments"]} == {"ALLOCATED"}
    assert sum(ln["quantity"] for ln in order["lines"]) == 5
    assert (await level(api, 3, SEATTLE))["reserved"] == 2
    assert (await level(api, 3, RENO))["available"] == 0
    await reservations_consistent(api)


async def test_a_line_one_location_can_fill_is_not_split(api: Api):
    await stock(api, 3, reno=2, kent=1, seattle=40)
    cart = await create_cart(api, line(3, 2))
    order = (await checkout(api, cart["id"]))["order"]
    assert parts(order) == {gid("Location", RENO): 2}


async def test_what_all_locations_have_together_is_not_enough(api: Api):
    await stock(api, 3, reno=2, seattle=1)
    cart = await create_cart(api, line(1), line(3, 4))
    [error] = (await checkout(api, cart["id"]))["userErrors"]
    assert (error["code"], error["field"]) == ("INSUFFICIENT_STOCK", ["cartId", "lines", "1"])
    assert error["message"].startswith("3 of")
    assert await reservation_count(api) == 0
    assert (await level(api, 3, RENO))["reserved"] == 0


async def test_fewest_shipments_takes_the_largest_stocks_first(database_url: str):
    async with gateway(database_url, routing_strategy="fewest_shipments") as api:
        await stock(api, 3, reno=2, kent=1, seattle=4)
        cart = await create_cart(api, line(3, 5))
        order = (await checkout(api, cart["id"]))["order"]
        assert parts(order) == {gid("Location", SEATTLE): 4, gid("Location", RENO): 1}


async def test_nearest_ships_from_the_closest_locations_to_ship_to(database_url: str):
    async with gateway(database_url, routing_strategy="nearest") as api:
        await stock(api, 3, reno=20, seattle=3, portland=3)
        near = {"cartId": None, "payment": VISA, "key": "k", "shipTo": NEAR_PORTLAND}
        document = CHECKOUT.replace("$key: String!)", "$key: String!, $shipTo: GeoPointInput)").replace(
            "idempotencyKey: $key)", "idempotencyKey: $key, shipTo: $shipTo)"
        )
        cart = await create_cart(api, line(3, 2))
        body = await api.data(document, {**near, "cartId": cart["id"]})
        assert parts(body["checkoutComplete"]["order"]) == {gid("Location", PORTLAND): 2}
        await set_stock(api, 3, RENO, 0)
        cart = await create_cart(api, line(3, 4))
        body = await api.data(document, {**near, "cartId": cart["id"]})
        assert parts(body["checkoutComplete"]["order"]) == {
            gid("Location", PORTLAND): 1,
            gid("Location", SEATTLE): 3,
        }
        bad = await api.gql(document, {**near, "cartId": cart["id"], "key": "k2",
                                       "shipTo": {"latitude": 99, "longitude": 0}})  # fmt: skip
        assert [e["extensions"]["code"] for e in bad["errors"]] == ["BAD_USER_INPUT"]


async def test_warehouses_only_never_ships_from_a_store(database_url: str):
    async with gateway(database_url, routing_strategy="warehouses_only") as api:
        await stock(api, 3, reno=2, seattle=4)
        cart = await create_cart(api, line(3, 3))
        [error] = (await checkout(api, cart["id"]))["userErrors"]
        assert error["code"] == "INSUFFICIENT_STOCK"
        cart = await create_cart(api, line(3, 2))
        assert parts((await checkout(api, cart["id"], key="k2"))["order"]) == {gid("Location", RENO): 2}


async def test_the_readme_split_shipment(api: Api):
    """README's walkthrough, step 5, on the demo's own stock."""
    assert (await level(api, 1, RENO))["available"] == 191
    assert (await level(api, 1, KENT))["available"] == 34
    cart = await create_cart(api, line(1, 200))
    order = (await checkout(api, cart["id"]))["order"]
    assert parts(order) == {gid("Location", RENO): 191, gid("Location", KENT): 9}


async def test_a_store_across_the_border_does_not_ship_a_usd_cart(api: Api):
    await stock(api, 3, reno=2, vancouver=5)
    cart = await create_cart(api, line(3, 3))
    [error] = (await checkout(api, cart["id"]))["userErrors"]
    assert (error["code"], error["message"][:4]) == ("INSUFFICIENT_STOCK", "2 of")


async def test_a_shipped_cart_line_counts_what_the_routing_rule_can_split(database_url: str):
    for strategy, expected in (("warehouses_first", (6, "AVAILABLE")), ("warehouses_only", (2, "SHORT"))):
        async with gateway(database_url, routing_strategy=strategy) as api:
            await stock(api, 3, reno=2, seattle=4)
            [shipped] = (await create_cart(api, line(3, 5)))["lines"]
            assert (shipped["available"], shipped["status"]) == expected, strategy
