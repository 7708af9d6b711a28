"""Carts through the API: secret ids, lines, validation, holds and their expiry."""

import asyncio
import base64
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from adapters.store.tables import carts, variants
from gateway.app import create_app
from resolvers.events import CatalogChanged
from tests.commerce import (
    BELLEVUE,
    BERKELEY,
    CART,
    CART_CREATE,
    LINES_ADD,
    LINES_REMOVE,
    LINES_UPDATE,
    RENO,
    SEATTLE,
    create_cart,
    gid,
    level,
    line,
    location_id,
    reservations_consistent,
    set_stock,
    variant_id,
)
from tests.conftest import Api, make_settings

pytestmark = pytest.mark.dates  # reads the date: CI runs it again a year ahead (.ci/run)

NODE = "query ($id: ID!) { node(id: $id) { id ... on Cart { totalQuantity } } }"


def key_of(cart_id: str) -> str:
    type_name, _, key = base64.b64decode(cart_id).decode().partition(":")
    assert type_name == "Cart"
    return key


async def codes(api: Api, document: str, variables: dict) -> list[str]:
    body = await api.gql(document, variables)
    if body.get("errors"):
        return [e["extensions"]["code"] for e in body["errors"]]
    payload = next(iter(body["data"].values()))
    return [e["code"] for e in payload["userErrors"]]


async def test_a_cart_id_is_an_unguessable_secret_the_database_does_not_keep(api: Api):
    first, second = await create_cart(api), await create_cart(api)
    keys = [key_of(first["id"]), key_of(second["id"])]
    assert keys[0] != keys[1]
    assert all(len(k) == 43 for k in keys)  # 32 random bytes, URL-safe base64: 256 bits
    async with api.store.engine.connect() as conn:
        rows = [tuple(map(str, r)) for r in await conn.execute(sa.select(carts))]
    assert not any(k in field for row in rows for field in row for k in keys)
    # Any device with the id sees the same cart; `node` resolves it too.
    assert (await api.data(CART, {"id": first["id"]}))["cart"]["id"] == first["id"]
    assert (await api.data(NODE, {"id": first["id"]}))["node"] == {
        "id": first["id"],
        "totalQuantity": 0,
    }


@pytest.mark.parametrize(
    "bad",
    [
        "not-an-id",
        gid("Cart", "short"),
        gid("Cart", "x" * 42 + "!"),
        gid("Cart", "x" * 44),
        gid("Product", "x" * 43),
        gid("Cart", 12),
    ],
)
async def test_malformed_cart_ids_are_bad_user_input(api: Api, bad: str):
    assert await api.error_codes(CART, {"id": bad}) == ["BAD_USER_INPUT"]
    assert await api.error_codes(NODE, {"id": bad}) == ["BAD_USER_INPUT"]
    assert await codes(api, LINES_ADD, {"cartId": bad, "lines": [line(1)]}) == ["BAD_USER_INPUT"]


async def test_a_well_formed_unknown_cart_is_null_or_cart_not_found(api: Api):
    unknown = gid("Cart", "A" * 43)
    assert (await api.data(CART, {"id": unknown}))["cart"] is None
    assert (await api.data(NODE, {"id": unknown}))["node"] is None
    assert await codes(api, LINES_ADD, {"cartId": unknown, "lines": [line(1)]}) == [
        "CART_NOT_FOUND"
    ]


async def test_lines_merge_change_quantity_and_go(api: Api):
    await set_stock(api, 1, SEATTLE, 10)
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), line(2))
    added = await api.data(
        LINES_ADD, {"cartId": cart["id"], "lines": [line(1, 3, "PICKUP", SEATTLE), line(3)]}
    )
    lines = added["cartLinesAdd"]["cart"]["lines"]
    assert [(ln["variant"]["id"], ln["quantity"]) for ln in lines] == [
        (variant_id(1), 5),  # the same variant and fulfillment: one line grows
        (variant_id(2), 1),
        (variant_id(3), 1),
    ]
    assert lines[0]["held"] == 5
    assert await level(api, 1, SEATTLE) == {"onHand": 10, "reserved": 5, "available": 5}

    updated = await api.data(
        LINES_UPDATE,
        {"cartId": cart["id"], "lines": [{"id": lines[0]["id"], "quantity": 2},
                                         {"id": lines[1]["id"], "quantity": 0}]},
    )  # fmt: skip
    lines = updated["cartLinesUpdate"]["cart"]["lines"]
    assert [(ln["variant"]["id"], ln["quantity"]) for ln in lines] == [
        (variant_id(1), 2),
        (variant_id(3), 1),
    ]
    assert await level(api, 1, SEATTLE) == {"onHand": 10, "reserved": 2, "available": 8}

    removed = await api.data(LINES_REMOVE, {"cartId": cart["id"], "lineIds": [lines[0]["id"]]})
    cart = removed["cartLinesRemove"]["cart"]
    assert [ln["variant"]["id"] for ln in cart["lines"]] == [variant_id(3)]
    assert cart["subtotal"]["amount"] == cart["lines"][0]["total"]["amount"]
    assert await level(api, 1, SEATTLE) == {"onHand": 10, "reserved": 0, "available": 10}
    await reservations_consistent(api)


async def test_another_carts_line_is_not_found_and_nothing_changes(api: Api):
    mine = await create_cart(api, line(1))
    theirs = await create_cart(api, line(2))
    their_line = theirs["lines"][0]["id"]
    for document, variables in [
        (LINES_REMOVE, {"cartId": mine["id"], "lineIds": [their_line]}),
        (LINES_UPDATE, {"cartId": mine["id"], "lines": [{"id": their_line, "quantity": 4}]}),
    ]:
        assert await codes(api, document, variables) == ["LINE_NOT_FOUND"]
    assert (await api.data(CART, {"id": theirs["id"]}))["cart"]["lines"][0]["quantity"] == 1
    assert await codes(api, LINES_REMOVE, {"cartId": mine["id"], "lineIds": ["bad"]}) == [
        "BAD_USER_INPUT"
    ]


async def test_bad_lines_are_user_errors_and_nothing_is_applied(api: Api):
    cart = await create_cart(api, line(1))
    bad = [
        line(1, 0),  # quantity
        line(999999),  # variant
        line(1, 1, "PICKUP"),  # no store
        line(1, 1, "PICKUP", BERKELEY),  # no pickup there
        line(1, 1, "SHIP", SEATTLE),  # SHIP takes no location
        line(1, 1, "SHIP_FROM_STORE", BELLEVUE),  # Bellevue does not ship
        line(1, 1, "RESERVE", RENO),  # a warehouse
        line(1, 1, "IN_STORE", SEATTLE),  # till sales only
        {**line(1, 1, "PICKUP"), "fulfillment": {"mode": "PICKUP", "locationId": location_id(99)}},
    ]
    body = await api.data(LINES_ADD, {"cartId": cart["id"], "lines": bad})
    errors = body["cartLinesAdd"]["userErrors"]
    assert body["cartLinesAdd"]["cart"] is None
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID", ["lines", "0", "quantity"]),
        ("VARIANT_NOT_FOUND", ["lines", "1", "variantId"]),
        *(("INVALID_FULFILLMENT", ["lines", str(n), "fulfillment"]) for n in range(2, 8)),
        ("LOCATION_NOT_FOUND", ["lines", "8", "fulfillment", "locationId"]),
    ]
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["totalQuantity"] == 1
    neither = await codes(
        api, LINES_UPDATE, {"cartId": cart["id"], "lines": [{"id": cart["lines"][0]["id"]}]}
    )
    assert neither == ["INVALID"]
    create = await api.data(CART_CREATE, {"input": {"lines": [line(999999)]}})
    assert [e["code"] for e in create["cartCreate"]["userErrors"]] == ["VARIANT_NOT_FOUND"]


async def test_line_limits(api: Api):
    many = [line(n) for n in range(1, 102)]
    body = await api.data(CART_CREATE, {"input": {"lines": many}})
    assert [e["code"] for e in body["cartCreate"]["userErrors"]] == ["TOO_MANY_LINES"]
    too_many = [line(1)] * 251
    assert await api.error_codes(CART_CREATE, {"input": {"lines": too_many}}) == ["BAD_USER_INPUT"]


async def test_status_says_available_short_or_unavailable_where_the_line_is(api: Api):
    await set_stock(api, 1, SEATTLE, 2)
    await set_stock(api, 2, SEATTLE, 0)
    cart = await create_cart(api, line(1, 3, "PICKUP", SEATTLE), line(2, 1, "PICKUP", SEATTLE))
    short, none = cart["lines"]
    # A hold is all or nothing: the short line holds nothing; checkout tries for all of it.
    assert (short["status"], short["available"], short["held"]) == ("SHORT", 2, 0)
    assert (none["status"], none["available"]) == ("UNAVAILABLE", 0)
    assert await level(api, 1, SEATTLE) == {"onHand": 2, "reserved": 0, "available": 2}


async def test_prices_come_from_the_catalog_when_read(api: Api):
    cart = await create_cart(api, line(1, 2))
    async with api.store.engine.begin() as conn:
        await conn.execute(sa.update(variants).where(variants.c.id == 1).values(price_minor=1999))
    # Whoever changes the catalog says so (as the ERP sync does), and caches forget the old price.
    await api.gateway.events.publish(CatalogChanged((1,), "PRICE", datetime.now(UTC)))
    cart = (await api.data(CART, {"id": cart["id"]}))["cart"]
    assert cart["lines"][0]["unitPrice"]["amount"] == "19.99"
    assert cart["subtotal"] == {"amount": "39.98", "currencyCode": "USD"}


async def test_an_expired_hold_is_released_when_the_cart_is_read(api: Api):
    await set_stock(api, 1, SEATTLE, 1)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    assert cart["lines"][0]["heldUntil"] is not None
    api.advance(minutes=16)
    assert (await level(api, 1, SEATTLE))["reserved"] == 1  # nobody has looked yet
    line_now = (await api.data(CART, {"id": cart["id"]}))["cart"]["lines"][0]
    assert (line_now["held"], line_now["heldUntil"], line_now["status"]) == (0, None, "AVAILABLE")
    assert await level(api, 1, SEATTLE) == {"onHand": 1, "reserved": 0, "available": 1}
    await reservations_consistent(api)


async def test_every_change_renews_the_holds(api: Api):
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE))
    api.advance(minutes=10)
    await api.data(LINES_ADD, {"cartId": cart["id"], "lines": [line(2)]})
    api.advance(minutes=10)  # 20 minutes after the hold was taken, 10 after the last change
    assert (await api.data(CART, {"id": cart["id"]}))["cart"]["lines"][0]["held"] == 1
    await api.gateway.sweep()  # nothing has expired: the hold stays
    assert (await level(api, 1, SEATTLE))["reserved"] == 1


async def test_the_sweeper_releases_expired_holds_and_forgets_idle_carts(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE))
    received = []

    async def listen():
        async for event in api.gateway.events.subscribe("cart"):
            received.append(event)
            return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    api.advance(minutes=16)
    report = await api.gateway.sweep()
    assert report.holds_released == 1
    assert await level(api, 1, SEATTLE) == {"onHand": 3, "reserved": 0, "available": 3}
    await asyncio.wait_for(listener, 5)
    assert received[0].reason == "HOLDS_EXPIRED"

    api.advance(days=31)
    assert (await api.data(CART, {"id": cart["id"]}))["cart"] is None
    assert await codes(api, LINES_ADD, {"cartId": cart["id"], "lines": [line(1)]}) == [
        "CART_NOT_FOUND"
    ]
    assert (await api.gateway.sweep()).carts_deleted == 1
    async with api.store.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(carts)) == 0


async def test_the_gateway_sweeps_in_the_background(database_url: str):
    app = create_app(make_settings(database_url, reservation_sweep_seconds=0.05))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            api = Api(app, client)
            await set_stock(api, 1, SEATTLE, 2)
            await create_cart(api, line(1, 2, "PICKUP", SEATTLE))
            assert (await level(api, 1, SEATTLE))["reserved"] == 2
            api.advance(minutes=16)
            for _ in range(100):
                if (await level(api, 1, SEATTLE))["reserved"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert await level(api, 1, SEATTLE) == {"onHand": 2, "reserved": 0, "available": 2}


async def test_cart_changes_are_published(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    received: dict[str, list] = {"cart": [], "stock": []}

    async def listen(topic: str):
        async for event in api.gateway.events.subscribe(topic):
            received[topic].append(event)
            return

    listeners = [asyncio.create_task(listen(t)) for t in received]
    await asyncio.sleep(0)
    await create_cart(api, line(1, 2, "PICKUP", SEATTLE))
    await asyncio.wait_for(asyncio.gather(*listeners), 5)
    assert received["cart"][0].reason == "CREATED"
    stock = received["stock"][0]
    assert (stock.variant_id, stock.location_id, stock.reserved, stock.reason) == (
        1,
        SEATTLE,
        2,
        "HOLD",
    )
