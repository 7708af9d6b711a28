"""Money that settles in the store: a PAY_AT_STORE order is paid (its tender recorded, its
payment captured) when staff take the payment at pickup, and only then earns points; a
reserve-to-try-on hold sold at the till records that payment against the order; a reserve-only
order reads HELD."""

from typing import Any

import pytest

from tests.commerce import (
    FULFILLMENT_UPDATE,
    ORDER,
    SEATTLE,
    checkout,
    create_cart,
    line,
    set_stock,
)
from tests.conftest import make_settings, serving

LOYALTY = "{ me { loyalty { points tier history(first: 10) { nodes { kind points } } } } }"
TILL_UPDATE = FULFILLMENT_UPDATE.replace(
    "$status: FulfillmentStatus!)", "$status: FulfillmentStatus!, $payment: TillPaymentInput)"
).replace("status: $status)", "status: $status, payment: $payment)")
PAYMENTS = (
    "query ($id: ID!) { order(id: $id) { status payments { method status tillTender amount { amount } } } }"
)


@pytest.fixture
async def api(database_url: str) -> Any:
    settings = make_settings(database_url, loyalty_points_per_unit=100, loyalty_tiers={"SILVER": 1})
    async with serving(settings) as api:
        yield api


async def move(api: Any, fulfillment_id: str, status: str, payment: dict | None = None) -> dict:
    variables = {"id": fulfillment_id, "status": status, "payment": payment}
    body = await api.data(TILL_UPDATE, variables, **api.as_staff(SEATTLE))
    payload = body["fulfillmentUpdateStatus"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["order"]


async def points(api: Any) -> dict:
    return (await api.data(LOYALTY, **api.as_member("m1")))["me"]["loyalty"]


async def payments(api: Any, order_id: str) -> dict:
    return (await api.data(PAYMENTS, {"id": order_id}, **api.as_member("m1")))["order"]


async def pay_at_store_order(api: Any) -> dict:
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    result = await checkout(api, cart["id"], payment={"method": "PAY_AT_STORE"}, **api.as_member("m1"))
    assert result["userErrors"] == []
    return result["order"]


async def test_pay_at_store_is_paid_and_earns_only_when_staff_take_the_payment(api: Any):
    order = await pay_at_store_order(api)
    [fulfillment] = order["fulfillments"]
    assert [(p["method"], p["status"]) for p in order["payments"]] == [("PAY_AT_STORE", "PENDING")]
    await move(api, fulfillment["id"], "READY_FOR_PICKUP")
    assert (await points(api))["points"] == 0
    picked = await move(api, fulfillment["id"], "PICKED_UP", {"tender": "CASH", "reference": "R-17"})
    assert picked["status"] == "PICKED_UP"
    paid = await payments(api, order["id"])
    [payment] = paid["payments"]
    assert (payment["method"], payment["status"], payment["tillTender"]) == (
        "PAY_AT_STORE",
        "CAPTURED",
        "CASH",
    )
    account = await points(api)
    assert account["points"] > 0 and account["tier"] == "SILVER"
    assert [n["kind"] for n in account["history"]["nodes"]] == ["EARN"]


async def test_picked_up_without_the_payment_stays_unpaid_and_earns_nothing(api: Any):
    order = await pay_at_store_order(api)
    [fulfillment] = order["fulfillments"]
    await move(api, fulfillment["id"], "READY_FOR_PICKUP")
    await move(api, fulfillment["id"], "PICKED_UP")
    assert [p["status"] for p in (await payments(api, order["id"]))["payments"]] == ["PENDING"]
    assert await points(api) == {"points": 0, "tier": "MEMBER", "history": {"nodes": []}}
    # The sweeper's catch-up does not credit it either: it is not paid.
    assert (await api.gateway.sweep()).points_caught_up == 0
    assert (await points(api))["points"] == 0


async def test_a_hold_sold_at_the_till_records_its_payment_and_a_reserve_only_order_is_held(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 2, "RESERVE", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], **api.as_member("m1")))["order"]
    assert order["status"] == "HELD"
    assert order["payments"] == []
    [hold] = order["fulfillments"]
    sold = await move(api, hold["id"], "SOLD", {"tender": "CARD", "reference": "T-9"})
    assert sold["status"] == "FULFILLED"
    [payment] = (await payments(api, order["id"]))["payments"]
    assert (payment["status"], payment["tillTender"]) == ("CAPTURED", "CARD")
    assert payment["amount"]["amount"] == order["total"]["amount"]
    assert (await points(api))["points"] > 0


async def test_a_hold_sold_without_a_tender_still_records_the_payment(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "RESERVE", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], **api.as_member("m1")))["order"]
    await move(api, order["fulfillments"][0]["id"], "SOLD")
    [payment] = (await payments(api, order["id"]))["payments"]
    assert (payment["status"], payment["tillTender"]) == ("CAPTURED", "OTHER")
    assert (await api.data(ORDER, {"id": order["id"]}, **api.as_member("m1")))["order"][
        "status"
    ] == "FULFILLED"
