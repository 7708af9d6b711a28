"""Orders reach the ERP through the outbox, written by checkout itself in its own transaction:
every fulfilment mode, guests and members, till sales when the retailer wants them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from adapters.memory import MemoryData
from adapters.memory import connect as connect_memory
from adapters.store.tables import orders, outbox
from tests.commerce import (
    ERRORS,
    PORTLAND,
    SEATTLE,
    STORE_SALE,
    create_cart,
    gid,
    line,
    location_id,
    variant_id,
)

CHECKOUT = f"""
mutation ($cartId: ID!, $key: String!, $buyer: CheckoutBuyerInput) {{
  checkoutComplete(cartId: $cartId, payment: {{method: CARD, cardToken: "tok_visa"}},
                   idempotencyKey: $key, buyer: $buyer) {{
    order {{ id number status }} {ERRORS}
  }}
}}"""
ADA = {
    "email": "ada@example.com",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "shippingAddress": {"address1": "1 Pike St", "city": "Seattle", "zip": "98101",
                        "country": "United States", "countryCode": "US"},
}  # fmt: skip


async def erp_gateway(make_api, database_url, **settings):
    data = MemoryData()
    api = await make_api(
        database_url=database_url, upstreams={"memory": connect_memory(data)}, orders="memory", **settings
    )
    return api, data


async def place(api, *lines, buyer=ADA, key="k1", **headers):
    cart = await create_cart(api, *lines, lean=True, **headers)
    variables = {"cartId": cart["id"], "key": key, "buyer": buyer}
    return (await api.data(CHECKOUT, variables, **headers))["checkoutComplete"]


async def messages(api):
    async with api.store.engine.connect() as conn:
        return list(await conn.execute(sa.select(outbox).order_by(outbox.c.id)))


async def test_every_placed_order_is_one_message_to_the_erp(make_api, database_url):
    api, data = await erp_gateway(make_api, database_url)
    placed = [
        await place(api, line(1, 1), key="ship"),
        await place(api, line(2, 1, "PICKUP", SEATTLE), key="pickup"),
        await place(api, line(3, 1, "RESERVE", SEATTLE), key="reserve"),
        await place(api, line(4, 1, "SHIP_FROM_STORE", PORTLAND), key="sfs"),
        await place(api, line(5, 1), buyer=None, key="member", **api.as_member("m1")),
    ]
    assert all(p["userErrors"] == [] for p in placed), placed
    rows = await messages(api)
    assert [r.topic for r in rows] == ["order.push"] * 5
    numbers = [p["order"]["number"] for p in placed]
    assert [r.payload["reference"] for r in rows] == [f"OMNI-{n}" for n in numbers]
    ship = rows[0].payload
    assert ship["customer"]["email"] == "ada@example.com"
    assert ship["customer"]["address"]["city"] == "Seattle"
    assert rows[4].payload["customer"]["email"] == "ana@example.com"  # the member's own
    assert rows[1].payload["location_code"] is not None

    assert await api.gateway.outbox.run_once() == 5
    assert sorted(data.orders) == sorted(f"OMNI-{n}" for n in numbers)
    assert await api.gateway.outbox.run_once() == 0  # delivered once
    async with api.store.engine.connect() as conn:
        states = list(await conn.execute(sa.select(orders.c.erp_reference, orders.c.erp_state)))
    assert len(states) == 5 and all(s.erp_reference and s.erp_state == "CONFIRMED" for s in states)


async def test_a_guest_gives_an_email_when_the_erp_receives_orders(make_api, database_url):
    api, _ = await erp_gateway(make_api, database_url)
    refused = await place(api, line(1, 1), buyer=None)
    assert [e["code"] for e in refused["userErrors"]] == ["BUYER_EMAIL_REQUIRED"]
    assert refused["order"] is None
    assert await messages(api) == []
    bad = await place(api, line(1, 1), buyer={"email": "not an email"}, key="k2")
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID"]


async def test_a_declined_order_sends_nothing(make_api, database_url):
    api, _ = await erp_gateway(make_api, database_url)
    cart = await create_cart(api, line(1, 1), lean=True)
    document = CHECKOUT.replace("tok_visa", "tok_chargeDeclined")
    body = await api.data(document, {"cartId": cart["id"], "key": "k", "buyer": ADA})
    assert [e["code"] for e in body["checkoutComplete"]["userErrors"]] == ["PAYMENT_DECLINED"]
    assert await messages(api) == []


async def test_without_an_order_sink_nothing_is_queued(api):
    body = await place(api, line(1, 1), buyer=None)
    assert body["userErrors"] == []
    assert await messages(api) == []


@pytest.mark.parametrize("pushed", [False, True])
async def test_till_sales_go_to_the_erp_when_configured(make_api, database_url, pushed):
    api, data = await erp_gateway(make_api, database_url, push_store_sales=pushed)
    sale = {"locationId": location_id(SEATTLE), "lines": [{"variantId": variant_id(1), "quantity": 1}]}
    body = await api.data(STORE_SALE, {"input": sale}, **api.as_staff(SEATTLE))
    assert body["storeSaleRecord"]["userErrors"] == []
    rows = await messages(api)
    assert len(rows) == (1 if pushed else 0)
    if pushed:
        assert rows[0].payload["customer"]["email"] == "walk-in@example.com"
        with_member = {
            **sale,
            "lines": [{"variantId": variant_id(2), "quantity": 1}],
            "memberId": gid("Member", "m1"),
        }
        again = await api.data(STORE_SALE, {"input": with_member}, **api.as_staff(SEATTLE))
        assert again["storeSaleRecord"]["userErrors"] == []
        assert (await messages(api))[1].payload["customer"]["email"] == "ana@example.com"
        assert await api.gateway.outbox.run_once() == 2
        assert len(data.orders) == 2
