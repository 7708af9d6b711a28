"""Orders through the API: who sees them, legal moves only, cancelling, holds, till sales."""

import asyncio

import pytest

from resolvers import orders
from resolvers.pagination import PageArgs
from resolvers.principal import Principal, PrincipalKind
from tests.commerce import (
    BELLEVUE,
    FULFILLMENT_UPDATE,
    GIFT_CARD_ISSUE,
    KENT,
    ORDER,
    ORDER_CANCEL,
    PORTLAND,
    RENO,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    level,
    line,
    location_id,
    reservations_consistent,
    set_stock,
    variant_id,
)
from tests.conftest import Api

NODE = "query ($id: ID!) { node(id: $id) { id } }"


async def place(api: Api, *lines: dict, **headers: str) -> dict:
    cart = await create_cart(api, *lines, **headers)
    result = await checkout(api, cart["id"], **headers)
    assert result["userErrors"] == [], result["userErrors"]
    return result["order"]


async def move(api: Api, fulfillment: dict, status: str, staff: int) -> dict:
    body = await api.data(
        FULFILLMENT_UPDATE, {"id": fulfillment["id"], "status": status}, **api.as_staff(staff)
    )
    return body["fulfillmentUpdateStatus"]


def error_codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_an_order_is_seen_by_its_member_and_the_staff_fulfilling_it(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    order = await place(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    variables = {"id": order["id"]}
    for headers in (api.as_member("m1"), api.as_staff(SEATTLE), api.as_order_sync()):
        assert (await api.data(ORDER, variables, **headers))["order"]["id"] == order["id"]
    assert error_codes(await api.gql(ORDER, variables)) == ["UNAUTHENTICATED"]
    for headers in (api.as_member("m2"), api.as_staff(BELLEVUE), api.as_integration()):
        assert error_codes(await api.gql(ORDER, variables, **headers)) == ["FORBIDDEN"]
        assert (await api.data(NODE, variables, **headers))["node"] is None  # no side door
    assert (await api.data(NODE, variables, **api.as_staff(SEATTLE)))["node"] == variables
    unknown = await api.gql(ORDER, {"id": gid("Order", 999)}, **api.as_staff(SEATTLE))
    assert error_codes(unknown) == ["NOT_FOUND"]
    malformed = await api.gql(ORDER, {"id": gid("Cart", 1)}, **api.as_staff(SEATTLE))
    assert error_codes(malformed) == ["BAD_USER_INPUT"]


async def test_only_legal_moves_are_made(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    order = await place(api, line(1, 1, "PICKUP", SEATTLE), line(2))
    pickup = next(f for f in order["fulfillments"] if f["mode"] == "PICKUP")
    ship = next(f for f in order["fulfillments"] if f["mode"] == "SHIP")
    warehouse = RENO if ship["location"]["id"] == location_id(RENO) else KENT
    illegal = [
        (pickup, "PICKED_UP", SEATTLE),  # not ready yet
        (pickup, "SHIPPED", SEATTLE),  # a pickup is not shipped
        (pickup, "EXPIRED", SEATTLE),  # only the system lets holds expire
        (ship, "READY_FOR_PICKUP", warehouse),
        (ship, "DELIVERED", warehouse),  # not shipped yet
        (pickup, "SOLD", SEATTLE),  # reserve-in-store only
    ]
    for fulfillment, status, staff in illegal:
        payload = await move(api, fulfillment, status, staff)
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_TRANSITION"], status
    assert (await level(api, 1, SEATTLE))["reserved"] == 1

    await move(api, pickup, "READY_FOR_PICKUP", SEATTLE)
    done = await move(api, pickup, "PICKED_UP", SEATTLE)
    assert done["fulfillment"]["status"] == "PICKED_UP"
    again = await move(api, pickup, "PICKED_UP", SEATTLE)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    assert await level(api, 1, SEATTLE) == {"onHand": 1, "reserved": 0, "available": 1}


async def test_who_may_move_a_fulfillment(api: Api):
    order = await place(api, line(1, 1, "SHIP_FROM_STORE", SEATTLE))
    variables = {"id": order["fulfillments"][0]["id"], "status": "SHIPPED"}
    assert error_codes(await api.gql(FULFILLMENT_UPDATE, variables)) == ["UNAUTHENTICATED"]
    for headers in (api.as_member(), api.as_staff(PORTLAND)):
        assert error_codes(await api.gql(FULFILLMENT_UPDATE, variables, **headers)) == ["FORBIDDEN"]
    missing = {"id": gid("OrderFulfillment", 999), "status": "SHIPPED"}
    body = await api.data(FULFILLMENT_UPDATE, missing, **api.as_staff(PORTLAND))
    assert body["fulfillmentUpdateStatus"]["userErrors"][0]["code"] == "FULFILLMENT_NOT_FOUND"
    bad = await api.gql(FULFILLMENT_UPDATE, {"id": "x", "status": "SHIPPED"}, **api.as_staff(1))
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_cancelling_releases_the_stock_and_refunds(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    order = await place(api, line(1, 2, "PICKUP", SEATTLE), line(2), **api.as_member("m1"))
    assert (await level(api, 1, SEATTLE))["reserved"] == 2
    variables = {"id": order["id"], "reason": "changed my mind"}
    assert error_codes(await api.gql(ORDER_CANCEL, variables, **api.as_member("m2"))) == [
        "FORBIDDEN"
    ]
    body = await api.data(ORDER_CANCEL, variables, **api.as_member("m1"))
    cancelled = body["orderCancel"]["order"]
    assert cancelled["status"] == "CANCELLED"
    assert {f["status"] for f in cancelled["fulfillments"]} == {"CANCELLED"}
    assert cancelled["statusHistory"][-1]["reason"] == "changed my mind"
    assert await level(api, 1, SEATTLE) == {"onHand": 3, "reserved": 0, "available": 3}
    [payment] = cancelled["payments"]
    assert payment["refunded"] == payment["amount"]
    again = await api.data(ORDER_CANCEL, variables, **api.as_member("m1"))
    assert [e["code"] for e in again["orderCancel"]["userErrors"]] == ["INVALID_TRANSITION"]
    await reservations_consistent(api)


async def test_what_has_left_cannot_be_cancelled_but_a_fulfillment_can(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    await set_stock(api, 2, PORTLAND, 3)
    order = await place(api, line(1, 1, "PICKUP", SEATTLE), line(2, 1, "SHIP_FROM_STORE", PORTLAND))
    pickup, shipped = order["fulfillments"]
    await move(api, shipped, "SHIPPED", PORTLAND)
    body = await api.data(ORDER_CANCEL, {"id": order["id"]}, **api.as_staff(SEATTLE))
    assert [e["code"] for e in body["orderCancel"]["userErrors"]] == ["INVALID_TRANSITION"]
    # The store cannot find the item: staff cancel their part; that part is refunded.
    cancelled = await move(api, pickup, "CANCELLED", SEATTLE)
    assert cancelled["order"]["status"] == "SHIPPED"
    price = next(ln for ln in order["lines"] if ln["fulfillment"]["id"] == pickup["id"])
    assert cancelled["order"]["payments"][0]["refunded"] == price["unitPrice"]
    assert await level(api, 1, SEATTLE) == {"onHand": 3, "reserved": 0, "available": 3}


async def test_a_reserve_in_store_hold_is_bought_released_or_runs_out(api: Api):
    await set_stock(api, 1, SEATTLE, 5)
    sold, released, lapsed, read = [
        await place(api, line(1, 1, "RESERVE", SEATTLE)) for _ in range(4)
    ]
    assert await level(api, 1, SEATTLE) == {"onHand": 5, "reserved": 4, "available": 1}

    bought = await move(api, sold["fulfillments"][0], "SOLD", SEATTLE)
    assert bought["order"]["status"] == "FULFILLED"
    let_go = await move(api, released["fulfillments"][0], "RELEASED", SEATTLE)
    assert let_go["order"]["status"] == "CANCELLED"
    assert await level(api, 1, SEATTLE) == {"onHand": 4, "reserved": 2, "available": 2}

    api.advance(hours=49)
    seen = (await api.data(ORDER, {"id": read["id"]}, **api.as_staff(SEATTLE)))["order"]
    assert (seen["status"], seen["fulfillments"][0]["status"]) == ("CANCELLED", "EXPIRED")
    assert (await api.gateway.sweep()).reservations_expired == 1  # the last one
    after = (await api.data(ORDER, {"id": lapsed["id"]}, **api.as_staff(SEATTLE)))["order"]
    assert after["fulfillments"][0]["status"] == "EXPIRED"
    assert after["statusHistory"][-1]["reason"] == "the hold ran out"
    assert await level(api, 1, SEATTLE) == {"onHand": 4, "reserved": 0, "available": 4}
    await reservations_consistent(api)


def sale(location: int, *lines: tuple[int, int], **extra: object) -> dict:
    items = [{"variantId": variant_id(v), "quantity": q} for v, q in lines]
    return {"input": {"locationId": location_id(location), "lines": items, **extra}}


async def test_a_till_sale_takes_the_stores_stock_and_joins_the_members_history(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    web = await place(api, line(2), **api.as_member("m1"))
    body = await api.data(
        STORE_SALE,
        sale(SEATTLE, (1, 2), memberId=gid("Member", "m1"), idempotencyKey="till-7-0001"),
        **api.as_staff(SEATTLE),
    )
    order = body["storeSaleRecord"]["order"]
    assert (order["channel"], order["status"]) == ("STORE", "FULFILLED")
    assert order["fulfillments"][0]["mode"] == "IN_STORE"
    assert await level(api, 1, SEATTLE) == {"onHand": 1, "reserved": 0, "available": 1}
    # The till retries (its network dropped): recorded once.
    retry = await api.data(
        STORE_SALE,
        sale(SEATTLE, (1, 2), memberId=gid("Member", "m1"), idempotencyKey="till-7-0001"),
        **api.as_staff(SEATTLE),
    )
    assert retry["storeSaleRecord"]["order"]["id"] == order["id"]
    assert (await level(api, 1, SEATTLE))["onHand"] == 1
    reused = await api.data(
        STORE_SALE, sale(SEATTLE, (1, 1), idempotencyKey="till-7-0001"), **api.as_staff(SEATTLE)
    )
    assert [e["code"] for e in reused["storeSaleRecord"]["userErrors"]] == [
        "IDEMPOTENCY_KEY_REUSED"
    ]
    # The member sees it, and their history has both channels, newest first.
    assert (await api.data(ORDER, {"id": order["id"]}, **api.as_member("m1")))["order"]
    principal = Principal(PrincipalKind.MEMBER, subject="member:m1", member_id="m1")
    history = await orders.member_orders(
        api.gateway.context(principal, "test"), "m1", PageArgs(first=10)
    )
    assert [gid("Order", o.id) for o in history.nodes] == [order["id"], web["id"]]


async def test_till_sale_refusals(api: Api):
    await set_stock(api, 1, SEATTLE, 1)
    staff = api.as_staff(SEATTLE)
    short = await api.data(STORE_SALE, sale(SEATTLE, (1, 2)), **staff)
    assert [e["code"] for e in short["storeSaleRecord"]["userErrors"]] == ["INSUFFICIENT_STOCK"]
    bad = await api.data(STORE_SALE, sale(SEATTLE, (999999, 1), (1, 0)), **staff)
    assert [(e["code"], e["field"]) for e in bad["storeSaleRecord"]["userErrors"]] == [
        ("VARIANT_NOT_FOUND", ["input", "lines", "0", "variantId"]),
        ("INVALID", ["input", "lines", "1", "quantity"]),
    ]
    assert error_codes(
        await api.gql(STORE_SALE, sale(SEATTLE, (1, 1)), **api.as_staff(PORTLAND))
    ) == ["FORBIDDEN"]
    assert error_codes(await api.gql(STORE_SALE, sale(SEATTLE, (1, 1)))) == ["UNAUTHENTICATED"]
    warehouse = await api.data(STORE_SALE, sale(RENO, (1, 1)), **api.as_staff(RENO))
    assert [e["code"] for e in warehouse["storeSaleRecord"]["userErrors"]] == ["INVALID"]
    assert (await level(api, 1, SEATTLE))["onHand"] == 1


async def test_a_till_sale_can_be_paid_with_a_gift_card(api: Api):
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": "1000.00"}, **api.as_staff(SEATTLE))
    code = issued["giftCardIssue"]["giftCard"]["code"]
    payment = {"method": "GIFT_CARD", "giftCardCode": code}
    body = await api.data(
        STORE_SALE, sale(SEATTLE, (1, 1), payment=payment), **api.as_staff(SEATTLE)
    )
    order = body["storeSaleRecord"]["order"]
    assert order["payments"][0]["method"] == "GIFT_CARD"
    paid = int(order["total"]["amount"].replace(".", ""))
    assert await api.store.gift_cards.balance(code) == 100000 - paid


@pytest.mark.parametrize("status", ["READY_FOR_PICKUP", "PICKED_UP"])
async def test_status_changes_are_published_for_the_stores_staff(api: Api, status: str):
    await set_stock(api, 1, BELLEVUE, 2)
    order = await place(api, line(1, 1, "PICKUP", BELLEVUE))
    pickup = order["fulfillments"][0]
    if status == "PICKED_UP":
        await move(api, pickup, "READY_FOR_PICKUP", BELLEVUE)
    received = []

    async def listen():
        async for event in api.gateway.events.subscribe("order"):
            received.append(event)
            return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await move(api, pickup, status, BELLEVUE)
    await asyncio.wait_for(listener, 5)
    event = received[0]
    assert (event.fulfillment_status, event.location_ids) == (status, (BELLEVUE,))
