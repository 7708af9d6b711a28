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


DEAD_LETTERS = """
query { outboxDeadLetters(first: 10) { id topic orderNumber attempts lastError deadAt } }"""
REPLAY = """
mutation ($ids: [ID!]!) {
  outboxReplay(ids: $ids) { replayed { id attempts deadAt } userErrors { field code } }
}"""


async def test_staff_see_dead_letters_and_replay_them(make_api, database_url):
    """The ERP refuses (an unknown product): a dead letter at once, with the ERP's reason;
    back-office staff replay it once the product exists, and it is delivered once."""
    from adapters.errors import UpstreamRejected

    api, data = await erp_gateway(make_api, database_url)
    sink = api.gateway.upstreams.orders.orders
    real_push = sink.push_order
    refusing = True

    async def push_order(order):
        if refusing:
            raise UpstreamRejected(f"no product with code {order.lines[0].sku}")
        return await real_push(order)

    sink.push_order = push_order
    placed = await place(api, line(1, 1))
    assert await api.gateway.outbox.run_once() == 0
    assert (await api.gateway.outbox.stats()).dead == 1
    # Nobody but back-office staff sees them.
    for headers in ({}, api.as_member("m1"), api.as_staff(SEATTLE)):
        body = await api.gql(DEAD_LETTERS, **headers)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    [dead] = (await api.data(DEAD_LETTERS, **api.as_order_sync()))["outboxDeadLetters"]
    assert dead["orderNumber"] == placed["order"]["number"] and dead["topic"] == "order.push"
    assert "no product with code" in dead["lastError"] and dead["deadAt"] and dead["attempts"] == 1
    refusing = False
    assert await api.gateway.outbox.run_once() == 0  # a dead letter waits for staff
    body = await api.data(REPLAY, {"ids": [dead["id"], gid("OutboxMessage", 999)]}, **api.as_order_sync())
    payload = body["outboxReplay"]
    assert payload["replayed"] == [{"id": dead["id"], "attempts": 0, "deadAt": None}]
    assert payload["userErrors"] == [{"field": ["ids", "1"], "code": "MESSAGE_NOT_FOUND"}]
    assert await api.gateway.outbox.run_once() == 1
    assert len(data.orders) == 1
    assert (await api.data(DEAD_LETTERS, **api.as_order_sync()))["outboxDeadLetters"] == []


async def test_failures_back_off_and_end_as_dead_letters_after_the_limit(make_api, database_url):
    import sqlalchemy as sa_

    from adapters.errors import UpstreamUnavailable

    settings = {"outbox_max_attempts": 3, "outbox_backoff_s": 60, "metrics": True}
    api, _ = await erp_gateway(make_api, database_url, **settings)
    sink = api.gateway.upstreams.orders.orders

    async def down(order):
        raise UpstreamUnavailable("connection refused")

    sink.push_order = down
    await place(api, line(1, 1))
    for attempt in range(1, 4):
        assert await api.gateway.outbox.run_once() == 0
        [row] = await messages(api)
        assert row.attempts == attempt
        if attempt < 3:  # backed off: not due again at once
            assert row.dead_at is None
            assert await api.gateway.outbox.run_once() == 0
            assert (await messages(api))[0].attempts == attempt
            async with api.store.writing() as conn:  # time passes (the test does not wait)
                await conn.execute(sa_.update(outbox).values(available_at=row.created_at))
    [row] = await messages(api)
    assert row.dead_at is not None and "connection refused" in row.last_error
    stats = await api.gateway.outbox.stats()
    assert (stats.backlog, stats.dead) == (0, 1)
    text = (await api.client.get("/metrics")).text
    assert "omnigate_outbox_dead_letters 1.0" in text
    assert 'omnigate_outbox_failures_total{then="retry"} 2.0' in text
    assert 'omnigate_outbox_failures_total{then="dead_letter"} 1.0' in text


FULFILL = """
mutation ($id: ID!, $status: FulfillmentStatus!) {
  fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) { userErrors { code } }
}"""
ORDER = """
query ($id: ID!) { order(id: $id) { status fulfillments { id mode status }
                   statusHistory { status fulfillmentStatus reason } } }"""
RETURN = """
mutation ($input: ReturnInput!) { returnCreate(input: $input) { userErrors { code message } } }"""


async def test_what_happens_to_a_pushed_order_follows_it_to_the_erp(make_api, database_url):
    """Shipped, cancelled, returned: each its own message, written with the change; an order
    the ERP does not have sends nothing."""
    api, _ = await erp_gateway(make_api, database_url)
    shipped = await place(api, line(1, 1), key="a")
    cancelled = await place(api, line(2, 1), key="b")
    staff = api.as_order_sync()
    order = (await api.data(ORDER, {"id": shipped["order"]["id"]}, **staff))["order"]
    [f] = order["fulfillments"]
    assert (await api.data(FULFILL, {"id": f["id"], "status": "SHIPPED"}, **staff))[
        "fulfillmentUpdateStatus"
    ]["userErrors"] == []
    cancel = "mutation ($id: ID!) { orderCancel(orderId: $id) { userErrors { code } } }"
    assert (await api.data(cancel, {"id": cancelled["order"]["id"]}, **staff))["orderCancel"][
        "userErrors"
    ] == []
    order = (await api.data(ORDER, {"id": shipped["order"]["id"]}, **staff))["order"]
    lines = "query ($id: ID!) { order(id: $id) { lines { id } fulfillments { location { id } } } }"
    found = (await api.data(lines, {"id": shipped["order"]["id"]}, **staff))["order"]
    returned = {"orderId": shipped["order"]["id"], "locationId": found["fulfillments"][0]["location"]["id"],
                "lines": [{"orderLineId": found["lines"][0]["id"], "quantity": 1}]}  # fmt: skip
    body = await api.data(RETURN, {"input": returned}, **staff)
    assert body["returnCreate"]["userErrors"] == []
    rows = await messages(api)
    topics = [(r.topic, r.payload.get("event"), r.payload["reference"]) for r in rows]
    a, b = (f"OMNI-{p['order']['number']}" for p in (shipped, cancelled))
    assert topics == [
        ("order.push", None, a),
        ("order.push", None, b),
        ("order.fulfillment", "shipped", a),
        ("order.fulfillment", "cancelled", b),
        ("order.return", None, a),
    ]
    assert rows[2].payload["lines"] == [{"sku": "CO-BSL-0001-S-SND", "quantity": 1}]
    # The memory ERP takes orders only: the rest is recorded as skipped, never retried.
    assert await api.gateway.outbox.run_once() == 5
    assert (await api.gateway.outbox.stats()).backlog == 0


async def test_the_erps_state_comes_back_to_the_order(make_api, database_url):
    """Shipped in the ERP: the order ships (its stock leaves), subscribers hear it; cancelled
    in the ERP: the order is cancelled, its stock released; nothing is echoed back."""
    import asyncio

    from adapters.records import OrderState, PushedOrder

    api, data = await erp_gateway(make_api, database_url)
    shipped = await place(api, line(1, 1), key="a")
    cancelled = await place(api, line(2, 1, "PICKUP", SEATTLE), key="b")
    await api.gateway.outbox.run_once()
    a, b = (f"OMNI-{p['order']['number']}" for p in (shipped, cancelled))
    events = []

    async def listen():
        async for event in api.gateway.events.subscribe("order"):
            events.append(event)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    assert (await api.gateway.sweep()).erp_states_changed == 0  # confirmed, as when pushed
    data.orders[a] = PushedOrder(a, data.orders[a].external_id, OrderState.FULFILLED)
    data.orders[b] = PushedOrder(b, data.orders[b].external_id, OrderState.CANCELLED)
    assert (await api.gateway.sweep()).erp_states_changed == 2
    await asyncio.sleep(0)
    listener.cancel()
    staff = api.as_order_sync()
    first = (await api.data(ORDER, {"id": shipped["order"]["id"]}, **staff))["order"]
    assert [f["status"] for f in first["fulfillments"]] == ["SHIPPED"]
    assert first["statusHistory"][-1]["reason"] == "shipped in the ERP"
    second = (await api.data(ORDER, {"id": cancelled["order"]["id"]}, **staff))["order"]
    assert second["status"] == "CANCELLED"
    assert {(e.order_id, e.fulfillment_status) for e in events} >= {
        (int(shipped["order"]["number"]) - 1000, "SHIPPED"),
        (int(cancelled["order"]["number"]) - 1000, "CANCELLED"),
    }
    assert [r.topic for r in await messages(api)] == ["order.push", "order.push"]  # no echo
    assert (await api.gateway.sweep()).erp_states_changed == 0


async def test_goods_shipped_before_the_erp_heard_are_not_sold_again(make_api, database_url):
    """3 at the ERP; 2 ordered, pushed, shipped in the gateway; the ERP has not heard of the
    shipment yet and still counts 3 on hand: a sync must not make those 2 sellable again."""
    from adapters.ports.feeds import UpstreamLevel
    from tests.test_readmodel import erp_data

    data = erp_data()
    data.levels[1] = UpstreamLevel("ERP-SHELL-M", "ERP-DC", 3)
    upstream = connect_memory(data)
    roles = {"catalog": "memory", "inventory": "memory", "orders": "memory"}
    api = await make_api(database_url=database_url, upstreams={"memory": upstream}, **roles)
    await api.gateway.sync.run_once()
    query = '{ products(first: 1, query: "Harbor") { nodes { variants { id } } } }'
    variant = (await api.data(query))["products"]["nodes"][0]["variants"][0]["id"]
    first = await place(api, {"variantId": variant, "quantity": 2}, key="a")
    assert first["userErrors"] == []
    assert await api.gateway.outbox.run_once() == 1  # the ERP has the order
    staff = api.as_order_sync()
    [f] = (await api.data(ORDER, {"id": first["order"]["id"]}, **staff))["order"]["fulfillments"]
    moved = await api.data(FULFILL, {"id": f["id"], "status": "SHIPPED"}, **staff)
    assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
    await api.gateway.sync.run_once()  # the ERP still says 3
    refused = await place(api, {"variantId": variant, "quantity": 2}, key="b")
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert (await place(api, {"variantId": variant, "quantity": 1}, key="c"))["userErrors"] == []
