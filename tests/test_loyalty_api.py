"""Loyalty through the API: a store sale earns points (once, however often the till retries),
a return takes them back, the tier follows the spend, and the points pay a web checkout."""

from __future__ import annotations

from decimal import Decimal
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

LOYALTY = """{ me { loyalty { points tier
  history(first: 10) { edges { node { kind points order { id channel } } } } } } }"""
PRICE = "query ($id: ID!) { node(id: $id) { ... on ProductVariant { price { amount } } } }"


@pytest.fixture
async def api(database_url: str) -> Any:
    # 100 points per currency unit: a point per cent, so a sale pays for itself in points.
    settings = make_settings(database_url, loyalty_points_per_unit=100, loyalty_tiers={"SILVER": 1})
    async with serving(settings) as api:
        yield api


async def price_cents(api: Any, variant: int) -> int:
    body = await api.data(PRICE, {"id": variant_id(variant)})
    return int(Decimal(body["node"]["price"]["amount"]) * 100)


async def till_sale(api: Any, variant: int, quantity: int, key: str, member: str = "m1") -> dict:
    variables = {"input": {
        "locationId": location_id(SEATTLE), "idempotencyKey": key, "memberId": gid("Member", member),
        "lines": [{"variantId": variant_id(variant), "quantity": quantity}],
    }}  # fmt: skip
    payload = (await api.data(STORE_SALE, variables, **api.as_staff(SEATTLE)))["storeSaleRecord"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["order"]


async def account(api: Any, member: str = "m1") -> dict:
    return (await api.data(LOYALTY, **api.as_member(member)))["me"]["loyalty"]


async def test_store_sale_points_pay_for_a_web_checkout(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    assert await account(api) == {"points": 0, "tier": "MEMBER", "history": {"edges": []}}
    sale = await till_sale(api, 1, 2, "till-9-0001")
    await till_sale(api, 1, 2, "till-9-0001")  # the till retries: one sale, one credit
    earned = 2 * await price_cents(api, 1)
    before = await account(api)
    assert (before["points"], before["tier"]) == (earned, "SILVER")
    assert [e["node"] for e in before["history"]["edges"]] == [
        {"kind": "EARN", "points": earned, "order": {"id": sale["id"], "channel": "STORE"}}
    ]
    # On the web, the same member pays with those points.
    cart = await create_cart(api, line(1, 1), **api.as_member("m1"))
    paid = await checkout(api, cart["id"], payment={"method": "LOYALTY_POINTS"}, **api.as_member("m1"))
    assert paid["userErrors"] == [], paid["userErrors"]
    assert [p["method"] for p in paid["order"]["payments"]] == ["LOYALTY_POINTS"]
    cost = int(Decimal(paid["order"]["total"]["amount"]) * 100)
    after = await account(api)
    assert after["points"] == earned - cost
    assert after["history"]["edges"][0]["node"]["kind"] == "SPEND"
    # Someone else's points cannot pay, and nobody pays with points they do not have.
    other = await create_cart(api, line(1, 1), **api.as_member("m2"))
    refused = await checkout(api, other["id"], payment={"method": "LOYALTY_POINTS"}, **api.as_member("m2"))
    assert [e["code"] for e in refused["userErrors"]] == ["PAYMENT_DECLINED"]
    guest = await create_cart(api, line(1, 1))
    anonymous = await checkout(api, guest["id"], payment={"method": "LOYALTY_POINTS"})
    assert [e["code"] for e in anonymous["userErrors"]] == ["PAYMENT_METHOD_NOT_ALLOWED"]
    assert (await account(api))["points"] == earned - cost


async def test_a_return_takes_back_what_it_had_earned(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    sale = await till_sale(api, 1, 2, "till-9-0002")
    unit = await price_cents(api, 1)
    variables = {"input": {"orderId": sale["id"], "locationId": location_id(SEATTLE),
                           "lines": [{"orderLineId": sale["lines"][0]["id"], "quantity": 1}]}}  # fmt: skip
    body = await api.data(RETURN_CREATE, variables, **api.as_staff(SEATTLE))
    assert body["returnCreate"]["userErrors"] == []
    after = await account(api)
    assert after["points"] == unit
    assert [(e["node"]["kind"], e["node"]["points"]) for e in after["history"]["edges"]] == [
        ("REVERSE", -unit), ("EARN", 2 * unit),
    ]  # fmt: skip
    assert (await account(api, "m2"))["points"] == 0


async def test_each_change_of_points_is_published_once(api: Any):
    await set_stock(api, 1, SEATTLE, 5)
    seen: list[tuple[str, str]] = []
    api.gateway.events.listen("loyalty", lambda e: seen.append((e.member_id, e.reason)))
    await till_sale(api, 1, 1, "till-9-0003")
    await till_sale(api, 1, 1, "till-9-0003")  # a retried till: no second credit, no second event
    cart = await create_cart(api, line(1, 1), **api.as_member("m1"))
    paid = await checkout(api, cart["id"], payment={"method": "LOYALTY_POINTS"}, **api.as_member("m1"))
    assert paid["userErrors"] == []
    assert seen == [("m1", "EARN"), ("m1", "SPEND")]


async def test_the_sweeper_writes_points_a_crash_kept_from_the_ledger(api: Any):
    import sqlalchemy as sa

    from adapters.store.tables import loyalty_entries

    await set_stock(api, 1, SEATTLE, 5)
    await till_sale(api, 1, 1, "till-9-0004")
    earned = (await account(api))["points"]
    async with api.store.engine.begin() as conn:  # the process died before writing the entry
        await conn.execute(sa.delete(loyalty_entries))
    assert (await account(api))["points"] == 0
    assert (await api.gateway.sweep()).points_caught_up == 1
    assert (await account(api))["points"] == earned
    assert (await api.gateway.sweep()).points_caught_up == 0


async def test_cancelling_an_order_paid_with_points_gives_them_back(api: Any):
    from tests.commerce import ORDER_CANCEL

    await set_stock(api, 1, SEATTLE, 5)
    await till_sale(api, 1, 2, "till-9-0005")
    earned = (await account(api))["points"]
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    paid = await checkout(api, cart["id"], payment={"method": "LOYALTY_POINTS"}, **api.as_member("m1"))
    assert paid["userErrors"] == []
    assert (await account(api))["points"] < earned
    body = await api.data(ORDER_CANCEL, {"id": paid["order"]["id"], "reason": "changed my mind"},
                          **api.as_member("m1"))  # fmt: skip
    assert body["orderCancel"]["userErrors"] == []
    after = await account(api)
    assert after["points"] == earned
    assert after["history"]["edges"][0]["node"]["kind"] == "REFUND"
