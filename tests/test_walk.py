"""The issue's walk, through the GraphQL API alone: browse, a cart with a SHIP and a PICKUP line,
the pickup store runs out, alternatives, the line moves, checkout (retried with the same key),
the store hands it over, and part of the order comes back in a different store."""

from decimal import Decimal

from tests.commerce import (
    BELLEVUE,
    CART,
    FULFILLMENT_UPDATE,
    KENT,
    LINES_UPDATE,
    PORTLAND,
    RENO,
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    VISA,
    checkout,
    create_cart,
    level,
    line,
    location_id,
    reservations_consistent,
    set_stock,
    variant_id,
)
from tests.conftest import Api

BROWSE = """
{ products(first: 2, query: "jacket") { nodes { title variants { id sku price { amount } } } } }
"""


def key_of(global_id: str) -> int:
    import base64

    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_browse_cart_run_out_move_checkout_pick_up_and_return_elsewhere(api: Api):
    # Browse: two jackets; the first ships, the second is picked up in Seattle.
    products = (await api.data(BROWSE))["products"]["nodes"]
    shipped = key_of(products[0]["variants"][0]["id"])
    picked = key_of(products[1]["variants"][0]["id"])
    price = Decimal(products[1]["variants"][0]["price"]["amount"])
    await set_stock(api, shipped, RENO, 10)
    await set_stock(api, shipped, KENT, 0)
    await set_stock(api, picked, SEATTLE, 1)  # the last one in Seattle
    await set_stock(api, picked, BELLEVUE, 4)
    await set_stock(api, picked, PORTLAND, 0)

    cart = await create_cart(api, line(shipped), line(picked, 1, "PICKUP", SEATTLE))
    assert [ln["status"] for ln in cart["lines"]] == ["AVAILABLE", "AVAILABLE"]
    assert cart["lines"][1]["held"] == 1  # the Seattle unit is held for this cart...
    assert await level(api, picked, SEATTLE) == {"onHand": 1, "reserved": 1, "available": 0}

    # ...for 15 minutes. The shopper dawdles; a customer in the store buys the last one.
    api.advance(minutes=16)
    sale = await api.data(
        STORE_SALE,
        {
            "input": {
                "locationId": location_id(SEATTLE),
                "lines": [{"variantId": variant_id(picked)}],
            }
        },
        **api.as_staff(SEATTLE),
    )
    assert sale["storeSaleRecord"]["userErrors"] == []
    assert await level(api, picked, SEATTLE) == {"onHand": 0, "reserved": 0, "available": 0}

    # The cart says so, and offers the nearest store with stock, then shipping.
    cart = (await api.data(CART, {"id": cart["id"]}))["cart"]
    pickup = cart["lines"][1]
    assert (pickup["status"], pickup["held"], pickup["available"]) == ("UNAVAILABLE", 0, 0)
    nearest, *_, ship = pickup["alternatives"]
    assert nearest["location"]["id"] == location_id(BELLEVUE)
    assert nearest["available"] == 4 and nearest["distanceKm"] < 15
    assert ship["location"]["kind"] == "WAREHOUSE" and ship["distanceKm"] is None

    # The line moves to Bellevue and holds a unit there.
    moved = await api.data(
        LINES_UPDATE,
        {
            "cartId": cart["id"],
            "lines": [
                {
                    "id": pickup["id"],
                    "fulfillment": {"mode": "PICKUP", "locationId": nearest["location"]["id"]},
                }
            ],
        },
    )
    assert moved["cartLinesUpdate"]["userErrors"] == []
    pickup = moved["cartLinesUpdate"]["cart"]["lines"][1]
    assert (pickup["status"], pickup["held"]) == ("AVAILABLE", 1)
    assert pickup["fulfillment"]["location"]["id"] == location_id(BELLEVUE)

    # Checkout; the app retries with the same key (a lost response): same order, one charge.
    first = await checkout(api, cart["id"], key="walk-1", payment=VISA)
    assert first["userErrors"] == []
    again = await checkout(api, cart["id"], key="walk-1", payment=VISA)
    assert again["order"]["id"] == first["order"]["id"]
    assert len(api.gateway.payments.cards.charges) == 1
    order = first["order"]
    assert order["status"] == "ALLOCATED"
    by_mode = {f["mode"]: f for f in order["fulfillments"]}
    assert by_mode["SHIP"]["location"]["id"] == location_id(RENO)
    assert by_mode["PICKUP"]["location"]["id"] == location_id(BELLEVUE)
    assert await level(api, picked, BELLEVUE) == {"onHand": 4, "reserved": 1, "available": 3}
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["order"]["id"] == order["id"]

    # Bellevue marks it ready, then hands it over; the warehouse ships the rest.
    async def move(fulfillment: dict, status: str, staff: int) -> dict:
        body = await api.data(
            FULFILLMENT_UPDATE, {"id": fulfillment["id"], "status": status}, **api.as_staff(staff)
        )
        assert body["fulfillmentUpdateStatus"]["userErrors"] == []
        return body["fulfillmentUpdateStatus"]["order"]

    assert (await move(by_mode["PICKUP"], "READY_FOR_PICKUP", BELLEVUE))["status"] == "ALLOCATED"
    assert (await move(by_mode["PICKUP"], "PICKED_UP", BELLEVUE))["status"] == "PARTIALLY_FULFILLED"
    assert await level(api, picked, BELLEVUE) == {"onHand": 3, "reserved": 0, "available": 3}
    await move(by_mode["SHIP"], "SHIPPED", RENO)
    order = await move(by_mode["SHIP"], "DELIVERED", RENO)
    assert order["status"] == "FULFILLED"
    assert [h["status"] for h in order["statusHistory"]][:2] == ["PLACED", "ALLOCATED"]

    # The picked-up jacket comes back in Portland: restocked there, refunded to the card.
    picked_line = next(ln for ln in order["lines"] if ln["variant"]["id"] == variant_id(picked))
    returned = await api.data(
        RETURN_CREATE,
        {
            "input": {
                "orderId": order["id"],
                "locationId": location_id(PORTLAND),
                "lines": [{"orderLineId": picked_line["id"], "quantity": 1}],
                "reason": "too small",
            }
        },
        **api.as_staff(PORTLAND),
    )
    payload = returned["returnCreate"]
    assert payload["userErrors"] == []
    assert payload["return"]["refundStatus"] == "REFUNDED"
    assert Decimal(payload["return"]["refund"]["amount"]) == price
    assert await level(api, picked, PORTLAND) == {"onHand": 1, "reserved": 0, "available": 1}
    assert await level(api, picked, BELLEVUE) == {"onHand": 3, "reserved": 0, "available": 3}
    [payment] = payload["order"]["payments"]
    assert Decimal(payment["refunded"]["amount"]) == price
    assert payload["order"]["lines"][1]["returnedQuantity"] == 1
    assert api.gateway.payments.cards.refunds == [(api.gateway.payments.cards.charges[0].reference,
                                                   int(price * 100))]  # fmt: skip
    await reservations_consistent(api)
