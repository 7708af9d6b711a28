"""checkoutComplete(redirect:): a pickup line whose store ran out fails the checkout, goes to
the nearest store that has it, or ships; atomically, and the order says what moved and why."""

from tests.commerce import (
    BELLEVUE,
    CHECKOUT,
    DECLINED,
    KENT,
    PORTLAND,
    RENO,
    SEATTLE,
    VISA,
    create_cart,
    gid,
    level,
    line,
    reservation_count,
    reservations_consistent,
    set_stock,
)
from tests.conftest import Api

REDIRECT = CHECKOUT.replace("$key: String!)", "$key: String!, $redirect: CheckoutRedirect!)").replace(
    "idempotencyKey: $key)", "idempotencyKey: $key, redirect: $redirect)"
)
FULFILLMENTS = """
query ($id: ID!) { order(id: $id) { fulfillments {
  mode location { id } redirectedFrom { id } redirectReason lines { quantity } } } }"""


async def run_out(api: Api) -> dict:
    """A cart holds 2 for pickup at Seattle; then a count finds only 1 on the shelf."""
    await set_stock(api, 1, SEATTLE, 2)
    await set_stock(api, 1, BELLEVUE, 5)
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), line(2))
    await set_stock(api, 1, SEATTLE, 1)
    return cart


async def place(api: Api, cart: dict, redirect: str, payment: dict = VISA, key: str = "k") -> dict:
    variables = {"cartId": cart["id"], "payment": payment, "key": key, "redirect": redirect}
    return (await api.data(REDIRECT, variables, **api.as_member("m1")))["checkoutComplete"]


async def test_fail_refuses_the_checkout(api: Api):
    cart = await run_out(api)
    [error] = (await place(api, cart, "FAIL"))["userErrors"]
    assert (error["code"], error["field"]) == ("INSUFFICIENT_STOCK", ["cartId", "lines", "0"])


async def test_nearest_store_sends_the_pickup_to_the_nearest_store_that_has_it(api: Api):
    cart = await run_out(api)
    result = await place(api, cart, "NEAREST_STORE")
    assert result["userErrors"] == []
    data = await api.data(FULFILLMENTS, {"id": result["order"]["id"]}, **api.as_member("m1"))
    [pickup] = [f for f in data["order"]["fulfillments"] if f["redirectedFrom"]]
    assert pickup["mode"] == "PICKUP"
    assert pickup["location"]["id"] == gid("Location", BELLEVUE)
    assert pickup["redirectedFrom"]["id"] == gid("Location", SEATTLE)
    assert "had 1 of" in pickup["redirectReason"] and "nearest store" in pickup["redirectReason"]
    assert pickup["lines"] == [{"quantity": 2}]
    shipped = [f for f in data["order"]["fulfillments"] if not f["redirectedFrom"]]
    assert [(f["mode"], f["redirectReason"]) for f in shipped] == [("SHIP", None)]
    assert await level(api, 1, SEATTLE) == {"onHand": 1, "reserved": 0, "available": 1}
    assert (await level(api, 1, BELLEVUE))["reserved"] == 2
    await reservations_consistent(api)


async def test_ship_ships_the_pickup_and_says_so(api: Api):
    cart = await run_out(api)
    for location in (PORTLAND, 5, 7, 11, KENT):
        await set_stock(api, 1, location, 0)
    await set_stock(api, 1, RENO, 1)
    await set_stock(api, 1, KENT, 1)
    result = await place(api, cart, "SHIP")
    assert result["userErrors"] == []
    data = await api.data(FULFILLMENTS, {"id": result["order"]["id"]}, **api.as_member("m1"))
    redirected = [f for f in data["order"]["fulfillments"] if f["redirectedFrom"]]
    # Seattle's own unit is on its shelf, not promised to shipping: the warehouses split it.
    parts = {(f["mode"], f["location"]["id"], f["lines"][0]["quantity"]) for f in redirected}
    assert parts == {("SHIP", gid("Location", RENO), 1), ("SHIP", gid("Location", KENT), 1)}
    assert all("shipped instead" in f["redirectReason"] for f in redirected)
    await reservations_consistent(api)


async def test_a_declined_redirect_leaves_nothing_behind(api: Api):
    cart = await run_out(api)
    result = await place(api, cart, "NEAREST_STORE", payment=DECLINED)
    assert [e["code"] for e in result["userErrors"]] == ["PAYMENT_DECLINED"]
    assert (await level(api, 1, BELLEVUE))["reserved"] == 0
    await reservations_consistent(api)
    # The short hold was given back to the shelf with the attempt; nothing is held any more.
    assert await reservation_count(api) == 0


async def test_pay_at_store_cannot_be_redirected_to_shipping(api: Api):
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    result = await place(api, cart, "SHIP", payment={"method": "PAY_AT_STORE"})
    assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
        ("PAYMENT_METHOD_NOT_ALLOWED", ["redirect"])
    ]
