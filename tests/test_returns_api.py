"""returnCreate: any order, any location; restock where it comes back; refund or exchange."""

import sqlalchemy as sa

from adapters.store.tables import returns
from tests.commerce import (
    BELLEVUE,
    FULFILLMENT_UPDATE,
    GIFT_CARD_ISSUE,
    PORTLAND,
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    level,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import Api

# Variants 1 and 2 are two sizes of product 1; variant 5 belongs to product 2.
SMALL, MEDIUM, OTHER_PRODUCT = 1, 2, 5


async def picked_up(
    api: Api, variant: int = SMALL, quantity: int = 1, payment: dict | None = None
) -> dict:
    await set_stock(api, variant, SEATTLE, quantity + 2)
    cart = await create_cart(api, line(variant, quantity, "PICKUP", SEATTLE))
    order = (await checkout(api, cart["id"], payment=payment))["order"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        body = await api.data(
            FULFILLMENT_UPDATE,
            {"id": order["fulfillments"][0]["id"], "status": status},
            **api.as_staff(SEATTLE),
        )
        order = body["fulfillmentUpdateStatus"]["order"]
    return order


async def give_back(
    api: Api, order: dict, *lines: dict, at: int = PORTLAND, staff: int | None = None
) -> dict:
    variables = {
        "input": {"orderId": order["id"], "locationId": location_id(at), "lines": list(lines)}
    }
    body = await api.gql(RETURN_CREATE, variables, **api.as_staff(staff or at))
    if body.get("errors"):
        return {"errors": [e["extensions"]["code"] for e in body["errors"]]}
    return body["data"]["returnCreate"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_an_exchange_swaps_sizes_at_the_store_and_refunds_nothing(api: Api):
    order = await picked_up(api)
    await set_stock(api, MEDIUM, PORTLAND, 2)
    before = await level(api, SMALL, PORTLAND)
    swap = {
        "orderLineId": order["lines"][0]["id"],
        "quantity": 1,
        "exchangeVariantId": variant_id(MEDIUM),
    }
    payload = await give_back(api, order, swap)
    assert payload["userErrors"] == []
    ret = payload["return"]
    assert (ret["refundStatus"], ret["refund"]["amount"]) == ("NONE", "0.00")
    assert ret["lines"][0]["exchangeVariant"]["id"] == variant_id(MEDIUM)
    assert (await level(api, SMALL, PORTLAND))["onHand"] == before["onHand"] + 1
    assert await level(api, MEDIUM, PORTLAND) == {"onHand": 1, "reserved": 0, "available": 1}
    assert api.gateway.payments.cards.refunds == []


async def test_exchange_refusals_change_nothing(api: Api):
    order = await picked_up(api)
    line_id = order["lines"][0]["id"]
    other = await give_back(
        api, order, {"orderLineId": line_id, "exchangeVariantId": variant_id(OTHER_PRODUCT)}
    )
    assert codes(other) == ["EXCHANGE_NOT_ALLOWED"]
    await set_stock(api, MEDIUM, PORTLAND, 0)
    before = await level(api, SMALL, PORTLAND)
    none_left = await give_back(
        api, order, {"orderLineId": line_id, "exchangeVariantId": variant_id(MEDIUM)}
    )
    assert codes(none_left) == ["INSUFFICIENT_STOCK"]
    assert await level(api, SMALL, PORTLAND) == before  # the restock rolled back with it
    async with api.store.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(returns)) == 0


async def test_only_what_reached_the_customer_comes_back_and_only_once(api: Api):
    await set_stock(api, SMALL, SEATTLE, 2)
    cart = await create_cart(api, line(SMALL, 1, "PICKUP", SEATTLE))
    waiting = (await checkout(api, cart["id"]))["order"]
    early = await give_back(api, waiting, {"orderLineId": waiting["lines"][0]["id"]})
    assert codes(early) == ["NOT_RETURNABLE"]

    order = await picked_up(api, quantity=2)
    line_id = order["lines"][0]["id"]
    assert codes(await give_back(api, order, {"orderLineId": line_id, "quantity": 3})) == [
        "RETURN_QUANTITY_EXCEEDED"
    ]
    assert (await give_back(api, order, {"orderLineId": line_id, "quantity": 1}))[
        "userErrors"
    ] == []
    twice = await give_back(
        api, order, {"orderLineId": line_id, "quantity": 1}, {"orderLineId": line_id, "quantity": 1}
    )
    assert codes(twice) == ["RETURN_QUANTITY_EXCEEDED"]
    last = await give_back(api, order, {"orderLineId": line_id, "quantity": 1})
    assert last["order"]["lines"][0]["returnedQuantity"] == 2
    foreign = await give_back(api, order, {"orderLineId": gid("OrderLine", 999)})
    assert codes(foreign) == ["ORDER_LINE_NOT_FOUND"]
    ghost = {
        "input": {"orderId": gid("Order", 999), "locationId": location_id(PORTLAND), "lines": []}
    }
    body = await api.data(RETURN_CREATE, ghost, **api.as_staff(PORTLAND))
    assert codes(body["returnCreate"]) == ["ORDER_NOT_FOUND"]


async def test_staff_of_the_return_location_take_returns(api: Api):
    order = await picked_up(api)
    lines = {"orderLineId": order["lines"][0]["id"]}
    assert (await give_back(api, order, lines, at=PORTLAND, staff=BELLEVUE)) == {
        "errors": ["FORBIDDEN"]
    }
    anonymous = await api.gql(
        RETURN_CREATE,
        {"input": {"orderId": order["id"], "locationId": location_id(PORTLAND), "lines": [lines]}},
    )
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_a_gift_card_refund_goes_back_on_the_card(api: Api):
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": "1000.00"}, **api.as_staff(SEATTLE))
    code = issued["giftCardIssue"]["giftCard"]["code"]
    order = await picked_up(api, payment={"method": "GIFT_CARD", "giftCardCode": code})
    spent = await api.store.gift_cards.balance(code)
    payload = await give_back(api, order, {"orderLineId": order["lines"][0]["id"]})
    assert payload["return"]["refundStatus"] == "REFUNDED"
    assert await api.store.gift_cards.balance(code) == 100000
    assert spent < 100000


async def test_a_till_sale_is_refunded_at_the_till(api: Api):
    await set_stock(api, SMALL, SEATTLE, 2)
    sale = await api.data(
        STORE_SALE,
        {
            "input": {
                "locationId": location_id(SEATTLE),
                "lines": [{"variantId": variant_id(SMALL)}],
            }
        },
        **api.as_staff(SEATTLE),
    )
    order = sale["storeSaleRecord"]["order"]
    payload = await give_back(api, order, {"orderLineId": order["lines"][0]["id"]}, at=SEATTLE)
    assert payload["return"]["refundStatus"] == "REFUNDED"
    assert api.gateway.payments.cards.refunds == []
    assert (await level(api, SMALL, SEATTLE))["onHand"] == 2
