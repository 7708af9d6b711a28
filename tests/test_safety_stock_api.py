"""Safety stock: a location keeps N units of a variant out of online availability (carts,
checkout, availability fields), never out of a sale at its till."""

from tests.commerce import (
    CART_CREATE,
    KENT,
    PORTLAND,
    RENO,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    level,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import Api

SET = """
mutation ($input: InventorySafetyStockInput!) {
  inventorySafetyStockSet(input: $input) {
    inventoryLevel { onHand reserved available safetyStock location { id } }
    userErrors { field message code }
  }
}"""
AVAILABILITY = """
query ($id: ID!) {
  node(id: $id) {
    ... on ProductVariant {
      quantityAvailable
      inventory(locationIds: [$location]) { onHand available safetyStock }
      storeAvailability(near: {latitude: 47.61, longitude: -122.34}, radiusKm: 5, first: 1) {
        location { id } available
      }
    }
  }
}""".replace("($id: ID!)", "($id: ID!, $location: ID!)")


def keep(variant: int, location: int, quantity: int) -> dict:
    return {
        "input": {
            "variantId": variant_id(variant),
            "locationId": location_id(location),
            "quantity": quantity,
        }
    }


async def test_the_last_units_on_a_shelf_are_not_promised_online(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    body = await api.data(SET, keep(1, SEATTLE, 2), **api.as_staff(SEATTLE))
    payload = body["inventorySafetyStockSet"]
    assert payload["userErrors"] == []
    assert payload["inventoryLevel"] == {
        "onHand": 3, "reserved": 0, "available": 1, "safetyStock": 2,
        "location": {"id": location_id(SEATTLE)},
    }  # fmt: skip
    found = await api.data(AVAILABILITY, {"id": variant_id(1), "location": location_id(SEATTLE)})
    variant = found["node"]
    assert variant["inventory"] == [{"onHand": 3, "available": 1, "safetyStock": 2}]
    assert variant["storeAvailability"][0]["available"] == 1
    # Online: one unit can be held for pickup, the second cannot.
    variables = {"input": {"channel": "WEB", "lines": [line(1, 2, "PICKUP", SEATTLE)]}}
    short = (await api.data(CART_CREATE, variables))["cartCreate"]
    [shelf] = short["cart"]["lines"]
    assert (shelf["status"], shelf["available"], shelf["held"]) == ("SHORT", 1, 0)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    assert (await checkout(api, cart["id"]))["userErrors"] == []
    assert (await level(api, 1, SEATTLE))["available"] == 0
    # At the till the shelf is the shelf: both kept units can be sold.
    sale = {"input": {"locationId": location_id(SEATTLE),
                      "lines": [{"variantId": variant_id(1), "quantity": 2}]}}  # fmt: skip
    sold = (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]
    assert sold["userErrors"] == []
    assert (await level(api, 1, SEATTLE))["onHand"] == 1  # the unit the pickup order holds


async def test_allocation_keeps_the_safety_stock(api: Api):
    for location in (SEATTLE, PORTLAND, 5, 7, 11, KENT):
        await set_stock(api, 3, location, 0)
    await set_stock(api, 3, RENO, 5)
    await api.data(SET, keep(3, RENO, 4), **api.as_integration())
    cart = await create_cart(api, line(3, 2))
    [error] = (await checkout(api, cart["id"]))["userErrors"]
    assert (error["code"], error["message"][:4]) == ("INSUFFICIENT_STOCK", "1 of")
    await api.data(SET, keep(3, RENO, 0), **api.as_integration())
    assert (await checkout(api, cart["id"], key="again"))["userErrors"] == []


async def test_who_may_set_safety_stock_and_what_is_refused(api: Api):
    denied = await api.gql(SET, keep(1, SEATTLE, 1), **api.as_staff(PORTLAND))
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    anonymous = await api.gql(SET, keep(1, SEATTLE, 1))
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    member = await api.gql(SET, keep(1, SEATTLE, 1), **api.as_member("m1"))
    assert [e["extensions"]["code"] for e in member["errors"]] == ["FORBIDDEN"]
    staff = api.as_staff(SEATTLE)
    negative = (await api.data(SET, keep(1, SEATTLE, -1), **staff))["inventorySafetyStockSet"]
    assert [(e["code"], e["field"]) for e in negative["userErrors"]] == [("INVALID", ["input", "quantity"])]
    unknown = (await api.data(SET, keep(999999, SEATTLE, 1), **staff))["inventorySafetyStockSet"]
    assert [e["code"] for e in unknown["userErrors"]] == ["VARIANT_NOT_FOUND"]
    malformed = await api.gql(SET, {"input": {**keep(1, SEATTLE, 1)["input"], "variantId": "x"}},
                              **staff)  # fmt: skip
    assert [e["extensions"]["code"] for e in malformed["errors"]] == ["BAD_USER_INPUT"]
