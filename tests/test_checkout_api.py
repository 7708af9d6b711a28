"""checkoutComplete: payments, declines, idempotency, and every way it can refuse."""

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from adapters.store.tables import carts, idempotency_keys, orders
from tests.commerce import (
    BERKELEY,
    CART,
    CHECKOUT,
    DECLINED,
    GIFT_CARD_ISSUE,
    KENT,
    LINES_ADD,
    LINES_REMOVE,
    ORDER,
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
    variant_id,
)
from tests.conftest import Api


async def count(api: Api, table: sa.Table) -> int:
    async with api.store.engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(table))


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_a_declined_payment_leaves_no_order_and_no_allocation(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    await set_stock(api, 2, PORTLAND, 2)
    cart = await create_cart(
        api, line(1, 1, "PICKUP", SEATTLE), line(2, 1, "SHIP_FROM_STORE", PORTLAND)
    )

    declined = await checkout(api, cart["id"], key="k", payment=DECLINED)
    assert declined["order"] is None
    assert codes(declined) == ["PAYMENT_DECLINED"]
    assert declined["userErrors"][0]["field"] == ["payment"]
    assert await count(api, orders) == 0
    # The pickup line holds its unit again (the shopper may try another card); the
    # ship-from-store unit was never the cart's and is free again.
    assert await level(api, 1, SEATTLE) == {"onHand": 2, "reserved": 1, "available": 1}
    assert await level(api, 2, PORTLAND) == {"onHand": 2, "reserved": 0, "available": 2}
    assert await reservation_count(api) == 1
    again = (await api.data(CART, {"id": cart["id"]}))["cart"]
    assert again["status"] == "OPEN" and again["lines"][0]["held"] == 1
    await reservations_consistent(api)

    # The same key answers the same; a new key with a good card goes through.
    assert codes(await checkout(api, cart["id"], key="k", payment=DECLINED)) == ["PAYMENT_DECLINED"]
    ok = await checkout(api, cart["id"], key="k2", payment=VISA)
    assert ok["userErrors"] == [] and ok["order"]["status"] == "ALLOCATED"
    assert len(api.gateway.payments.cards.charges) == 1


async def test_the_decline_switch_declines_every_card(api: Api):
    api.gateway.payments.cards.decline_all = True
    cart = await create_cart(api, line(1))
    assert codes(await checkout(api, cart["id"])) == ["PAYMENT_DECLINED"]
    assert await count(api, orders) == 0


async def test_an_unreachable_provider_is_a_protocol_error_and_the_key_can_be_retried(api: Api):
    cart = await create_cart(api, line(1, 1, "SHIP_FROM_STORE", SEATTLE))
    before = await level(api, 1, SEATTLE)
    variables = {
        "cartId": cart["id"],
        "payment": {"method": "CARD", "cardToken": "tok_unavailable"},
        "key": "k",
    }
    assert await api.error_codes(CHECKOUT, variables) == ["UPSTREAM_UNAVAILABLE"]
    assert await level(api, 1, SEATTLE) == before
    assert await count(api, orders) == await count(api, idempotency_keys) == 0
    assert (await checkout(api, cart["id"], key="k"))["userErrors"] == []


async def test_a_key_is_tied_to_its_payment(api: Api):
    cart = await create_cart(api, line(1))
    await checkout(api, cart["id"], key="k")
    other = await checkout(
        api, cart["id"], key="k", payment={"method": "CARD", "cardToken": "tok_amex"}
    )
    assert codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert codes(await checkout(api, cart["id"], key="new")) == ["CART_COMPLETED"]


async def test_checkout_refusals(api: Api):
    empty = await create_cart(api)
    assert codes(await checkout(api, empty["id"])) == ["EMPTY_CART"]
    assert codes(await checkout(api, gid("Cart", "Z" * 43))) == ["CART_NOT_FOUND"]
    cart = await create_cart(api, line(1))
    for key in ("", "k" * 256):
        body = await api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": key})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    no_token = await checkout(api, cart["id"], payment={"method": "CARD"})
    assert [(e["code"], e["field"]) for e in no_token["userErrors"]] == [
        ("INVALID", ["payment", "cardToken"])
    ]
    assert codes(await checkout(api, cart["id"], payment={"method": "GIFT_CARD"})) == ["INVALID"]
    api.advance(days=31)
    assert codes(await checkout(api, cart["id"], key="late")) == ["CART_NOT_FOUND"]


async def test_a_line_nobody_can_supply_is_insufficient_stock_with_its_index(api: Api):
    for location in (SEATTLE, PORTLAND, BERKELEY, 7, 11, RENO, KENT):  # every one that ships
        await set_stock(api, 3, location, 0)
    cart = await create_cart(api, line(1), line(3, 2))
    result = await checkout(api, cart["id"])
    [error] = result["userErrors"]
    assert (error["code"], error["field"]) == ("INSUFFICIENT_STOCK", ["cartId", "lines", "1"])
    assert "0 of" in error["message"]
    assert await reservation_count(api) == 0
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["status"] == "OPEN"


async def test_ship_lines_go_to_the_warehouse_with_the_stock(api: Api):
    await set_stock(api, 3, RENO, 1)
    await set_stock(api, 3, KENT, 5)
    cart = await create_cart(api, line(3, 2))
    order = (await checkout(api, cart["id"]))["order"]
    assert order["fulfillments"][0]["location"]["id"] == gid("Location", KENT)


async def test_a_hold_on_a_recounted_shelf_is_not_sold_twice(api: Api):
    await set_stock(api, 1, SEATTLE, 1)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    await set_stock(api, 1, SEATTLE, 0)  # the count finds the held unit gone
    assert codes(await checkout(api, cart["id"])) == ["INSUFFICIENT_STOCK"]
    await reservations_consistent(api)


async def test_an_expired_hold_does_not_block_another_checkout(api: Api):
    await set_stock(api, 1, SEATTLE, 1)
    holder = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    buyer = await create_cart(api, line(1, 1, "SHIP_FROM_STORE", SEATTLE))
    assert codes(await checkout(api, buyer["id"])) == ["INSUFFICIENT_STOCK"]
    api.advance(minutes=16)
    assert (await checkout(api, buyer["id"], key="again"))["userErrors"] == []
    assert codes(await checkout(api, holder["id"])) == ["INSUFFICIENT_STOCK"]
    await reservations_consistent(api)


async def test_pay_at_store_is_for_orders_collected_in_store(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    at_store = {"method": "PAY_AT_STORE"}
    mixed = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), line(2))
    assert codes(await checkout(api, mixed["id"], payment=at_store)) == [
        "PAYMENT_METHOD_NOT_ALLOWED"
    ]
    await api.data(LINES_REMOVE, {"cartId": mixed["id"], "lineIds": [mixed["lines"][1]["id"]]})
    order = (await checkout(api, mixed["id"], key="k2", payment=at_store))["order"]
    [payment] = order["payments"]
    assert (payment["method"], payment["status"]) == ("PAY_AT_STORE", "PENDING")
    assert api.gateway.payments.cards.charges == []


async def test_a_reserve_in_store_line_is_held_48_hours_and_not_charged(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    cart = await create_cart(api, line(1, 1, "RESERVE", SEATTLE))
    order = (await checkout(api, cart["id"]))["order"]
    [hold] = order["fulfillments"]
    assert (hold["mode"], hold["status"], order["status"]) == ("RESERVE", "HELD", "HELD")
    ends = datetime.fromisoformat(hold["holdExpiresAt"])
    assert timedelta(hours=47) < ends - datetime.now(UTC) <= timedelta(hours=48)
    assert order["payments"] == [] and api.gateway.payments.cards.charges == []
    assert await level(api, 1, SEATTLE) == {"onHand": 2, "reserved": 1, "available": 1}


async def test_gift_cards_pay_and_decline(api: Api):
    anonymous = await api.gql(GIFT_CARD_ISSUE, {"amount": "100.00"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    member = await api.gql(GIFT_CARD_ISSUE, {"amount": "100.00"}, **api.as_member())
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for bad in ("0", "-5", "1.234", "1000000.00"):
        body = await api.data(GIFT_CARD_ISSUE, {"amount": bad}, **api.as_staff(SEATTLE))
        assert codes(body["giftCardIssue"]) == ["INVALID"], bad
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": "100.00"}, **api.as_staff(SEATTLE))
    card = issued["giftCardIssue"]["giftCard"]
    assert card["balance"] == {"amount": "100.00"} and len(card["code"]) == 19

    cart = await create_cart(api, line(1, 1))
    price = cart["lines"][0]["unitPrice"]["amount"]
    paid = await checkout(
        api, cart["id"], payment={"method": "GIFT_CARD", "giftCardCode": card["code"]}
    )
    assert paid["order"]["payments"][0]["method"] == "GIFT_CARD"
    left = await api.store.gift_cards.balance(card["code"])
    assert left == 10000 - int(price.replace(".", ""))

    big = await create_cart(api, line(1, 3))
    short = await checkout(
        api, big["id"], payment={"method": "GIFT_CARD", "giftCardCode": card["code"]}
    )
    assert codes(short) == ["PAYMENT_DECLINED"]
    unknown = await checkout(
        api,
        big["id"],
        key="k2",
        payment={"method": "GIFT_CARD", "giftCardCode": "NOPE-NOPE-NOPE-NOPE"},
    )
    assert codes(unknown) == ["PAYMENT_DECLINED"]
    assert await api.store.gift_cards.balance(card["code"]) == left


async def test_a_members_order_is_theirs(api: Api):
    cart = await create_cart(api, line(1), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], **api.as_member("m1")))["order"]
    assert (await api.data(ORDER, {"id": order["id"]}, **api.as_member("m1")))["order"][
        "id"
    ] == order["id"]
    body = await api.gql(ORDER, {"id": order["id"]}, **api.as_member("m2"))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_checkout_publishes_stock_cart_and_order_events(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    cart = await create_cart(api, line(1, 1, "SHIP_FROM_STORE", SEATTLE))
    received: dict[str, list] = {"stock": [], "cart": [], "order": []}

    async def listen(topic: str):
        async for event in api.gateway.events.subscribe(topic):
            received[topic].append(event)
            return

    listeners = [asyncio.create_task(listen(t)) for t in received]
    await asyncio.sleep(0)
    order = (await checkout(api, cart["id"]))["order"]
    await asyncio.wait_for(asyncio.gather(*listeners), 5)
    assert received["stock"][0].reserved == 1 and received["stock"][0].reason == "ALLOCATION"
    assert received["cart"][0].reason == "COMPLETED"
    event = received["order"][0]
    assert (event.status, event.location_ids) == ("ALLOCATED", (SEATTLE,))
    assert gid("Order", event.order_id) == order["id"]


async def test_a_checkout_left_before_charging_is_undone_by_the_sweeper(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    cards = api.gateway.payments.cards

    class Died:
        async def charge(self, request):
            raise RuntimeError("the process died here")

    api.gateway.payments.cards = Died()  # allocated, then gone before the provider heard of it
    body = await api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": "k"})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    api.gateway.payments.cards = cards
    assert (await level(api, 1, SEATTLE))["reserved"] == 1
    async with api.store.engine.connect() as conn:
        assert await conn.scalar(sa.select(carts.c.status)) == "CHECKING_OUT"

    api.advance(minutes=11)
    report = await api.gateway.sweep()
    assert (report.checkouts_undone, report.checkouts_completed) == (1, 0)
    assert api.gateway.payments.cards.charges == []
    assert await count(api, orders) == 0
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["status"] == "OPEN"
    await reservations_consistent(api)
    # The app retries with the old key: told to start again; a new key goes through.
    assert codes(await checkout(api, cart["id"], key="k")) == ["CHECKOUT_EXPIRED"]
    assert (await checkout(api, cart["id"], key="k2"))["userErrors"] == []


async def test_a_checkout_left_after_charging_is_completed_by_the_sweeper(api: Api):
    """The customer paid: the order stands with that charge (it used to be voided and the
    order dropped, leaving the customer without the goods they had paid for until the void)."""
    await set_stock(api, 1, SEATTLE, 2)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    confirm = api.store.orders.confirm_order

    async def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    api.store.orders.confirm_order = crash  # charged, then gone before confirming
    body = await api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": "k"})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    api.store.orders.confirm_order = confirm

    api.advance(minutes=11)
    report = await api.gateway.sweep()
    assert (report.checkouts_undone, report.checkouts_completed) == (0, 1)
    [charged] = api.gateway.payments.cards.charges
    assert not charged.voided
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["status"] == "COMPLETED"
    assert (await level(api, 1, SEATTLE))["reserved"] == 1  # the order's now
    await reservations_consistent(api)
    again = await checkout(api, cart["id"], key="k")
    assert again["order"]["status"] == "ALLOCATED"
    assert again["order"]["payments"][0]["status"] == "CAPTURED"
    assert (await api.gateway.sweep()).checkouts_completed == 0  # done once
    assert len(api.gateway.payments.cards.charges) == 1


async def test_a_deadlock_victim_is_run_again(api: Api):
    from sqlalchemy.exc import DBAPIError

    class Deadlock(Exception):
        sqlstate = "40P01"

    calls = []

    async def work(conn):
        calls.append(conn)
        if len(calls) == 1:
            raise DBAPIError("UPDATE ...", {}, Deadlock())
        return "done"

    assert await api.store.write(work) == "done" and len(calls) == 2


async def test_a_retry_resumes_a_checkout_whose_first_call_died(api: Api):
    api.gateway.policy = api.gateway.policy.__class__(checkout_wait=timedelta(0))
    cart = await create_cart(api, line(1))
    confirm = api.store.orders.confirm_order

    async def crash(*args, **kwargs):
        raise RuntimeError("the process died here")

    api.store.orders.confirm_order = crash
    await api.gql(CHECKOUT, {"cartId": cart["id"], "payment": VISA, "key": "k"})
    api.store.orders.confirm_order = confirm
    resumed = await checkout(api, cart["id"], key="k")
    assert resumed["userErrors"] == [] and resumed["order"]["status"] == "ALLOCATED"
    assert len(api.gateway.payments.cards.charges) == 1  # charged once, by the provider's key


async def test_a_cart_changed_during_checkout_is_not_half_ordered(api: Api):
    cart = await create_cart(api, line(1))
    place = api.store.orders.place_order

    async def meanwhile(draft, now):
        # The shopper's tablet adds a line while the phone is checking out.
        await api.data(LINES_ADD, {"cartId": cart["id"], "lines": [line(2)]})
        return await place(draft, now)

    api.store.orders.place_order = meanwhile
    assert codes(await checkout(api, cart["id"])) == ["CART_CHANGED"]
    api.store.orders.place_order = place
    order = (await checkout(api, cart["id"], key="again"))["order"]
    assert [ln["variant"]["id"] for ln in order["lines"]] == [variant_id(1), variant_id(2)]
