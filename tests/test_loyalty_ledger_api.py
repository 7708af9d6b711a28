"""The loyalty ledger names what it is about: a SPEND entry names the order it paid, and a
return after the points were spent never takes the balance below zero: the reversal the
balance cannot cover is written off as a SHORTFALL entry, in the ledger."""

from typing import Any

import pytest

from tests.commerce import (
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import make_settings, serving

LOYALTY = """{ me { loyalty { points
  history(first: 10) { nodes { kind points order { id } } } } } }"""


@pytest.fixture
async def api(database_url: str) -> Any:
    settings = make_settings(database_url, loyalty_points_per_unit=100, loyalty_tiers={"SILVER": 1})
    async with serving(settings) as api:
        yield api


async def ledger(api: Any) -> dict:
    return (await api.data(LOYALTY, **api.as_member("m1")))["me"]["loyalty"]


async def test_spending_names_the_order_and_a_later_return_stops_at_zero(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    sale = {"input": {
        "locationId": location_id(SEATTLE), "idempotencyKey": "till-1", "memberId": gid("Member", "m1"),
        "lines": [{"variantId": variant_id(1), "quantity": 2}],
    }}  # fmt: skip
    till = (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["order"]
    earned = (await ledger(api))["points"]
    assert earned > 0
    # Every point is spent on a web order: the SPEND entry names it.
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    paid = await checkout(
        api, cart["id"], payment={"method": "CARD", "cardToken": "tok_visa", "loyaltyPoints": earned},
        **api.as_member("m1"),
    )  # fmt: skip
    assert paid["userErrors"] == []
    spent = await ledger(api)
    assert spent["points"] == 0
    [spend] = [n for n in spent["history"]["nodes"] if n["kind"] == "SPEND"]
    assert (spend["points"], spend["order"]["id"]) == (-earned, paid["order"]["id"])
    # The till sale is returned: its points were spent, the balance stays at zero.
    back = {"input": {"orderId": till["id"], "locationId": location_id(SEATTLE),
                      "lines": [{"orderLineId": till["lines"][0]["id"], "quantity": 2}]}}  # fmt: skip
    body = await api.data(RETURN_CREATE, back, **api.as_staff(SEATTLE))
    assert body["returnCreate"]["userErrors"] == []
    after = await ledger(api)
    assert after["points"] == 0
    kinds = [(n["kind"], n["points"], n["order"]["id"]) for n in after["history"]["nodes"][:2]]
    assert kinds == [("SHORTFALL", earned, till["id"]), ("REVERSE", -earned, till["id"])]


async def test_a_return_the_balance_covers_has_no_shortfall(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    sale = {"input": {
        "locationId": location_id(SEATTLE), "idempotencyKey": "till-2", "memberId": gid("Member", "m1"),
        "lines": [{"variantId": variant_id(1), "quantity": 1}],
    }}  # fmt: skip
    till = (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["order"]
    back = {"input": {"orderId": till["id"], "locationId": location_id(SEATTLE),
                      "lines": [{"orderLineId": till["lines"][0]["id"], "quantity": 1}]}}  # fmt: skip
    assert (await api.data(RETURN_CREATE, back, **api.as_staff(SEATTLE)))["returnCreate"]["userErrors"] == []
    after = await ledger(api)
    assert after["points"] == 0
    assert [n["kind"] for n in after["history"]["nodes"]] == ["REVERSE", "EARN"]
