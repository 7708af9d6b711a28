"""Split tender through the API: loyalty points (and a gift card) pay part of a checkout and a
card the rest; a decline undoes the points; a retry takes nothing twice; a return goes back
card first, points last (resolvers/refunds.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.store.tables import loyalty_entries, orders, payments
from tests.commerce import (
    CART,
    CHECKOUT,
    DECLINED,
    FULFILLMENT_UPDATE,
    GIFT_CARD_ISSUE,
    LEVEL,
    ORDER_CANCEL,
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    VISA,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import make_settings, serving

LOYALTY = """{ me { loyalty { points history(first: 20) { edges { node { kind points } } } } } }"""
ALL_POINTS = 1_000_000_000  # more than anyone has: capped at the balance and what is due


@pytest.fixture
async def api(database_url: str) -> Any:
    # 100 points per currency unit: a point per cent, and a point pays a cent.
    settings = make_settings(database_url, loyalty_points_per_unit=100)
    async with serving(settings) as api:
        yield api


def cents(money: dict) -> int:
    return int(Decimal(money["amount"]) * 100)


def tenders(order: dict) -> list[tuple[str, int, int]]:
    return [(p["method"], cents(p["amount"]), cents(p["refunded"])) for p in order["payments"]]


async def points(api: Any, member: str = "m1") -> int:
    return (await api.data(LOYALTY, **api.as_member(member)))["me"]["loyalty"]["points"]


async def ledger(api: Any, member: str = "m1") -> list[tuple[str, int]]:
    body = await api.data(LOYALTY, **api.as_member(member))
    return [(e["node"]["kind"], e["node"]["points"]) for e in body["me"]["loyalty"]["history"]["edges"]]


async def earn_in_store(api: Any, units: int, key: str) -> int:
    """A till sale to m1 at Seattle: the points it earned (a point per cent paid)."""
    variables = {"input": {
        "locationId": location_id(SEATTLE), "idempotencyKey": key, "memberId": gid("Member", "m1"),
        "lines": [{"variantId": variant_id(1), "quantity": units}],
    }}  # fmt: skip
    before = await points(api)
    payload = (await api.data(STORE_SALE, variables, **api.as_staff(SEATTLE)))["storeSaleRecord"]
    assert payload["userErrors"] == []
    return await points(api) - before


async def level(api: Any) -> dict:
    body = await api.data(LEVEL, {"variant": variant_id(1), "location": location_id(SEATTLE)})
    return body["node"]["inventory"][0]


async def count(api: Any, table: sa.Table) -> int:
    async with api.store.engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(table))


def split(card: dict, points: int = ALL_POINTS) -> dict:
    return {**card, "loyaltyPoints": points}


async def test_points_from_a_store_sale_pay_part_of_a_web_checkout_and_a_card_the_rest(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    assert unit > 0
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    paid = await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1"))
    assert paid["userErrors"] == []
    order = paid["order"]
    assert cents(order["total"]) == 2 * unit
    # Points first, capped at the balance; the card is charged only the remainder.
    assert tenders(order) == [("LOYALTY_POINTS", unit, 0), ("CARD", unit, 0)]
    [charge] = api.gateway.payments.cards.charges
    assert charge.amount_minor == unit
    assert await points(api) == 0
    assert (await ledger(api))[0] == ("SPEND", -unit)
    # Asking for fewer points than the balance spends just those.
    await earn_in_store(api, 2, "till-2")
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    paid = await checkout(api, cart["id"], key="k2", payment=split(VISA, 150), **api.as_member("m1"))
    assert tenders(paid["order"]) == [("LOYALTY_POINTS", 150, 0), ("CARD", unit - 150, 0)]
    assert await points(api) == 2 * unit - 150
    # Points capped at what is due: the card is not charged at all.
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    charges = len(api.gateway.payments.cards.charges)
    paid = await checkout(api, cart["id"], key="k3", payment=split(VISA), **api.as_member("m1"))
    assert tenders(paid["order"]) == [("LOYALTY_POINTS", unit, 0)]
    assert len(api.gateway.payments.cards.charges) == charges
    assert await points(api) == unit - 150


async def test_points_a_gift_card_and_a_card_pay_one_order(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": "1.00"}, **api.as_staff(SEATTLE))
    code = issued["giftCardIssue"]["giftCard"]["code"]
    cart = await create_cart(api, line(1, 3, "PICKUP", SEATTLE), **api.as_member("m1"))
    payment = {**split(VISA), "giftCardCode": code}
    paid = await checkout(api, cart["id"], payment=payment, **api.as_member("m1"))
    assert paid["userErrors"] == []
    assert tenders(paid["order"]) == [
        ("LOYALTY_POINTS", unit, 0), ("GIFT_CARD", 100, 0), ("CARD", 2 * unit - 100, 0),
    ]  # fmt: skip
    # A gift card nobody issued declines before anything is taken.
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    bad = await checkout(api, cart["id"], key="k2", payment={**VISA, "giftCardCode": "NOPE"},
                         **api.as_member("m1"))  # fmt: skip
    assert [e["code"] for e in bad["userErrors"]] == ["PAYMENT_DECLINED"]
    assert len(api.gateway.payments.cards.charges) == 1


async def test_a_declined_card_gives_the_points_back_and_writes_no_order(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    orders_before = await count(api, orders)
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    before = await level(api)
    declined = await checkout(api, cart["id"], payment=split(DECLINED), **api.as_member("m1"))
    assert [e["code"] for e in declined["userErrors"]] == ["PAYMENT_DECLINED"]
    assert declined["order"] is None
    # Balance intact: the spend and its reversal are both in the ledger, keyed once each.
    assert await points(api) == unit
    assert (await ledger(api))[:2] == [("REFUND", unit), ("SPEND", -unit)]
    # Nothing half-written: no order, no payment, no allocation, the cart open again.
    assert await count(api, orders) == orders_before
    assert await count(api, payments) == 1  # the till sale's
    assert await level(api) == before  # the cart's holds, as they were before checkout
    assert (await api.data(CART, {"id": cart["id"]}, **api.as_member("m1")))["cart"]["status"] == "OPEN"
    # The same key again: the same answer, nothing spent or reversed again.
    entries = await count(api, loyalty_entries)
    again = await checkout(api, cart["id"], payment=split(DECLINED), **api.as_member("m1"))
    assert [e["code"] for e in again["userErrors"]] == ["PAYMENT_DECLINED"]
    assert await count(api, loyalty_entries) == entries
    # Another card with a new key goes through, with the same points.
    paid = await checkout(api, cart["id"], key="k2", payment=split(VISA), **api.as_member("m1"))
    assert tenders(paid["order"]) == [("LOYALTY_POINTS", unit, 0), ("CARD", unit, 0)]


async def test_a_retry_with_the_same_key_spends_and_charges_nothing_twice(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 2, "till-1") // 2
    cart = await create_cart(api, line(1, 3, "PICKUP", SEATTLE), **api.as_member("m1"))
    first = await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1"))
    entries = await count(api, loyalty_entries)
    again = await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1"))
    assert again["order"]["id"] == first["order"]["id"]
    assert tenders(again["order"]) == [("LOYALTY_POINTS", 2 * unit, 0), ("CARD", unit, 0)]
    assert len(api.gateway.payments.cards.charges) == 1
    assert await count(api, loyalty_entries) == entries
    assert await points(api) == 0
    # The same key with other points is another request: refused.
    other = await checkout(api, cart["id"], payment=split(VISA, 5), **api.as_member("m1"))
    assert [e["code"] for e in other["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_retry_resumes_a_split_checkout_whose_first_call_died(api: Any):
    api.gateway.policy = dataclasses.replace(api.gateway.policy, checkout_wait=timedelta(0))
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    confirm = api.store.orders.confirm_order

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    api.store.orders.confirm_order = crash  # points spent, card charged, then gone
    variables = {"cartId": cart["id"], "payment": split(VISA), "key": "key-1"}
    await api.gql(CHECKOUT, variables, **api.as_member("m1"))
    api.store.orders.confirm_order = confirm
    assert await points(api) == 0
    resumed = await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1"))
    assert resumed["userErrors"] == []
    # The same split as planned the first time, though the points are already gone.
    assert tenders(resumed["order"]) == [("LOYALTY_POINTS", unit, 0), ("CARD", unit, 0)]
    assert len(api.gateway.payments.cards.charges) == 1
    assert await points(api) == 0


async def test_the_sweeper_voids_every_tender_of_a_split_checkout_left_charging(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    confirm, api.store.orders.confirm_order = api.store.orders.confirm_order, crash
    variables = {"cartId": cart["id"], "payment": split(VISA), "key": "key-1"}
    await api.gql(CHECKOUT, variables, **api.as_member("m1"))
    api.store.orders.confirm_order = confirm
    api.advance(minutes=11)
    assert (await api.gateway.sweep()).checkouts_undone == 1
    assert api.gateway.payments.cards.charges[0].voided
    assert await points(api) == unit


async def hand_over(api: Any, order: dict) -> None:
    [fulfillment] = order["fulfillments"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        body = await api.data(
            FULFILLMENT_UPDATE, {"id": fulfillment["id"], "status": status}, **api.as_staff(SEATTLE)
        )
        assert body["fulfillmentUpdateStatus"]["userErrors"] == []


async def give_back(api: Any, order: dict, quantity: int) -> dict:
    returned = [{"orderLineId": order["lines"][0]["id"], "quantity": quantity}]
    variables = {"input": {"orderId": order["id"], "locationId": location_id(SEATTLE), "lines": returned}}
    payload = (await api.data(RETURN_CREATE, variables, **api.as_staff(SEATTLE)))["returnCreate"]
    assert payload["userErrors"] == []
    return payload


async def test_a_return_after_split_tender_refunds_the_card_first_then_the_points(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1")))["order"]
    await hand_over(api, order)
    assert await points(api) == unit  # picked up: the card's part earned points
    first = await give_back(api, order, 1)
    assert first["return"]["refundStatus"] == "REFUNDED"
    assert tenders(first["order"]) == [("LOYALTY_POINTS", unit, 0), ("CARD", unit, unit)]
    assert api.gateway.payments.cards.refunds == [(api.gateway.payments.cards.charges[0].reference, unit)]
    assert await points(api) == 0  # the money came back: what it earned goes
    second = await give_back(api, order, 1)
    assert tenders(second["order"]) == [("LOYALTY_POINTS", unit, unit), ("CARD", unit, unit)]
    assert len(api.gateway.payments.cards.refunds) == 1
    assert await points(api) == unit  # the points paid come back as a ledger entry
    assert ("REFUND", unit) in await ledger(api)


async def test_cancelling_a_split_order_refunds_every_tender(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    unit = await earn_in_store(api, 1, "till-1")
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], payment=split(VISA), **api.as_member("m1")))["order"]
    body = await api.data(ORDER_CANCEL, {"id": order["id"]}, **api.as_member("m1"))
    assert body["orderCancel"]["userErrors"] == []
    assert tenders(body["orderCancel"]["order"]) == [("LOYALTY_POINTS", unit, unit), ("CARD", unit, unit)]
    assert await points(api) == unit


async def test_points_next_to_a_card_are_for_the_signed_in_member_only(api: Any):
    await set_stock(api, 1, SEATTLE, 10)
    guest = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    refused = await checkout(api, guest["id"], payment=split(VISA))
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["payment", "loyaltyPoints"], "PAYMENT_METHOD_NOT_ALLOWED")
    ]
    negative = await checkout(api, guest["id"], key="k2", payment=split(VISA, -1))
    assert [e["code"] for e in negative["userErrors"]] == ["INVALID"]
    # No points at all: the card pays everything, and the order has one payment.
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m2"))
    paid = await checkout(api, cart["id"], key="k3", payment=split(VISA), **api.as_member("m2"))
    assert [p[0] for p in tenders(paid["order"])] == ["CARD"]
